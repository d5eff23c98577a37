// Flag value parsing shared by commands, with the docker CLI's messages.
import { createWriteStream, renameSync, rmSync, statSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CliError, UsageError } from '../errors.js';
import { goPathError } from '../../util/go-errno.js';
import { newDict } from '../../util/dict.js';

/** `-f key=value` flags into docker's filter map; `onBad` builds the flag error for a value without `=`. */
export function parseFilterValues(values: string[], onBad: (value: string) => Error): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 0) throw onBad(v);
    const key = v.slice(0, eq).trim().toLowerCase();
    const value = v.slice(eq + 1).trim();
    const list = out.get(key);
    if (list) list.push(value);
    else out.set(key, [value]);
  }
  return out;
}

/** parseFilterValues with the volume commands' usage error. */
export function parseFilterFlags(values: string[], path: string, usage: string): Map<string, string[]> {
  return parseFilterValues(
    values,
    (v) => new UsageError(`invalid argument "${v}" for "-f, --filter" flag: bad format of filter (expected name=value)`, `${path} ${usage}`, path, 125, 'run'),
  );
}

/** The `filters` query parameter as Go encodes map[string]map[string]bool: keys and values sorted. */
export function filtersQuery(filters: Map<string, string[]>): Record<string, string | undefined> {
  if (filters.size === 0) return {};
  const keys = [...filters.keys()].sort();
  const obj = keys.map((k) => {
    const values = [...new Set(filters.get(k) ?? [])].sort();
    return `${JSON.stringify(k)}:{${values.map((v) => `${JSON.stringify(v)}:true`).join(',')}}`;
  });
  return { filters: `{${obj.join(',')}}` };
}

/** `--label k=v` / `-o k=v` lists into a map; a bare key gets "". Later duplicates win. */
export function parseKeyValueList(
  values: string[],
  flag: string,
  path: string,
  usage: string,
  kind: 'label' | 'opt' | 'env',
): Record<string, string> {
  const out = newDict();
  for (const v of values) {
    const eq = v.indexOf('=');
    const key = eq < 0 ? v : v.slice(0, eq);
    if (key === '' || (kind === 'label' && key.trim() === '')) {
      throw new UsageError(
        `invalid argument "${v}" for "${flag}" flag: invalid ${kind === 'label' ? 'label' : 'argument'} '${v}': empty name`,
        `${path} ${usage}`,
        path,
        125,
        'run',
      );
    }
    out[key] = eq < 0 ? '' : v.slice(eq + 1);
  }
  return out;
}

/**
 * An archive the daemon streams (docker save, docker export), to `path`
 * or, when it is empty, to stdout. A file is written as docker's
 * CopyToFile: to a temporary file beside it, renamed over it once
 * complete. A daemon that fails mid-archive closes the connection: that is
 * an error, never a short archive. `failure` starts the path errors
 * ("failed to save image").
 */
export async function writeArchive(res: IncomingMessage, path: string, failure: string): Promise<void> {
  const complete = new Promise<void>((resolve, reject) => {
    res.on('aborted', () => reject(new CliError('unexpected EOF')));
    res.on('end', () => resolve());
  });
  if (path === '') {
    await pipeline(res, process.stdout, { end: false });
    await complete;
    return;
  }
  // The docker CLI 28's checks and words.
  const dir = dirname(resolvePath(path));
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch (e) {
    throw new CliError(`${failure}: invalid output path: ${goPathError(e, 'stat', dir)}`);
  }
  if (!isDirectory) throw new CliError(`${failure}: invalid output path: stat ${dir}: not a directory`);
  const tmp = join(dir, `.docker_temp_${process.pid}_${Date.now()}`);
  try {
    await pipeline(res, createWriteStream(tmp, { mode: 0o600 }));
    await complete;
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
