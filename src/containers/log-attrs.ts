// The attributes json-file attaches to a container's log entries (moby's
// loginfo.ExtraAttributes and the json-file `tag` option): container labels
// named by `labels` or matched by `labels-regex`, environment variables
// named by `env` or matched by `env-regex`, and `tag`, a Go template over
// the container (`{{.Name}}`, `{{.ID}}`, `{{.ImageName}}`, ...). dockerd
// stores them in every entry; `docker logs --details` prints them before
// the line. They are the same for every entry of a run, so berth works them
// out from the container instead of storing them per line.
import { hostname } from 'node:os';
import { compareGoStrings } from '../go/strconv.js';
import { GoTemplate, TemplateExecError } from '../go/template.js';
import { formatRFC3339NanoFixed } from '../go/timestamps.js';
import type { LogEntry } from './runtime/container-log.js';
import { LogDriverError, type LogConfig } from './log-config.js';

/** What the attributes are made from: the container as it was created. */
export interface LogAttrsSource {
  id: string;
  /** Without the leading "/". */
  name: string;
  entrypoint: string;
  args: readonly string[];
  /** "sha256:..." */
  imageId: string;
  /** The image as the create request named it. */
  imageName: string;
  env: readonly string[];
  labels: Readonly<Record<string, string>>;
}

/**
 * The fields and methods of moby's logger.Info that a tag template reads.
 * A class: the template engine treats an instance as a Go struct, so an
 * unknown field is an error as in dockerd.
 */
class Info {
  readonly ContainerID: string;
  readonly ContainerName: string;
  readonly ContainerEntrypoint: string;
  readonly ContainerArgs: readonly string[];
  readonly ContainerImageID: string;
  readonly ContainerImageName: string;
  readonly ContainerEnv: readonly string[];
  readonly ContainerLabels: Readonly<Record<string, string>>;
  readonly DaemonName = 'docker';

  constructor(s: LogAttrsSource) {
    this.ContainerID = s.id;
    this.ContainerName = `/${s.name}`;
    this.ContainerEntrypoint = s.entrypoint;
    this.ContainerArgs = s.args;
    this.ContainerImageID = s.imageId;
    this.ContainerImageName = s.imageName;
    this.ContainerEnv = s.env;
    this.ContainerLabels = s.labels;
  }

  ID(): string {
    return this.ContainerID.slice(0, 12);
  }

  FullID(): string {
    return this.ContainerID;
  }

  Name(): string {
    return this.ContainerName.replace(/^\//, '');
  }

  Command(): string {
    return [this.ContainerEntrypoint, ...this.ContainerArgs].join(' ');
  }

  /** The first 12 characters of the full id, "sha256:" included (dockerd does the same). */
  ImageID(): string {
    return this.ContainerImageID.slice(0, 12);
  }

  ImageFullID(): string {
    return this.ContainerImageID;
  }

  ImageName(): string {
    return this.ContainerImageName;
  }

  Hostname(): string {
    return hostname();
  }
}

function regexpOf(source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (e) {
    throw new LogDriverError(`error parsing regexp: ${(e as Error).message}: \`${source}\``);
  }
}

/** The json-file `tag`: the template run over the container; dockerd's template errors, named "log-tag". */
function logTag(template: string, s: LogAttrsSource): string {
  const named = (message: string): string =>
    message.replace(/^template: :/, 'template: log-tag:').replace('executing ""', 'executing "log-tag"').replace('type *Info', 'type *logger.Info');
  let t: GoTemplate;
  try {
    t = GoTemplate.parse(template);
  } catch (e) {
    const cause = (e as Error).cause instanceof Error ? ((e as Error).cause as Error) : (e as Error);
    throw new LogDriverError(named(cause.message));
  }
  try {
    return t.execute(new Info(s));
  } catch (e) {
    if (e instanceof TemplateExecError) throw new LogDriverError(named(e.message));
    throw e;
  }
}

/**
 * The attributes of the container's log entries under `cfg` (only json-file
 * has them); throws LogDriverError, dockerd's start failure, for a bad regexp
 * or tag template.
 */
export function logAttributes(cfg: LogConfig, s: LogAttrsSource): Map<string, string> {
  const attrs = new Map<string, string>();
  if (cfg.Type !== 'json-file') return attrs;
  const o = cfg.Config ?? {};
  if (o.labels) for (const key of o.labels.split(',')) if (Object.hasOwn(s.labels, key)) attrs.set(key, s.labels[key]!);
  if (o['labels-regex']) {
    const re = regexpOf(o['labels-regex']);
    for (const [key, value] of Object.entries(s.labels)) if (re.test(key)) attrs.set(key, value);
  }
  const env = new Map<string, string>();
  for (const e of s.env) {
    const eq = e.indexOf('=');
    if (eq >= 0) env.set(e.slice(0, eq), e.slice(eq + 1));
  }
  if (o.env) for (const key of o.env.split(',')) if (env.has(key)) attrs.set(key, env.get(key)!);
  if (o['env-regex']) {
    const re = regexpOf(o['env-regex']);
    for (const [key, value] of env) if (re.test(key)) attrs.set(key, value);
  }
  if (o.tag) {
    const tag = logTag(o.tag, s);
    if (tag !== '') attrs.set('tag', tag);
  }
  return attrs;
}

/** Go's url.QueryEscape. */
function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/%20/g, '+')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * What `docker logs --details` prints before each line: the attributes
 * sorted by key, `key=value` query-escaped and joined by ",", then a space
 * (a lone space when there are none).
 */
export function detailsPrefix(attrs: ReadonlyMap<string, string>): string {
  const keys = [...attrs.keys()].sort(compareGoStrings);
  return `${keys.map((k) => `${queryEscape(k)}=${queryEscape(attrs.get(k)!)}`).join(',')} `;
}

/** The entries with `prefix` (detailsPrefix) between each line's time, when shown, and its text. */
export async function* withDetails(entries: AsyncGenerator<LogEntry>, prefix: string, timestamps: boolean): AsyncGenerator<LogEntry> {
  for await (const e of entries) {
    yield { ...e, line: `${timestamps ? `${formatRFC3339NanoFixed(e.timeNs)} ` : ''}${prefix}${e.log}` };
  }
}
