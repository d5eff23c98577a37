import { randomBytes } from 'node:crypto';

/**
 * A 64-hex ID as moby's stringid.GenerateRandomID makes them: re-drawn while
 * the 12-character short form is all digits, so it never parses as a number.
 * docker: spec 2.2.
 */
export function generateId(): string {
  for (;;) {
    const id = randomBytes(32).toString('hex');
    if (!/^[0-9]{12}/.test(id)) return id;
  }
}

export function shortId(id: string): string {
  return id.slice(0, 12);
}
