// A put's body is the caller's stream: when it fails, the caller's own error
// must come back out of put unchanged, not dressed up as the target's failure
// (an EIO reading a volume is not an EIO writing the repository).

/** Marks an error raised by the body itself while a target consumed it. */
export class BodyFailure extends Error {
  constructor(readonly error: unknown) {
    super('the body of a put failed', { cause: error });
  }
}

/** `body` as an async iterable whose own failures arrive wrapped in BodyFailure. */
export async function* guardBody(body: Buffer | AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(body)) {
    yield body;
    return;
  }
  try {
    for await (const chunk of body) yield chunk;
  } catch (e) {
    throw new BodyFailure(e);
  }
}
