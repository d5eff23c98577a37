// docker: spec 1.2 — advertise >= 1.42 so `volume prune --all` works with the
// 28.x CLI, and stay below its 1.50 so its own negotiation picks our number.
export const MAX_API_VERSION = '1.47';
export const MIN_API_VERSION = '1.24';
export const ENGINE_VERSION = '0.1.0';

export { compareVersions, versionAtLeast } from '../util/version.js';
