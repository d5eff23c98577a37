// The image config file: validation of its JSON (from imagedb/ or from an
// archive), its content address, and Docker's full container.Config shape
// that `docker import` writes into it.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { InvalidParameter } from '../errors.js';
import { dictSchema } from '../util/dict.js';
import type { ContainerConfig } from '../containers/types.js';
import type { ImageConfigFile, ImageRuntimeConfig } from './types.js';

export const DIGEST = /^sha256:[a-f0-9]{64}$/;

const stringArray = z.array(z.string()).nullish();
const ConfigSchema = z.looseObject({
  architecture: z.string().optional(),
  os: z.string().optional(),
  created: z.string().optional(),
  author: z.string().optional(),
  comment: z.string().optional(),
  config: z
    .looseObject({
      Env: stringArray,
      Cmd: stringArray,
      Entrypoint: stringArray,
      WorkingDir: z.string().optional(),
      User: z.string().optional(),
      Volumes: dictSchema(z.unknown()).nullish(),
      Labels: dictSchema(z.string()).nullish(),
      ExposedPorts: dictSchema(z.unknown()).nullish(),
    })
    .nullish(),
  rootfs: z.looseObject({
    type: z.literal('layers'),
    diff_ids: z.array(z.string().regex(DIGEST, 'diff_id must be sha256:<64 hex>')),
  }),
  history: z.array(z.looseObject({})).optional(),
});

/** Parses JSON bytes against `schema`; errors name `what` and the first offending path. */
export function parseJson<T>(schema: z.ZodType<T>, bytes: Buffer, what: string): T {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new InvalidParameter(`${what}: invalid JSON: ${(e as Error).message}`, { cause: e });
  }
  const r = schema.safeParse(v);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new InvalidParameter(`${what}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
  }
  return r.data;
}

export function parseImageConfig(bytes: Buffer, what: string): ImageConfigFile {
  return parseJson(ConfigSchema, bytes, what) as ImageConfigFile;
}

export function sha256Hex(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Layer hexes (diff_ids without "sha256:"), bottom to top. */
export function layerHexes(config: ImageConfigFile): string[] {
  return config.rootfs.diff_ids.map((d) => d.slice('sha256:'.length));
}

/** This host's architecture in Go's GOARCH spelling, as image configs and platforms use it. */
export function hostArchitecture(): string {
  switch (process.arch) {
    case 'x64':
      return 'amd64';
    case 'ia32':
      return '386';
    case 'ppc64':
      return 'ppc64le';
    default:
      return process.arch;
  }
}

/** Docker's full container.Config shape, in Docker's key order, without unset optional keys. */
export function fullContainerConfig(c: ImageRuntimeConfig | null | undefined): ContainerConfig {
  const cfg = c ?? {};
  const out: ContainerConfig = {
    Hostname: cfg.Hostname ?? '',
    Domainname: cfg.Domainname ?? '',
    User: cfg.User ?? '',
    AttachStdin: cfg.AttachStdin ?? false,
    AttachStdout: cfg.AttachStdout ?? false,
    AttachStderr: cfg.AttachStderr ?? false,
  } as ContainerConfig;
  if (cfg.ExposedPorts && Object.keys(cfg.ExposedPorts).length > 0) out.ExposedPorts = cfg.ExposedPorts;
  out.Tty = cfg.Tty ?? false;
  out.OpenStdin = cfg.OpenStdin ?? false;
  out.StdinOnce = cfg.StdinOnce ?? false;
  out.Env = cfg.Env ?? null;
  out.Cmd = cfg.Cmd ?? null;
  if (cfg.Healthcheck) out.Healthcheck = cfg.Healthcheck;
  if (cfg.ArgsEscaped) out.ArgsEscaped = cfg.ArgsEscaped;
  out.Image = cfg.Image ?? '';
  out.Volumes = cfg.Volumes ?? null;
  out.WorkingDir = cfg.WorkingDir ?? '';
  out.Entrypoint = cfg.Entrypoint ?? null;
  out.OnBuild = cfg.OnBuild ?? null;
  out.Labels = cfg.Labels ?? null;
  if (cfg.StopSignal) out.StopSignal = cfg.StopSignal;
  if (cfg.StopTimeout !== undefined) out.StopTimeout = cfg.StopTimeout;
  if (cfg.Shell) out.Shell = cfg.Shell;
  return out;
}
