// Progress display for long volume transfers (export, import, clone) on
// stderr: a bar on a terminal (cli-progress), a line per second for `plain`,
// a JSON object per line for `json`, or nothing.
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { humanSize } from '../go/units.js';
import { flagValueError } from './command.js';

export const PROGRESS_MODES = ['auto', 'plain', 'json', 'none'] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

export const PROGRESS_HELP = 'Progress on stderr: "auto" (a bar on a terminal), "plain", "json" or "none"';

/** The --progress flag's value, checked. */
export function progressFlag(cmd: Command, value: string | undefined): ProgressMode {
  const v = value ?? 'auto';
  if (!(PROGRESS_MODES as readonly string[]).includes(v)) throw flagValueError(cmd, '--progress', v, 'must be "auto", "plain", "json" or "none"');
  return v as ProgressMode;
}

export interface ProgressCounts {
  /** Bytes moved so far (archive bytes for export/import, file data for clone). */
  bytes: number;
  files: number;
  totalBytes?: number;
  totalFiles?: number;
}

/** What `json` mode prints, one object per line. */
export interface ProgressRecord {
  bytes: number;
  files: number;
  totalBytes: number | null;
  totalFiles: number | null;
  /** Bytes per second, averaged since the start. */
  rate: number;
}

type Output = NodeJS.WritableStream & { isTTY?: boolean };

function seconds(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export class ProgressDisplay {
  private counts: ProgressCounts = { bytes: 0, files: 0 };
  private readonly started = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private bar: cliProgress.SingleBar | undefined;
  private done = false;
  private readonly kind: 'bar' | 'plain' | 'json' | 'none';

  /** `verb` is the -ing form shown while running ("Exporting"), `past` the end form ("Exported"). */
  constructor(
    mode: ProgressMode,
    private readonly verb: string,
    private readonly past: string,
    private readonly name: string,
    private readonly out: Output = process.stderr,
  ) {
    this.kind = mode === 'auto' ? (out.isTTY ? 'bar' : 'none') : mode === 'plain' || mode === 'json' || mode === 'none' ? mode : 'none';
    if (this.kind === 'bar') {
      this.bar = new cliProgress.SingleBar(
        {
          stream: out as NodeJS.WritableStream,
          format: `${verb} {name} [{bar}] {percentage}% | {size} | {filesText} | {rateText} | ETA {etaText}`,
          barsize: 24,
          hideCursor: true,
          clearOnComplete: false,
          emptyOnZero: true,
          fps: 5,
          etaBuffer: 1,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(0, 0, this.payload());
    } else if (this.kind === 'plain' || this.kind === 'json') {
      this.timer = setInterval(() => this.emit(), 1000);
      this.timer.unref();
    }
  }

  update(counts: Partial<ProgressCounts>): void {
    if (this.done) return;
    this.counts = { ...this.counts, ...counts };
    if (this.bar) {
      const total = this.counts.totalBytes ?? 0;
      if (this.bar.getTotal() !== total) this.bar.setTotal(total);
      this.bar.update(this.counts.bytes, this.payload());
    }
  }

  /** The final render: the bar at its end state, the closing plain line or JSON object. Once only. */
  finish(ok: boolean, final?: Partial<ProgressCounts>): void {
    if (this.done) return;
    if (final) this.update(final);
    this.done = true;
    if (this.timer) clearInterval(this.timer);
    if (this.bar) {
      if (ok && this.counts.totalBytes !== undefined && this.counts.bytes >= this.counts.totalBytes) this.bar.setTotal(this.counts.bytes);
      this.bar.update(this.counts.bytes, this.payload(ok));
      this.bar.stop();
      return;
    }
    if (this.kind === 'json') this.out.write(`${JSON.stringify(this.record())}\n`);
    else if (this.kind === 'plain') {
      const elapsed = Date.now() - this.started;
      const status = ok ? this.past : `${this.verb} failed:`;
      this.out.write(`${status} ${this.name}: ${humanSize(this.counts.bytes)}, ${this.counts.files} files in ${seconds(elapsed)} (${humanSize(this.rate())}/s)\n`);
    }
  }

  record(): ProgressRecord {
    return {
      bytes: this.counts.bytes,
      files: this.counts.files,
      totalBytes: this.counts.totalBytes ?? null,
      totalFiles: this.counts.totalFiles ?? null,
      rate: Math.round(this.rate()),
    };
  }

  private rate(): number {
    const elapsed = (Date.now() - this.started) / 1000;
    return elapsed > 0 ? this.counts.bytes / elapsed : 0;
  }

  private etaText(): string {
    const { bytes, totalBytes } = this.counts;
    const rate = this.rate();
    if (totalBytes === undefined || rate <= 0) return '-';
    return seconds(((Math.max(0, totalBytes - bytes)) / rate) * 1000);
  }

  private sizeText(): string {
    const { bytes, totalBytes } = this.counts;
    return totalBytes === undefined ? humanSize(bytes) : `${humanSize(bytes)}/${humanSize(totalBytes)}`;
  }

  private filesText(): string {
    const { files, totalFiles } = this.counts;
    return totalFiles === undefined ? `${files} files` : `${files}/${totalFiles} files`;
  }

  private payload(ended = false): Record<string, string> {
    return {
      name: this.name,
      size: this.sizeText(),
      filesText: this.filesText(),
      rateText: `${humanSize(this.rate())}/s`,
      etaText: ended ? '0s' : this.etaText(),
    };
  }

  private emit(): void {
    if (this.done) return;
    if (this.kind === 'json') this.out.write(`${JSON.stringify(this.record())}\n`);
    else this.out.write(`${this.verb} ${this.name}: ${this.sizeText()}, ${this.filesText()}, ${humanSize(this.rate())}/s, ETA ${this.etaText()}\n`);
  }
}
