// The errors a repository raises, in the project's taxonomy (src/errors.ts):
// a file that does not decode or verify is corrupt (system), credentials
// that open no key are unauthorized, and an operation a write-only key
// cannot do is forbidden.
import { BerthError, Forbidden, SystemError } from '../../errors.js';

/** A repository file or blob that is malformed, truncated, tampered with or fails its hash. */
export class RepositoryCorrupt extends SystemError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RepositoryCorrupt';
  }
}

/** No key of the repository opens with the passphrase or identity given. */
export class WrongCredentials extends BerthError {
  constructor(message: string) {
    super('unauthorized', message);
  }
}

/** The repository was opened with a write-only key and the operation needs to read data. */
export class WriteOnlyKey extends Forbidden {
  constructor(operation: string) {
    super(`${operation} needs to read data, and this repository was opened with a write-only key`);
    this.name = 'WriteOnlyKey';
  }
}
