// The memory-backed area a freeze's small captures go to: a tmpfs of its
// own per backup, mounted under the exec root and size-limited, so a freeze
// cannot take more memory than that whatever the volume holds. Areas a
// killed berthd left mounted are unmounted at the next start.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { errorText } from '../errors.js';
import { MS_NODEV, MS_NOEXEC, MS_NOSUID } from '../util/libc.js';
import { mount, mountsUnder, unmount } from '../util/mount.js';
import { generateId } from '../util/random-id.js';
import { SmallCaptureArea } from './engine/capture.js';

/** The tmpfs's size; the captures' budget is a little less (tmpfs counts its own metadata). */
const AREA_BYTES = 256 << 20;
const BUDGET_BYTES = 240 << 20;

export class CaptureAreas {
  constructor(
    /** Where the areas are mounted (under the exec root). */
    private readonly root: string,
    private readonly log: Logger,
  ) {}

  /**
   * A new area, mounted; null when no tmpfs can be mounted here (captures
   * then all go to the volume's own filesystem, as before).
   */
  async open(): Promise<{ area: SmallCaptureArea; close: () => Promise<void> } | null> {
    const dir = join(this.root, generateId().slice(0, 16));
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      await mount('tmpfs', dir, 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, `size=${AREA_BYTES},mode=0700`);
    } catch (e) {
      this.log.warn({ err: errorText(e) }, 'backup: no memory-backed capture area; small captures go to the volume');
      rmSync(dir, { recursive: true, force: true });
      return null;
    }
    return {
      area: new SmallCaptureArea(dir, 1 << 20, BUDGET_BYTES),
      close: async () => {
        await unmount(dir, { lazy: true }).catch((e: unknown) => this.log.warn({ dir, err: errorText(e) }, 'backup: capture area unmount failed'));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }

  /** Unmounts and removes the areas a previous berthd left. */
  async recover(): Promise<void> {
    for (const m of mountsUnder(this.root)) await unmount(m.mountPoint, { lazy: true }).catch(() => undefined);
    let left: string[] = [];
    try {
      left = readdirSync(this.root);
    } catch {
      return;
    }
    for (const name of left) rmSync(join(this.root, name), { recursive: true, force: true });
  }
}
