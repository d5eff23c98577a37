// `berth inspect` and the per-object inspect output: the daemon's JSON
// re-indented byte for byte as Go's json.Indent does (key order, number
// spelling and escapes kept), or a template per object.
import type { Command } from 'commander';
import { DaemonError, type ApiClient } from '../client.js';
import { networkTemplateView } from './network.js';
import { CliError, formatError } from '../errors.js';
import { GoTemplate, NIL_MAP, TemplateExecError } from '../../go/template.js';
import { defineCommand } from '../command.js';
import { dictFrom } from '../../util/dict.js';

/** Go's json.Indent(dst, src, prefix "", indent): `{}` and `[]` stay compact. */
export function indentJSON(src: string, indent = '    '): string {
  let out = '';
  let depth = 0;
  let needIndent = false;
  let inString = false;
  const newline = (): string => `\n${indent.repeat(depth)}`;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (inString) {
      out += c;
      if (c === '\\') {
        out += src[i + 1] ?? '';
        i++;
      } else if (c === '"') inString = false;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') continue;
    if (needIndent && c !== ']' && c !== '}') {
      needIndent = false;
      depth++;
      out += newline();
    }
    switch (c) {
      case '"':
        inString = true;
        out += c;
        break;
      case '{':
      case '[':
        out += c;
        needIndent = true;
        break;
      case ',':
        out += c + newline();
        break;
      case ':':
        out += ': ';
        break;
      case '}':
      case ']':
        if (needIndent) {
          needIndent = false; // empty: `{}` / `[]`
        } else {
          depth--;
          out += newline();
        }
        out += c;
        break;
      default:
        out += c;
    }
  }
  return out;
}

/** Keys docker decodes into Go maps: a JSON null there prints as map[] in templates. */
const MAP_KEYS = new Set([
  'Labels', 'Options', 'Volumes', 'ExposedPorts', 'Tmpfs', 'Sysctls', 'StorageOpt', 'PortBindings',
  'Networks', 'Ports', 'DriverOpts', 'Data', 'Status', 'Annotations',
]);

/** The data a template sees: JSON as decoded, null maps as Go nil maps. */
export function templateData(v: unknown, key = ''): unknown {
  if (v === null) return MAP_KEYS.has(key) ? NIL_MAP : null;
  if (Array.isArray(v)) return v.map((e) => templateData(e));
  if (typeof v === 'object') {
    return dictFrom(Object.entries(v as Record<string, unknown>).map(([k, e]) => [k, templateData(e, k)] as const));
  }
  return v;
}

/**
 * The whole `inspect` output for raw JSON documents: "[\n    {...}\n]\n" with
 * no format, compact with `json`, else the template once per document.
 */
export function renderInspectOutput(raws: string[], format: string | undefined, views: Array<((o: Record<string, unknown>) => unknown) | undefined> = []): string {
  if (!format) {
    if (raws.length === 0) return '[]\n';
    return `${indentJSON(`[${raws.map((r) => r.trim()).join(',')}]`)}\n`;
  }
  if (format === 'json') return `[${raws.map((r) => r.trim()).join(',')}]\n`;
  const tmpl = GoTemplate.parse(format);
  let out = '';
  for (const [i, raw] of raws.entries()) {
    try {
      const view = views[i];
      out += `${tmpl.execute(view ? view(JSON.parse(raw) as Record<string, unknown>) : templateData(JSON.parse(raw)))}\n`;
    } catch (e) {
      if (e instanceof TemplateExecError) throw new CliError(`template parsing error: ${e.message}`);
      throw e;
    }
  }
  return out;
}

export type InspectKind = 'container' | 'image' | 'network' | 'volume';

/** GET the object's inspect JSON as raw text. */
async function fetchInspect(api: ApiClient, kind: InspectKind, name: string, size = false): Promise<string> {
  const enc = encodeURIComponent(name);
  const path =
    kind === 'container' ? `/containers/${enc}/json` : kind === 'image' ? `/images/${enc}/json` : kind === 'network' ? `/networks/${enc}` : `/volumes/${enc}`;
  const res = await api.request('GET', path, { query: kind === 'container' && size ? { size: '1' } : {} });
  return res.body.toString('utf8');
}

/**
 * Inspects each name as `kind` (or container, image, volume in turn), prints
 * what was found and then the errors, exit 1 if any.
 */
export async function runInspect(api: ApiClient, names: string[], kind: InspectKind | undefined, format: string | undefined, size = false): Promise<void> {
  const raws: string[] = [];
  // Networks are decoded as the docker CLI's network.Inspect (struct field order under `json`).
  const views: Array<((o: Record<string, unknown>) => unknown) | undefined> = [];
  const errors: string[] = [];
  for (const name of names) {
    if (kind) {
      try {
        raws.push(await fetchInspect(api, kind, name, size));
        views[raws.length - 1] = kind === 'network' ? networkTemplateView : undefined;
      } catch (e) {
        if (!(e instanceof DaemonError)) throw e;
        errors.push(formatError(e).trimEnd());
      }
      continue;
    }
    let found = false;
    // The docker CLI's order: container, image, network, volume.
    for (const k of ['container', 'image', 'network', 'volume'] as const) {
      try {
        raws.push(await fetchInspect(api, k, name, size));
        views[raws.length - 1] = k === 'network' ? networkTemplateView : undefined;
        found = true;
        break;
      } catch (e) {
        if (e instanceof DaemonError && (e.status === 404 || e.status === 501 || e.status === 503)) continue;
        if (e instanceof DaemonError) {
          errors.push(formatError(e).trimEnd());
          found = true;
          break;
        }
        throw e;
      }
    }
    if (!found) errors.push(`Error: No such object: ${name}`);
  }
  process.stdout.write(renderInspectOutput(raws, format, views));
  if (errors.length > 0) throw new CliError(errors.join('\n'));
}

const INSPECT_TYPES = ['config', 'container', 'image', 'network', 'node', 'plugin', 'secret', 'service', 'task', 'volume'];

export function registerInspectCommand(program: Command, client: () => ApiClient): void {
  defineCommand<{ format?: string; size?: boolean; type?: string }>(
    program,
    { name: 'inspect', use: '[OPTIONS] NAME|ID [NAME|ID...]', description: 'Return low-level information on Docker objects', arity: { min: 1 } },
    (cmd) =>
      cmd
        .option('-f, --format <string>', 'Format output using a custom template')
        .option('-s, --size', 'Display total file sizes if the type is container')
        .option('--type <string>', 'Only inspect objects of the given type'),
    async (args, opts) => {
      const type = opts.type ?? '';
      if (type !== '' && !INSPECT_TYPES.includes(type)) {
        throw new CliError(`unknown type: "${type}": must be one of ${INSPECT_TYPES.map((t) => `"${t}"`).join(', ')}`);
      }
      if (type !== '' && type !== 'container' && type !== 'image' && type !== 'network' && type !== 'volume') {
        throw new CliError(`Error response from daemon: berth does not support ${type} objects`);
      }
      await runInspect(client(), args, type === '' ? undefined : type, opts.format, !!opts.size);
    },
  );
}
