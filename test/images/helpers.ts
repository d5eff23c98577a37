// Test helpers for the image store: a raw tar writer (so tests can build
// archives no well-behaved tar tool would produce), `docker save` archive
// builders, and a per-test store whose mounts and files are always cleaned up.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { EventBus, type EngineEvent } from '../../src/events/bus.js';
import { ImageService } from '../../src/images/service.js';
import { unmount } from '../../src/images/overlay.js';
import { mountsUnder as mountInfoUnder } from '../../src/util/mount.js';
import { buildBusyboxRootfs } from '../helpers/busybox.js';

export interface RawEntry {
  path: string;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';
  content?: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  linkpath?: string;
  devmajor?: number;
  devminor?: number;
  mtime?: number;
  /** Extra PAX records (e.g. SCHILY.xattr.user.x, or a hostile `path`). */
  pax?: Record<string, string>;
  /** Emit a GNU 'L' long-name record carrying this name. */
  gnuLongName?: string;
}

const TYPEFLAG: Record<NonNullable<RawEntry['type']>, string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
};

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, typeflag: string, size: number, e: Partial<RawEntry>): Buffer {
  const b = Buffer.alloc(512);
  const nameBytes = Buffer.from(name, 'utf8');
  nameBytes.copy(b, 0, 0, Math.min(100, nameBytes.length));
  b.write(octal(e.mode ?? (typeflag === '5' ? 0o755 : 0o644), 8), 100, 'latin1');
  b.write(octal(e.uid ?? 0, 8), 108, 'latin1');
  b.write(octal(e.gid ?? 0, 8), 116, 'latin1');
  b.write(octal(size, 12), 124, 'latin1');
  b.write(octal(e.mtime ?? 1_700_000_000, 12), 136, 'latin1');
  b.write('        ', 148, 'latin1');
  b.write(typeflag, 156, 'latin1');
  if (e.linkpath) Buffer.from(e.linkpath, 'utf8').copy(b, 157, 0, 100);
  b.write('ustar\0', 257, 'latin1');
  b.write('00', 263, 'latin1');
  b.write(octal(e.devmajor ?? 0, 8), 329, 'latin1');
  b.write(octal(e.devminor ?? 0, 8), 337, 'latin1');
  let sum = 0;
  for (const x of b) sum += x;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return b;
}

function pad(data: Buffer): Buffer {
  const rem = data.length % 512;
  return rem === 0 ? data : Buffer.concat([data, Buffer.alloc(512 - rem)]);
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const n = Buffer.byteLength(body);
  let len = n + 1;
  while (String(len).length + n !== len) len = String(len).length + n;
  return `${len}${body}`;
}

/** Builds a tar archive byte for byte from `entries`, no questions asked. */
export function makeTar(entries: RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? 'file';
    const content = type === 'file' ? Buffer.from(e.content ?? '') : Buffer.alloc(0);
    const pax: Record<string, string> = { ...(e.pax ?? {}) };
    if (Buffer.byteLength(e.path) > 100 && pax.path === undefined) pax.path = e.path;
    if (e.linkpath && Buffer.byteLength(e.linkpath) > 100 && pax.linkpath === undefined) pax.linkpath = e.linkpath;
    if (Object.keys(pax).length > 0) {
      const data = Buffer.from(Object.entries(pax).map(([k, v]) => paxRecord(k, v)).join(''), 'utf8');
      parts.push(header('PaxHeader', 'x', data.length, {}), pad(data));
    }
    if (e.gnuLongName !== undefined) {
      const data = Buffer.from(e.gnuLongName + '\0', 'utf8');
      parts.push(header('././@LongLink', 'L', data.length, {}), pad(data));
    }
    parts.push(header(e.path, TYPEFLAG[type], content.length, e), pad(content));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

export function streamOf(b: Buffer, chunk = 7000): NodeJS.ReadableStream {
  // Small, odd-sized chunks exercise the reader's block reassembly.
  return Readable.from(
    (function* () {
      for (let i = 0; i < b.length; i += chunk) yield b.subarray(i, i + chunk);
    })(),
  );
}

export interface SaveImage {
  layers: Buffer[];
  repoTags?: string[];
  config?: Record<string, unknown>;
}

export interface SaveOptions {
  layout?: 'legacy' | 'oci';
  gzipLayers?: boolean;
  /** Override a layer's diff_id in the config (to forge a mismatch). */
  diffIds?: string[];
  /** Mutate the manifest before it is written. */
  editManifest?: (m: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }>) => void;
  /** Extra raw entries appended to the archive. */
  extra?: RawEntry[];
  /** OCI layout only: leave out manifest.json so index.json alone describes the images. */
  omitManifestJson?: boolean;
}

export function imageConfig(layers: Buffer[], config: Record<string, unknown> = {}, diffIds?: string[]): Buffer {
  const cfg = {
    architecture: 'amd64',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], ...config },
    created: '2024-05-01T12:00:00.123456789Z',
    history: layers.map((_, i) => ({ created: '2024-05-01T12:00:00Z', created_by: `layer ${i}` })),
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: diffIds ?? layers.map((l) => `sha256:${sha256(l)}`) },
  };
  return Buffer.from(JSON.stringify(cfg));
}

