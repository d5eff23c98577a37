// Progress of pulls and pushes (and, later, builds) as dockerd streams it:
// one JSON message per line, shaped by moby's streamformatter, so the docker
// CLI draws its bars from them. Byte counts are reported at most every 100 ms
// or 512 KiB, as moby's progress reader does.
import { progressString, type JSONMessage } from '../go/jsonmessage.js';

/** dockerd renders the bar for a 200-column terminal (it has none). */
const DAEMON_WIDTH = 200;
const UPDATE_EVERY_BYTES = 512 * 1024;
const UPDATE_EVERY_MS = 100;

export type MessageSink = (message: JSONMessage) => void;

export class Progress {
  constructor(private readonly sink: MessageSink) {}

  /** A plain status line: "Digest: sha256:…", or "latest: Pulling from library/busybox" with an id. */
  message(status: string, id?: string): void {
    this.sink(id !== undefined && id !== '' ? { status, id } : { status });
  }

  /** A step of one item without counts: "Pulling fs layer", "Download complete". */
  update(id: string, action: string): void {
    this.sink({ status: action, progressDetail: {}, id });
  }

  /** Bytes done of a step: "Downloading", "Extracting", "Pushing". */
  bytes(id: string, action: string, current: number, total: number): void {
    const detail = { current, total };
    const bar = progressString(detail, DAEMON_WIDTH);
    this.sink({ status: action, progressDetail: detail, ...(bar !== '' ? { progress: bar } : {}), id });
  }

  /** An aux message (push's {Tag, Digest, Size}). */
  aux(value: unknown): void {
    this.sink({ progressDetail: {}, aux: value });
  }

  /** A counter for one item's bytes that reports no more often than moby's progress reader. */
  counter(id: string, action: string, total: number, start = 0): ByteCounter {
    return new ByteCounter(this, id, action, total, start);
  }
}

export class ByteCounter {
  private lastBytes: number;
  private lastTime = 0;

  constructor(
    private readonly progress: Progress,
    private readonly id: string,
    private readonly action: string,
    private readonly total: number,
    private current: number,
  ) {
    this.lastBytes = current;
  }

  add(n: number): void {
    this.current += n;
    const now = Date.now();
    if (this.current - this.lastBytes >= UPDATE_EVERY_BYTES || now - this.lastTime >= UPDATE_EVERY_MS) this.report(now);
  }

  /** The final count. */
  finish(): void {
    if (this.current !== this.lastBytes || this.lastTime === 0) this.report(Date.now());
  }

  private report(now: number): void {
    this.lastBytes = this.current;
    this.lastTime = now;
    this.progress.bytes(this.id, this.action, this.current, this.total);
  }
}
