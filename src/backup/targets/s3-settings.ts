// Where an S3 target's endpoint, region and credentials come from: explicit
// settings (flags, the API's X-Berth-Repository header) first, then the
// environment as the AWS SDK reads it, plus berth's `_FILE` variants that
// read a secret from a file (Docker and Kubernetes secrets).
import { readFile } from 'node:fs/promises';
import { InvalidParameter, errorText } from '../../errors.js';

export interface S3Settings {
  /** An S3-compatible service's URL (MinIO, Ceph, R2...); unset means AWS. */
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
}

export interface ResolvedS3Settings {
  endpoint: string | undefined;
  region: string;
  /** Undefined: the SDK's own provider chain (shared config files, SSO, instance roles). */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
}

// AWS's global endpoint answers for every region once followRegionRedirects
// finds the bucket's, and S3-compatible services take any region.
const DEFAULT_REGION = 'us-east-1';

/**
 * Parses an http or https URL with a host and nothing that belongs elsewhere
 * (credentials, a query); `refuse` makes the error from the reason.
 */
export function parseHttpUrl(text: string, refuse: (why: string) => Error): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw refuse('not a URL (expected http://host:port or https://host)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refuse('the scheme must be http or https');
  if (url.username || url.password) throw refuse('credentials do not belong in the URL; use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  if (url.search || url.hash) throw refuse('a query or fragment is not allowed');
  return url;
}

/** Checks an endpoint URL (parseHttpUrl) and drops trailing slashes. */
export function checkEndpoint(endpoint: string): string {
  parseHttpUrl(endpoint, (why) => new InvalidParameter(`invalid S3 endpoint "${endpoint}": ${why}`));
  return endpoint.replace(/\/+$/, '');
}

/** `name` from the environment, or the contents of the file `name_FILE` names (trailing newline dropped). */
export async function envSecret(env: NodeJS.ProcessEnv, name: string): Promise<string | undefined> {
  const value = env[name];
  const file = env[`${name}_FILE`];
  if (value !== undefined && value !== '' && file !== undefined && file !== '') {
    throw new InvalidParameter(`both ${name} and ${name}_FILE are set; set one`);
  }
  if (file === undefined || file === '') return value === '' ? undefined : value;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InvalidParameter(`${name}_FILE: cannot read ${file}: ${errorText(e)}`, { cause: e });
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret === '') throw new InvalidParameter(`${name}_FILE: ${file} is empty`);
  return secret;
}

function pair(accessKeyId: string | undefined, secretAccessKey: string | undefined, source: string, sessionToken?: string): ResolvedS3Settings['credentials'] {
  accessKeyId ||= undefined;
  secretAccessKey ||= undefined;
  sessionToken ||= undefined;
  if (accessKeyId === undefined && secretAccessKey === undefined) return undefined;
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw new InvalidParameter(`${source}: an S3 access key id needs its secret access key, and the other way round`);
  }
  return sessionToken === undefined ? { accessKeyId, secretAccessKey } : { accessKeyId, secretAccessKey, sessionToken };
}

export async function resolveS3Settings(explicit: S3Settings, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedS3Settings> {
  const endpointText = explicit.endpoint || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  const endpoint = endpointText === undefined ? undefined : checkEndpoint(endpointText);
  const region = explicit.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || DEFAULT_REGION;
  const credentials =
    pair(explicit.accessKeyId, explicit.secretAccessKey, 'S3 credentials', explicit.sessionToken) ??
    pair(
      await envSecret(env, 'AWS_ACCESS_KEY_ID'),
      await envSecret(env, 'AWS_SECRET_ACCESS_KEY'),
      'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or their _FILE variants)',
      env.AWS_SESSION_TOKEN,
    );
  return { endpoint, region, credentials };
}
