// Builds a container's Config from the create request and its image, as
// dockerd's mergeAndVerifyConfig does.
import { InvalidParameter } from '../errors.js';
import type { ContainerConfig, Empty } from './types.js';
import { copyDict } from '../util/dict.js';

type Json = Record<string, unknown>;

function strArray(v: unknown, field: string): string[] | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new InvalidParameter(`invalid JSON: ${field} must be a list of strings`);
  return [...(v as string[])];
}

function strMap(v: unknown, field: string): Record<string, string> | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidParameter(`invalid JSON: ${field} must be an object`);
  for (const x of Object.values(v as Json)) if (typeof x !== 'string') throw new InvalidParameter(`invalid JSON: ${field} values must be strings`);
  return copyDict(v as Record<string, string>);
}

function objMap(v: unknown, field: string): Record<string, Empty> | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidParameter(`invalid JSON: ${field} must be an object`);
  return copyDict(v as Record<string, Empty>);
}

function str(v: unknown, field: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new InvalidParameter(`invalid JSON: ${field} must be a string`);
  return v;
}

function bool(v: unknown): boolean {
  return v === true;
}

/** The image's runtime defaults a container starts from. */
export type ImageDefaults = Partial<ContainerConfig>;

/** The request's Config merged with the image's, plus the process path and args. */
export function mergeConfig(requested: Partial<ContainerConfig>, image: ImageDefaults): { config: ContainerConfig; path: string; args: string[] } {
  const body = requested as Json;
  const userEnv = strArray(body.Env, 'Env') ?? [];
  const env = [...userEnv];
  const keys = new Set(userEnv.map((e) => e.split('=')[0]));
  for (const e of image.Env ?? []) if (!keys.has(e.split('=')[0])) env.push(e);

  let entrypoint = strArray(body.Entrypoint, 'Entrypoint');
  let cmd = strArray(body.Cmd, 'Cmd');
  if (!entrypoint || entrypoint.length === 0) {
    if (!cmd || cmd.length === 0) cmd = image.Cmd ? [...image.Cmd] : cmd;
    if (entrypoint === null) entrypoint = image.Entrypoint ? [...image.Entrypoint] : null;
  }
  // `--entrypoint ""` arrives as [""]: it resets the image's entrypoint.
  if (entrypoint && entrypoint.length === 1 && entrypoint[0] === '') entrypoint = null;

  const volumes = objMap(body.Volumes, 'Volumes');
  const mergedVolumes = image.Volumes ? { ...(volumes ?? {}), ...image.Volumes } : volumes;
  const labels = strMap(body.Labels, 'Labels');
  const mergedLabels = image.Labels ? { ...image.Labels, ...(labels ?? {}) } : labels;

  const config: ContainerConfig = {
    Hostname: str(body.Hostname, 'Hostname'),
    Domainname: str(body.Domainname, 'Domainname'),
    User: str(body.User, 'User') || image.User || '',
    AttachStdin: bool(body.AttachStdin),
    AttachStdout: bool(body.AttachStdout),
    AttachStderr: bool(body.AttachStderr),
    ExposedPorts: objMap(body.ExposedPorts, 'ExposedPorts') ?? image.ExposedPorts ?? undefined,
    Tty: bool(body.Tty),
    OpenStdin: bool(body.OpenStdin),
    StdinOnce: bool(body.StdinOnce),
    Env: env,
    Cmd: cmd,
    Image: str(body.Image, 'Image'),
    // The docker CLI sends {} when every -v is a named volume or a bind;
    // dockerd then reports null, and so does berth.
    Volumes: mergedVolumes && Object.keys(mergedVolumes).length > 0 ? mergedVolumes : null,
    WorkingDir: str(body.WorkingDir, 'WorkingDir') || image.WorkingDir || '',
    Entrypoint: entrypoint,
    OnBuild: null,
    Labels: mergedLabels ?? {},
  };
  const stopSignal = str(body.StopSignal, 'StopSignal') || image.StopSignal;
  if (stopSignal) config.StopSignal = stopSignal;
  if (typeof body.StopTimeout === 'number') config.StopTimeout = body.StopTimeout;
  if (config.WorkingDir !== '' && !config.WorkingDir.startsWith('/')) {
    throw new InvalidParameter(`the working directory '${config.WorkingDir}' is invalid, it needs to be an absolute path`);
  }
  const argv = [...(entrypoint ?? []), ...(cmd ?? [])];
  if (argv.length === 0) throw new InvalidParameter('no command specified');
  return { config, path: argv[0]!, args: argv.slice(1) };
}
