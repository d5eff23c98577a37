import { InvalidParameter } from '../errors.js';
import { quote as goQuote } from '../go/strconv.js';

export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

// docker: spec 2.1 — the local driver's name rule and its exact messages.
const LOCAL_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const LOCAL_NAME_CHARS = '[a-zA-Z0-9][a-zA-Z0-9_.-]';

/** Throws Docker's message for a name the local driver refuses (without the "create X: " prefix). */
export function validateLocalName(name: string): void {
  if (name.length === 1) {
    throw new InvalidParameter('volume name is too short, names should be at least two alphanumeric characters');
  }
  if (!LOCAL_NAME.test(name)) {
    throw new InvalidParameter(
      `${goQuote(name)} includes invalid characters for a local volume name, only ${goQuote(LOCAL_NAME_CHARS)} are allowed. If you intended to pass a host directory, use absolute path`,
    );
  }
}

export function isValidLocalName(name: string): boolean {
  return LOCAL_NAME.test(name);
}
