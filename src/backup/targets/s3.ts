// A repository in S3-compatible object storage (docs/backups.md, "Target").
// Keys are `<prefix>/<kind>/<name>` laid out as on a local target. A PUT,
// and a multipart upload's completion, make an object appear whole or not
// at all, so no temporary names are needed; an upload that fails is aborted.
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  paginateListObjectsV2,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { InvalidParameter, SystemError } from '../../errors.js';
import { GuardedBody } from './bodies.js';
import { checkKind, fileNameAt, filePath } from './layout.js';
import { checkRange, shortRead } from './ranges.js';
import { isMissing, isMissingBucket, missingBucket, missingFile, s3Failure, type S3Place } from './s3-errors.js';
import { resolveS3Settings, type ResolvedS3Settings, type S3Settings } from './s3-settings.js';
import type { FileKind, Target, TargetFile } from './target.js';

const MiB = 1024 * 1024;
/** S3 refuses smaller parts (except the last). */
const MIN_PART_SIZE = 5 * MiB;

export interface S3Tuning {
  /**
   * Bodies up to this size go in one PutObject; larger ones, and streamed
   * ones (size unknown), in parts of this size. 16 MiB, at least 5 MiB.
   */
  partSize?: number;
  /** Parts uploaded at once (2): a put holds about (partUploads + 1) × partSize in memory. */
  partUploads?: number;
  /** Attempts per request, the first included, by the SDK's standard retry strategy (its default: 3, or AWS_MAX_ATTEMPTS). */
  maxAttempts?: number;
  /** Keys asked for per ListObjectsV2 page (S3 answers at most 1000). */
  listPageSize?: number;
}

export interface S3TargetOptions extends S3Settings, S3Tuning {
  bucket: string;
  /** Key prefix, without leading or trailing '/'; empty for the bucket's top. */
  prefix?: string;
  /** Where AWS_* settings are read from; process.env by default. */
  env?: NodeJS.ProcessEnv;
}

/** Opens an S3 target, reading settings the options leave out from the environment (and `_FILE` secrets). */
export async function openS3Target(options: S3TargetOptions): Promise<S3Target> {
  return new S3Target(options.bucket, options.prefix ?? '', await resolveS3Settings(options, options.env), options);
}

function clientConfig(settings: ResolvedS3Settings, tuning: S3Tuning): S3ClientConfig {
  const config: S3ClientConfig = {
    region: settings.region,
    // Bounded waits: a blackholed endpoint fails instead of hanging; an idle
    // socket this long means the transfer is stuck, and the SDK retries it.
    requestHandler: { connectionTimeout: 10_000, socketTimeout: 120_000 },
  };
  if (settings.credentials) config.credentials = settings.credentials;
  if (tuning.maxAttempts !== undefined) config.maxAttempts = tuning.maxAttempts;
  if (settings.endpoint !== undefined) {
    config.endpoint = settings.endpoint;
    // Compatible services rarely have a DNS name per bucket.
    config.forcePathStyle = true;
    // The SDK's default checksum headers (CRC32, aws-chunked trailers) are
    // refused by many compatible services; the repository hashes its files.
    config.requestChecksumCalculation = 'WHEN_REQUIRED';
    config.responseChecksumValidation = 'WHEN_REQUIRED';
  } else {
    config.followRegionRedirects = true;
  }
  return config;
}

export class S3Target implements Target {
  readonly location: string;
  /** The SDK client, for callers that add middleware (tests count requests). */
  readonly client: S3Client;
  private readonly place: S3Place;
  private readonly keyPrefix: string;
  private readonly partSize: number;
  private readonly partUploads: number;
  private readonly listPageSize: number | undefined;
  private bucketChecked: Promise<void> | undefined;

  constructor(
    readonly bucket: string,
    prefix: string,
    settings: ResolvedS3Settings,
    tuning: S3Tuning = {},
  ) {
    if (/^\/|\/$/.test(prefix)) throw new InvalidParameter(`S3 key prefix "${prefix}" must not start or end with "/"`);
    this.keyPrefix = prefix === '' ? '' : `${prefix}/`;
    this.location = prefix === '' ? `s3:${bucket}` : `s3:${bucket}/${prefix}`;
    this.partSize = tuning.partSize ?? 16 * MiB;
    if (this.partSize < MIN_PART_SIZE) throw new InvalidParameter(`S3 part size ${this.partSize} is below S3's minimum of 5 MiB`);
    this.partUploads = tuning.partUploads ?? 2;
    this.listPageSize = tuning.listPageSize;
    this.place = {
      location: this.location,
      endpoint: settings.endpoint ?? `https://s3.${settings.region}.amazonaws.com`,
      bucket,
    };
    // The SDK's notice about its future Node requirement is for berth's
    // maintainers (package.json "engines"), not for every CLI user's terminal.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.client = new S3Client(clientConfig(settings, tuning));
  }

