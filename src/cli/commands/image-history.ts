// `docker history` / `docker image history` with docker CLI 28.2's flags and
// formatting (cli/command/image/formatter_history.go).
import type { Command } from 'commander';
import type { ApiClient } from '../client.js';
import { defineCommand } from '../command.js';
import { renderList } from '../format/formatter.js';
import { humanSizeWithPrecision } from '../../go/units.js';
import { contextJSON, ellipsis, truncateID } from './contexts.js';
import { timeAgo } from './human.js';
import type { ApiImageHistoryItem } from '../../api/types/images.js';

const HISTORY_TABLE = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
const HISTORY_TABLE_NOT_HUMAN = 'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
const HISTORY_HEADERS: Readonly<Record<string, string>> = {
  ID: 'IMAGE',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  CreatedBy: 'CREATED BY',
  Size: 'SIZE',
  Comment: 'COMMENT',
};
/** Dates before 2000 are shown as N/A (docker's epoch for human dates). */
const EPOCH_2000 = 946_684_800;

/** Go's time.Unix(t, 0).Format(time.RFC3339) in local time. */
function rfc3339Local(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const pad = (n: number): string => String(n).padStart(2, '0');
  const offset = -d.getTimezoneOffset();
  const zone = offset === 0 ? 'Z' : `${offset < 0 ? '-' : '+'}${pad(Math.trunc(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${zone}`;
}

export class HistoryContext {
  readonly #h: ApiImageHistoryItem;
  readonly #trunc: boolean;
  readonly #human: boolean;
  readonly #now: number;

  constructor(h: ApiImageHistoryItem, trunc: boolean, human: boolean, now: number) {
    this.#h = h;
    this.#trunc = trunc;
    this.#human = human;
    this.#now = now;
  }

  ID(): string {
    return this.#trunc ? truncateID(this.#h.Id) : this.#h.Id;
  }

  CreatedAt(): string {
    return rfc3339Local(this.#h.Created);
  }

  CreatedSince(): string {
    if (!this.#human) return this.CreatedAt();
    if (this.#h.Created <= EPOCH_2000) return 'N/A';
    return timeAgo(this.#h.Created, this.#now);
  }

  CreatedBy(): string {
    const by = this.#h.CreatedBy.replaceAll('\t', ' ');
    return this.#trunc ? ellipsis(by, 45) : by;
  }

  Size(): string {
    return this.#human ? humanSizeWithPrecision(this.#h.Size, 3) : String(this.#h.Size);
  }

  Comment(): string {
    return this.#h.Comment;
  }
}
Object.defineProperty(HistoryContext, 'name', { value: '*image.historyContext' });

export interface HistoryOptions {
  format?: string;
  human?: boolean;
  quiet?: boolean;
  trunc?: boolean;
}

/** The `docker history` output for a history answer (trailing newline included). */
export function renderHistory(items: readonly ApiImageHistoryItem[], opts: HistoryOptions, now = Date.now()): string {
  const human = opts.human !== false;
  const format = opts.format ?? '';
  const rows = items.map((h) => new HistoryContext(h, opts.trunc !== false, human, now));
  if (format === 'json' || format.trim() === '{{json .}}') return rows.map((r) => `${contextJSON(r)}\n`).join('');
  return renderList(rows, {
    format,
    quiet: !!opts.quiet,
    defaultTable: human ? HISTORY_TABLE : HISTORY_TABLE_NOT_HUMAN,
    quietTemplate: '{{.ID}}',
    headers: HISTORY_HEADERS,
    context: (r) => r,
  });
}

export function defineHistoryCommand(parent: Command, client: () => ApiClient): void {
  defineCommand<HistoryOptions & { platform?: string }>(
    parent,
    { name: 'history', use: '[OPTIONS] IMAGE', description: 'Show the history of an image', arity: { exact: 1 } },
    (cmd) =>
      cmd
        .option('--format <string>', 'Format output using a custom template')
        .option('-H, --human [bool]', 'Print sizes and dates in human readable format', true)
        .option('--no-trunc', "Don't truncate output")
        .option('--platform <string>', 'Show history for the given platform. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")')
        .option('-q, --quiet', 'Only show image IDs'),
    async (args, opts) => {
      const items = await client().json<ApiImageHistoryItem[]>('GET', `/images/${encodeURIComponent(args[0]!)}/history`);
      const human = opts.human !== false && String(opts.human) !== 'false';
      process.stdout.write(renderHistory(items, { ...opts, human }));
    },
  );
}
