// docker CLI's list formatter (cli/command/formatter): picks table, json or
// a custom template from `--format`, renders every row, and for tables
// renders the header by running the same template over the header names.
import { GoTemplate, HEADER_FUNCS, TemplateExecError } from '../../go/template.js';
import { tabwrite } from './tabwriter.js';

export interface RenderListOptions<T> {
  /** The `--format` value; '' means the default table. `raw` is the caller's job. */
  format: string;
  quiet: boolean;
  /** Used for '' and `table`, e.g. "table {{.Driver}}\t{{.Name}}". */
  defaultTable: string;
  /** Used for '' and `table` with --quiet, e.g. "{{.Name}}". */
  quietTemplate: string;
  /** Column headers by field name, e.g. { Name: 'VOLUME NAME', Driver: 'DRIVER' }. */
  headers: Readonly<Record<string, string>>;
  /** The template data for a row; function properties act as methods. */
  context: (row: T) => object;
}

/** formatter.SubHeaderContext.Label: `{{.Label "com.example.some-key"}}` → "some key". */
export function labelHeader(name: string): string {
  const parts = name.split('.');
  return parts[parts.length - 1]!.replace(/[-_]/g, ' ');
}

/** Renders rows as `docker <object> ls` would print them (trailing newline included). */
export function renderList<T>(rows: readonly T[], opts: RenderListOptions<T>): string {
  let format = opts.format === '' ? 'table' : opts.format;
  if (format === 'table') format = opts.quiet ? opts.quietTemplate : opts.defaultTable;

  // Any format starting with "table" is a table, as in docker's Format.IsTable.
  const isTable = format.startsWith('table');
  let src = isTable ? format.slice('table'.length) : format === 'json' ? '{{json .}}' : format;
  src = src.replace(/^ +| +$/g, '').replace(/\\[tn]/g, (m) => (m === '\\t' ? '\t' : '\n'));

  const tmpl = GoTemplate.parse(src);
  let body = '';
  for (const row of rows) {
    try {
      body += tmpl.execute(opts.context(row)) + '\n';
    } catch (e) {
      if (e instanceof TemplateExecError) throw new Error(`template parsing error: ${e.message}`, { cause: e });
      throw e;
    }
  }
  if (!isTable) return body;

  // docker ignores header errors and keeps what was written before the error.
  let header: string;
  try {
    header = tmpl.execute({ ...opts.headers, Label: labelHeader }, { funcs: HEADER_FUNCS });
  } catch (e) {
    if (!(e instanceof TemplateExecError)) throw e;
    header = e.partial;
  }
  return tabwrite(header + '\n' + body);
}
