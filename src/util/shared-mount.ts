// berthd's data root as a shared mount of its own. Helpers that need a
// private view of the host's mounts (docker cp's archive helper) are started
// ahead of time in a mount namespace of their own; as slaves of this mount
// they receive the mounts and unmounts made under the data root after they
// started: a container's rootfs mounted for a `docker cp` into a stopped
// container is there, and a rootfs unmounted at a container's exit is not
// kept alive in them. containerd and Podman make their roots mounts of
// their own for the same kind of reason.
import { realpathSync } from 'node:fs';
import * as libc from './libc.js';
import { readMountInfo } from './mount.js';

export class SharedMount {
  private constructor(
    readonly path: string,
    /** The directory is bound onto itself (by this berthd or an earlier one): unbound when nothing is mounted below. */
    private readonly selfBound: boolean,
  ) {}

  /**
   * Makes `dir` a shared mount, binding it onto itself first when it is not
   * a mount point. One an earlier berthd left (with containers still
   * mounted below) is taken over as it is.
   */
  static share(dir: string): SharedMount {
    const path = realpathSync(dir);
    // The last entry for a path is the one on top.
    const top = readMountInfo().filter((m) => m.mountPoint === path).pop();
    if (!top) libc.mount(path, path, null, libc.MS_BIND, null);
    try {
      libc.mount(null, path, null, libc.MS_SHARED, null);
    } catch (e) {
      if (!top) libc.umount2(path, libc.MNT_DETACH);
      throw e;
    }
    return new SharedMount(path, !top || top.root === path);
  }

  /**
   * Unbinds the directory if it is bound onto itself and nothing is mounted
   * below: running containers keep their rootfs mounted across a daemon
   * restart, and the next berthd takes the mount over.
   */
  release(): void {
    if (!this.selfBound) return;
    try {
      libc.umount2(this.path, 0);
    } catch {
      // EBUSY: mounts below are still in use
    }
  }
}
