// A validator for assert.throws and assert.rejects that checks an error's
// class and its message, and says which when it fails.
import assert from 'node:assert/strict';

/** The error is a `type` whose message holds each part: a string literally, a RegExp by matching. */
export function failsWith(type: abstract new (...args: never[]) => Error, ...parts: (string | RegExp)[]): (e: unknown) => true {
  return (e) => {
    assert.ok(e instanceof type, `expected a ${type.name}, got ${String(e)}`);
    for (const part of parts) {
      if (typeof part === 'string') assert.ok(e.message.includes(part), `"${e.message}" does not contain "${part}"`);
      else assert.match(e.message, part);
    }
    return true;
  };
}