  async get(kind: FileKind, name: string): Promise<Buffer> {
    const rel = filePath(kind, name);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyPrefix + rel }));
      return await bodyBytes(out.Body);
    } catch (e) {
      throw this.readFailure(e, rel);
    }
  }

  async getRange(kind: FileKind, name: string, offset: number, length: number): Promise<Buffer> {
    const rel = filePath(kind, name);
    checkRange(offset, length);
    // HTTP cannot ask for zero bytes; the file must still exist and reach the offset.
    if (length === 0) {
      const file = await this.stat(kind, name);
      if (!file) throw missingFile(this.place, rel);
      if (file.size < offset) throw shortRead(this.location, rel, offset, length, 0);
      return Buffer.alloc(0);
    }
    let bytes: Buffer;
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.keyPrefix + rel, Range: `bytes=${offset}-${offset + length - 1}` }),
      );
      // Servers that ignore Range send the whole object, and some send more
      // than asked (s3rver for "bytes=0-0"): Content-Range says where it starts.
      const start = out.ContentRange === undefined ? 0 : Number(/^bytes (\d+)-/.exec(out.ContentRange)?.[1]);
      if (!(start <= offset)) throw new SystemError(`${this.location}: get ${rel}: asked for bytes from ${offset}, the answer's Content-Range is "${out.ContentRange}"`);
      bytes = (await bodyBytes(out.Body)).subarray(offset - start, offset - start + length);
    } catch (e) {
      if ((e as { name?: string }).name === 'InvalidRange') throw shortRead(this.location, rel, offset, length, 0);
      throw this.readFailure(e, rel);
    }
    if (bytes.length < length) throw shortRead(this.location, rel, offset, length, bytes.length);
    return bytes;
  }

  async put(kind: FileKind, name: string, body: Buffer | AsyncIterable<Buffer>): Promise<void> {
    const rel = filePath(kind, name);
    const target = { Bucket: this.bucket, Key: this.keyPrefix + rel };
    const guarded = new GuardedBody(body);
    try {
      if (Buffer.isBuffer(body) && body.length <= this.partSize) {
        await this.client.send(new PutObjectCommand({ ...target, Body: body, ContentLength: body.length }));
        return;
      }
      // Upload cuts the body into parts as it streams (one PutObject when it
      // ends within the first part) and aborts the multipart upload on failure.
      // A byte stream with a small buffer: the default object mode would read
      // 16 chunks ahead of the parts being cut.
      const stream = Buffer.isBuffer(body) ? body : Readable.from(guarded, { objectMode: false, highWaterMark: 64 * 1024 });
      const upload = new Upload({ client: this.client, params: { ...target, Body: stream }, partSize: this.partSize, queueSize: this.partUploads });
      await upload.done();
    } catch (e) {
      // When the body failed, that is the news, not a failure to abort the upload after it.
      throw s3Failure(guarded.failure ?? e, this.place, `put ${rel}`);
    }
  }

  async delete(kind: FileKind, name: string): Promise<void> {
    const rel = filePath(kind, name);
    try {
      // S3 answers a missing key with success, as the Target contract wants.
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyPrefix + rel }));
    } catch (e) {
      throw s3Failure(e, this.place, `delete ${rel}`);
    }
  }

  async *list(kind: FileKind): AsyncIterable<TargetFile> {
    checkKind(kind);
    const pages = paginateListObjectsV2(
      { client: this.client, ...(this.listPageSize !== undefined ? { pageSize: this.listPageSize } : {}) },
      { Bucket: this.bucket, Prefix: `${this.keyPrefix}${kind}/` },
    );
    const iterator = pages[Symbol.asyncIterator]();
    try {
      for (;;) {
        let page;
        try {
          page = await iterator.next();
        } catch (e) {
          throw s3Failure(e, this.place, `list ${kind}`);
        }
        if (page.done) return;
        for (const object of page.value.Contents ?? []) {
          // Anything else under the prefix (foreign keys, misplaced data) is not the repository's.
          const name = object.Key === undefined ? undefined : fileNameAt(kind, object.Key.slice(this.keyPrefix.length));
          if (name !== undefined) yield { name, size: object.Size ?? 0 };
        }
      }
    } finally {
      // A caller that stops early ends the paginator too.
      await iterator.return?.(undefined);
    }
  }

  async stat(kind: FileKind, name: string): Promise<TargetFile | undefined> {
    const rel = filePath(kind, name);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyPrefix + rel }));
      return { name, size: head.ContentLength ?? 0 };
    } catch (e) {
      if (!isMissing(e)) throw s3Failure(e, this.place, `stat ${rel}`);
    }
    // A HEAD answer has no body to say whether the key or the bucket is missing.
    await this.checkBucket();
    return undefined;
  }

  /** Closes the client's connections. */
  close(): void {
    this.destroy();
  }

  destroy(): void {
    this.client.destroy();
  }

  /** Succeeds once the bucket is known to exist; a missing bucket is a clear error. */
  private checkBucket(): Promise<void> {
    this.bucketChecked ??= this.client.send(new HeadBucketCommand({ Bucket: this.bucket })).then(
      () => undefined,
      (e: unknown) => {
        this.bucketChecked = undefined;
        throw isMissing(e) ? missingBucket(this.place, e) : s3Failure(e, this.place, 'check the bucket');
      },
    );
    return this.bucketChecked;
  }

  private readFailure(e: unknown, rel: string): unknown {
    if (isMissing(e) && !isMissingBucket(e)) return missingFile(this.place, rel, e);
    return s3Failure(e, this.place, `get ${rel}`);
  }
}

/** The whole of a GetObject response's body, without an extra copy. */
async function bodyBytes(body: { transformToByteArray(): Promise<Uint8Array> } | undefined): Promise<Buffer> {
  if (body === undefined) return Buffer.alloc(0);
  const bytes = await body.transformToByteArray();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
