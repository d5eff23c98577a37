// `--repo` (or BERTH_REPOSITORY) to a Target. Spellings:
//   /abs/path, local:/abs/path               a local directory
//   s3://bucket/prefix, s3:bucket/prefix     S3 (endpoint from flags or environment)
//   s3:https://host[:port]/bucket/prefix     S3 at that endpoint (restic's spelling)
// A relative path is resolved only against a working directory the caller
// names: berthd has none that means anything to the client that sent it.
import { isAbsolute, resolve } from 'node:path';
import { InvalidParameter } from '../../errors.js';
import { LocalTarget } from './local.js';
import type { S3Tuning } from './s3.js';
import { checkEndpoint, parseHttpUrl, type S3Settings } from './s3-settings.js';
import type { Target } from './target.js';

export type RepositoryAddress = { type: 'local'; path: string } | { type: 's3'; bucket: string; prefix: string; endpoint?: string };

export interface OpenTargetOptions {
  /** Resolves a relative local path; without it one is refused. */
  cwd?: string;
  /** S3 settings from flags or the API (they win over the environment), and tuning. */
  s3?: S3Settings & S3Tuning;
  /** Where AWS_* settings are read from; process.env by default. */
  env?: NodeJS.ProcessEnv;
}

const USAGE = 'expected PATH, s3://bucket/prefix, s3:bucket/prefix or s3:https://host/bucket/prefix';
const BUCKET = /^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$/;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

function invalid(repo: string, why: string): InvalidParameter {
  return new InvalidParameter(`invalid repository "${repo}": ${why}`);
}

/** `bucket[/prefix][/]` from an S3 spelling; the prefix without empty, "." or ".." segments. */
function bucketAndPrefix(repo: string, path: string): { bucket: string; prefix: string } {
  if (/[?#]/.test(path)) throw invalid(repo, 'a query or fragment is not allowed');
  const [bucket = '', ...rest] = path.replace(/\/+$/, '').split('/');
  if (bucket === '') throw invalid(repo, `no bucket (${USAGE})`);
  if (bucket.includes('@')) throw invalid(repo, 'credentials do not belong in the repository; use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  if (!BUCKET.test(bucket)) throw invalid(repo, `bucket name "${bucket}": 3 to 63 letters, digits, ".", "_" or "-", starting and ending with a letter or digit`);
  if (rest.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw invalid(repo, 'the prefix has an empty, "." or ".." segment');
  }
  return { bucket, prefix: rest.join('/') };
}

function s3WithEndpoint(repo: string, urlText: string): RepositoryAddress {
  const url = parseHttpUrl(urlText, (why) => invalid(repo, why));
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    throw invalid(repo, 'a malformed %-escape in the path');
  }
  return { type: 's3', endpoint: checkEndpoint(url.origin), ...bucketAndPrefix(repo, path.slice(1)) };
}

/** Parses a repository address; `cwd` resolves a relative local path (without it one is refused). */
export function parseRepository(repo: string, cwd?: string): RepositoryAddress {
  if (repo.trim() === '') throw new InvalidParameter(`no repository given (${USAGE})`);
  if (repo.startsWith('s3://')) return { type: 's3', ...bucketAndPrefix(repo, repo.slice('s3://'.length)) };
  if (/^s3:https?:\/\//i.test(repo)) return s3WithEndpoint(repo, repo.slice('s3:'.length));
  if (repo.startsWith('s3:')) return { type: 's3', ...bucketAndPrefix(repo, repo.slice('s3:'.length)) };
  let path = repo;
  if (repo.startsWith('local:')) path = repo.slice('local:'.length);
  else if (SCHEME.test(repo) && !repo.startsWith('/')) throw invalid(repo, `unsupported scheme "${SCHEME.exec(repo)?.[1]}:" (${USAGE}; a relative path with ":" starts with "./")`);
  if (path === '') throw invalid(repo, 'no path');
  if (isAbsolute(path)) return { type: 'local', path: resolve(path) };
  if (cwd === undefined) {
    throw new InvalidParameter(`repository path "${path}" is relative: give an absolute path (the daemon has no working directory to resolve it against)`);
  }
  return { type: 'local', path: resolve(cwd, path) };
}

/** Opens the target `repo` names; S3 settings the options leave out come from the environment. */
export async function openTarget(repo: string, options: OpenTargetOptions = {}): Promise<Target> {
  const address = parseRepository(repo, options.cwd);
  if (address.type === 'local') return new LocalTarget(address.path);
  const flagged = options.s3?.endpoint;
  if (address.endpoint !== undefined && flagged && checkEndpoint(flagged) !== address.endpoint) {
    throw invalid(repo, `it names the endpoint ${address.endpoint} and the S3 endpoint setting says ${flagged}; give one`);
  }
  // The AWS SDK is loaded only for an S3 repository: every berth command (and berthd) starts without it.
  const { openS3Target } = await import('./s3.js');
  return openS3Target({
    ...options.s3,
    env: options.env,
    bucket: address.bucket,
    prefix: address.prefix,
    endpoint: address.endpoint ?? flagged,
  });
}