/** A `docker save` archive for one or more images. */
export function makeSaveArchive(images: SaveImage[], opts: SaveOptions = {}): Buffer {
  const entries: RawEntry[] = [];
  const seen = new Set<string>();
  const add = (e: RawEntry): void => {
    if (seen.has(e.path)) return;
    seen.add(e.path);
    entries.push(e);
  };
  const manifest: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = [];
  const ociManifests: Array<Record<string, unknown>> = [];
  for (const img of images) {
    const blobs = img.layers.map((l) => (opts.gzipLayers ? gzipSync(l) : l));
    const configBytes = imageConfig(img.layers, img.config, opts.diffIds);
    const configHex = sha256(configBytes);
    if (opts.layout === 'oci') {
      add({ path: 'blobs/', type: 'dir' });
      add({ path: 'blobs/sha256/', type: 'dir' });
      const layerPaths = blobs.map((b) => {
        const p = `blobs/sha256/${sha256(b)}`;
        add({ path: p, content: b });
        return p;
      });
      add({ path: `blobs/sha256/${configHex}`, content: configBytes });
      const m = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${configHex}`, size: configBytes.length },
          layers: blobs.map((b) => ({
            mediaType: opts.gzipLayers ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar',
            digest: `sha256:${sha256(b)}`,
            size: b.length,
          })),
        }),
      );
      add({ path: `blobs/sha256/${sha256(m)}`, content: m });
      const ann: Record<string, string> = {};
      if (img.repoTags?.[0]) {
        ann['io.containerd.image.name'] = img.repoTags[0];
        ann['org.opencontainers.image.ref.name'] = img.repoTags[0].split(':').pop()!;
      }
      ociManifests.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha256(m)}`, size: m.length, annotations: ann });
      manifest.push({ Config: `blobs/sha256/${configHex}`, RepoTags: img.repoTags ?? null, Layers: layerPaths });
    } else {
      const layerPaths = blobs.map((b, i) => {
        const id = sha256(`${configHex}-${i}`);
        add({ path: `${id}/`, type: 'dir' });
        add({ path: `${id}/VERSION`, content: '1.0' });
        add({ path: `${id}/json`, content: JSON.stringify({ id }) });
        add({ path: `${id}/layer.tar`, content: b });
        return `${id}/layer.tar`;
      });
      add({ path: `${configHex}.json`, content: configBytes });
      manifest.push({ Config: `${configHex}.json`, RepoTags: img.repoTags ?? null, Layers: layerPaths });
    }
  }
  opts.editManifest?.(manifest);
  if (opts.layout === 'oci') {
    add({ path: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' });
    add({ path: 'index.json', content: JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: ociManifests }) });
  }
  if (!(opts.layout === 'oci' && opts.omitManifestJson)) add({ path: 'manifest.json', content: JSON.stringify(manifest) });
  for (const e of opts.extra ?? []) entries.push(e);
  return makeTar(entries);
}

/** A busybox rootfs tar with a few extra files, via GNU tar (a "real" layer). */
export function busyboxLayer(extra: (root: string) => void = () => {}): Buffer {
  const work = mkdtempSync(join(tmpdir(), 'berth-img-layer-'));
  try {
    const root = buildBusyboxRootfs(join(work, 'rootfs'));
    extra(root);
    const out = join(work, 'layer.tar');
    execFileSync('tar', ['-C', root, '--numeric-owner', '--xattrs', '-cf', out, '.']);
    return readFileSync(out);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

let cachedBusybox: Buffer | null = null;
/** The standard busybox layer (cached per process), with /opq/{a,b} and /data/gone added. */
export function standardBusyboxLayer(): Buffer {
  cachedBusybox ??= busyboxLayer((root) => {
    mkdirSync(join(root, 'opq'));
    writeFileSync(join(root, 'opq', 'a'), 'a\n');
    writeFileSync(join(root, 'opq', 'b'), 'b\n');
    writeFileSync(join(root, 'data', 'gone'), 'to be whited out\n');
  });
  return cachedBusybox;
}

export interface TestStore {
  /** The test's private temp directory (store at `${dir}/image`). */
  dir: string;
  store: ImageService;
  /** Re-opens the store on the same root (simulates a daemon restart). */
  reopen(): ImageService;
  /** Events the store has published so far, oldest first. */
  events(): EngineEvent[];
}

/** Mount points at or below `dir`. */
function mountsUnder(dir: string): string[] {
  return mountInfoUnder(dir).map((m) => m.mountPoint);
}

const createdDirs: string[] = [];

// Final check for every test file: nothing this process mounted is left in
// /proc/self/mountinfo (each test also unmounts in its own t.after).
after(() => {
  const left = createdDirs.flatMap((d) => mountsUnder(d));
  assert.deepEqual(left, [], `mounts left behind: ${left.join(', ')}`);
});

/** A fresh store in a private temp dir; everything mounted under it is unmounted and it is deleted after the test. */
export function makeStore(t: TestContext): TestStore {
  const dir = mkdtempSync(join(tmpdir(), 'berth-images-test-'));
  createdDirs.push(dir);
  t.after(async () => {
    for (const m of mountsUnder(dir).reverse()) await unmount(m).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });
  const root = join(dir, 'image');
  const bus = new EventBus();
  const open = (): ImageService => new ImageService({ root, log: pino({ level: 'silent' }), events: bus });
  const events = (): EngineEvent[] => {
    const sub = bus.subscribe(() => {});
    sub.unsubscribe();
    return sub.past;
  };
  return { dir, store: open(), reopen: open, events };
}

export function mountedUnder(dir: string): string[] {
  return mountsUnder(dir);
}
