// A put's body is the caller's stream: when it fails, the caller's own error
// must come back out of put unchanged, not dressed up as the target's failure
// (an EIO reading a volume is not an EIO writing the repository), nor hidden
// behind whatever failed while the target cleaned up after it.

/** Marks an error raised by the body itself while a target consumed it. */
export class BodyFailure extends Error {
  constructor(readonly error: unknown) {
    super('the body of a put failed', { cause: error });
  }
}

/** A put's body as an async iterable whose own failure is remembered and arrives as a BodyFailure. */
export class GuardedBody implements AsyncIterable<Buffer> {
  failure: BodyFailure | undefined;

  constructor(private readonly body: Buffer | AsyncIterable<Buffer>) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    if (Buffer.isBuffer(this.body)) {
      yield this.body;
      return;
    }
    try {
      for await (const chunk of this.body) yield chunk;
    } catch (e) {
      this.failure = new BodyFailure(e);
      throw this.failure;
    }
  }
}
