// Docker's multiplexed stream (pkg/stdcopy): each frame is an 8-byte header
// (stream id, 3 zero bytes, big-endian uint32 length) followed by the payload.
// Stream 0 (stdin) and 1 go to stdout, 2 to stderr, 3 is an error from the
// daemon that ends the copy.

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
const SYSTEMERR = 3;

export class StreamError extends Error {}

export interface DemuxSinks {
  stdout: (chunk: Buffer) => void;
  stderr: (chunk: Buffer) => void;
}

/** Incremental demultiplexer: feed it chunks as they arrive. */
export class Demuxer {
  private pending: Buffer = Buffer.alloc(0);
  private failed: StreamError | undefined;

  constructor(private readonly sinks: DemuxSinks) {}

  /** Consumes a chunk; throws StreamError for a stream-3 frame or an unknown stream id. */
  push(chunk: Buffer): void {
    if (this.failed) throw this.failed;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 8) {
      const stream = this.pending[0]!;
      if (stream > SYSTEMERR) {
        this.failed = new StreamError(`Unrecognized input header: ${stream}`);
        throw this.failed;
      }
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const payload = this.pending.subarray(8, 8 + size);
      this.pending = this.pending.subarray(8 + size);
      switch (stream) {
        case STDIN:
        case STDOUT:
          if (payload.length > 0) this.sinks.stdout(payload);
          break;
        case STDERR:
          if (payload.length > 0) this.sinks.stderr(payload);
          break;
        default:
          this.failed = new StreamError(`error from daemon in stream: ${payload.toString('utf8')}`);
          throw this.failed;
      }
    }
  }

  /** Bytes of an incomplete trailing frame (none when the stream ended cleanly). */
  get leftover(): number {
    return this.pending.length;
  }
}

/** Splits a complete multiplexed buffer into its stdout and stderr bytes. */
export function demuxBuffer(data: Buffer): { stdout: Buffer; stderr: Buffer } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  new Demuxer({ stdout: (c) => out.push(c), stderr: (c) => err.push(c) }).push(data);
  return { stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
}

/** One frame, as the daemon writes it (for tests and fakes). */
export function frame(stream: number, payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}
