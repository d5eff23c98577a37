// Copy-up ("populate volume", spec 6.2) and the image-VOLUME-over-a-file
// check (6.1 step 3).
//
// The copy is done by GNU `cp -a --no-target-directory` (coreutils): it keeps
// files, directories, symlinks (never followed), hard links within the tree,
// FIFOs / device nodes / sockets, owners, modes, timestamps, ACLs and xattrs
// (xattr/SELinux failures do not fail it), and with -T it gives the volume
// directory itself the mode, owner and times of the image directory. It was
// measured faster than a Node walker and a tar pipe (see
// test/mounts/copy-up.bench.ts), and a Node walker cannot create device
// nodes or copy xattrs at all.
//
// Safety: the source root must be a real directory (a symlink there is not
// followed), symlinks inside are copied as symlinks (-a implies -d), the
// destination is the directory opened by fd (cp gets the fd itself) and must
// be empty, so no existing entry can redirect a write. As in
// dockerd, a process that writes into the same volume *while* the copy runs
// (another running container sharing a named volume) is not guarded against.
import { spawn } from 'node:child_process';
import { lstat, readdir } from 'node:fs/promises';
import { SystemError, errorText } from '../errors.js';
import { fdPath } from '../util/libc.js';
import { openInside, resolveInScope, type OpenedPath } from './safe-path.js';

function isMissing(e: unknown): boolean {
  const c = (e as NodeJS.ErrnoException | undefined)?.code;
  return c === 'ENOENT' || c === 'ENOTDIR';
}

/**
 * Runs `cp -a -T -- src/. /proc/self/fd/3/.` with the destination directory
 * handed to cp as its fd 3: cp writes into exactly the directory that was
 * opened, even if its path is swapped for a symlink meanwhile. Rejects with
 * SystemError carrying cp's stderr.
 */
function cpArchive(src: string, dst: OpenedPath): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('cp', ['-a', '--no-target-directory', '--', `${src}/.`, '/proc/self/fd/3/.'], {
      stdio: ['ignore', 'ignore', 'pipe', dst.fd],
      env: { ...process.env, LC_ALL: 'C' },
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      if (stderr.length < 65536) stderr += d;
    });
    child.once('error', (err) => reject(new SystemError(`copy-up from ${src} to ${dst.path} failed: ${errorText(err)}`, { cause: err })));
    child.once('close', (code) => {
      if (code === 0) resolve();
      else reject(new SystemError(`copy-up from ${src} to ${dst.path} failed: ${stderr.trim() || `cp exited with ${code}`}`));
    });
  });
}

/**
 * Copies the image directory `imagePath` into the opened volume directory
 * `volumeDir` when imagePath is a directory (a symlink is not followed:
 * pass a path resolved with resolveInScope) and the volume directory is
 * empty. `volumeDir` may also be a path (opened here). Returns whether it
 * copied. A missing imagePath copies nothing (no error); a missing volume
 * directory is a SystemError, and so is an image file over an empty volume
 * (dockerd's copy refuses a source that is not a directory; a volume with
 * data is not copied into, so it gets no error here).
 */
export async function copyUp(imagePath: string, volumeDir: OpenedPath | string): Promise<boolean> {
  let st;
  try {
    st = await lstat(imagePath);
  } catch (e) {
    if (isMissing(e)) return false;
    throw new SystemError(`copy-up: cannot stat ${imagePath}: ${errorText(e)}`, { cause: e });
  }
  let target: OpenedPath;
  if (typeof volumeDir === 'string') {
    try {
      target = await openInside(volumeDir, '.');
    } catch (e) {
      throw new SystemError(`copy-up: cannot read volume directory ${volumeDir}: ${errorText(e)}`, { cause: e });
    }
  } else {
    target = volumeDir;
  }
  try {
    if (!target.isDirectory) throw new SystemError(`copy-up: volume path ${target.path} is not a directory`);
    let entries: string[];
    try {
      entries = await readdir(fdPath(target.fd));
    } catch (e) {
      throw new SystemError(`copy-up: cannot read volume directory ${target.path}: ${errorText(e)}`, { cause: e });
    }
    // Only an empty directory is filled, so no existing entry can redirect a write.
    if (entries.length > 0) return false;
    if (!st.isDirectory()) throw new SystemError(`source ${imagePath} is not directory`);
    await cpArchive(imagePath, target);
    return true;
  } finally {
    if (typeof volumeDir === 'string') target.close();
  }
}

/**
 * dockerd's check for an image VOLUME whose path exists in the image but is
 * not a directory: throws SystemError
 * `cannot mount volume over existing file, file exists <path>`.
 * `imagePath` should already be resolved inside the root filesystem.
 */
export async function assertNotExistingFile(imagePath: string): Promise<void> {
  let st;
  try {
    st = await lstat(imagePath);
  } catch (e) {
    if (isMissing(e)) return;
    throw new SystemError(`cannot stat ${imagePath}: ${errorText(e)}`, { cause: e });
  }
  if (!st.isDirectory()) {
    throw new SystemError(`cannot mount volume over existing file, file exists ${imagePath}`);
  }
}

/**
 * Resolves a container destination inside the image root filesystem (symlinks
 * stay in the rootfs) and applies assertNotExistingFile. Returns the resolved
 * path, which is also the `imagePath` to give copyUp.
 */
export async function imageVolumePath(rootfs: string, destination: string): Promise<string> {
  const p = await resolveInScope(rootfs, destination);
  await assertNotExistingFile(p);
  return p;
}
