import { InvalidParameter } from '../errors.js';
import { quote as goQuote } from '../go/strconv.js';

export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

// docker: spec 2.1 — the local driver's name rule and its exact messages.
const LOCAL_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const LOCAL_NAME_CHARS = '[a-zA-Z0-9][a-zA-Z0-9_.-]';

/** Docker's message for a name the local driver refuses (without the "create X: " prefix), or null. */
export function localVolumeNameError(name: string): string | null {
  // Go's len(name) counts bytes.
  if (Buffer.byteLength(name) === 1) {
    return 'volume name is too short, names should be at least two alphanumeric characters';
  }
  if (!LOCAL_NAME.test(name)) {
    return `${goQuote(name)} includes invalid characters for a local volume name, only ${goQuote(LOCAL_NAME_CHARS)} are allowed. If you intended to pass a host directory, use absolute path`;
  }
  return null;
}

/** Throws localVolumeNameError's message as InvalidParameter. */
export function validateLocalName(name: string): void {
  const err = localVolumeNameError(name);
  if (err !== null) throw new InvalidParameter(err);
}
