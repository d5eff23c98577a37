// The docker CLI's formatting contexts for `ps` and `images`
// (cli/command/formatter/container.go, image.go): one object per row whose
// methods are the template fields. They are classes so that an unknown field
// is an error, as for docker's structs; `{{json .}}` marshals every
// zero-argument method.
import { humanSize, humanSizeWithPrecision } from '../../go/units.js';
import { stringWidth } from '../format/tabwriter.js';
import { quote } from '../../go/strconv.js';
import { marshalJSON } from '../../go/json.js';
import { goTimeString, timeAgo } from './human.js';
import type { ApiContainerSummary, ApiImageSummary, ApiPort } from '../../api/types/index.js';

/** A context's MarshalJSON: every field, keys sorted, HTML escaped (json.Marshal). */
export function contextJSON(ctx: object): string {
  return marshalJSON(ctx, { escapeHTML: true });
}

/** Go type names in template errors ("*formatter.ContainerContext"). */
function goTypeName(cls: object, name: string): void {
  Object.defineProperty(cls, 'name', { value: name });
}

// ---------------------------------------------------------------------------
// Helpers

/** stringid.TruncateID: drops an algorithm prefix and keeps 12 characters. */
export function truncateID(id: string): string {
  const colon = id.indexOf(':');
  const s = colon >= 0 ? id.slice(colon + 1) : id;
  return s.length > 12 ? s.slice(0, 12) : s;
}

/** formatter.Ellipsis: cuts to `max` display columns, the last one an ellipsis. */
export function ellipsis(s: string, max: number): string {
  if (max <= 0) return '';
  const runes = [...s];
  if (max === 1) return runes[0] ?? '';
  if (Buffer.byteLength(s) === runes.length) {
    if (runes.length <= max) return s;
    return runes.slice(0, max - 1).join('') + '…';
  }
  const widths: number[] = [];
  let total = 0;
  for (const r of runes) {
    total += stringWidth(r);
    widths.push(total);
  }
  if (total <= max) return s;
  for (let i = 0; i < widths.length - 1; i++) {
    if (widths[i]! <= max - 1 && widths[i + 1]! > max - 1) return runes.slice(0, i + 1).join('') + '…';
  }
  return s;
}

/** formatter.DisplayablePorts: "80/tcp, 0.0.0.0:8080->80/tcp", consecutive ports grouped. */
export function displayablePorts(ports: readonly ApiPort[] | null | undefined): string {
  if (!ports || ports.length === 0) return '';
  const sorted = [...ports].sort((a, b) => {
    if (a.PrivatePort !== b.PrivatePort) return a.PrivatePort - b.PrivatePort;
    if ((a.IP ?? '') !== (b.IP ?? '')) return (a.IP ?? '') < (b.IP ?? '') ? -1 : 1;
    if ((a.PublicPort ?? 0) !== (b.PublicPort ?? 0)) return (a.PublicPort ?? 0) - (b.PublicPort ?? 0);
    return a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0;
  });
  const groups = new Map<string, { first: number; last: number }>();
  const order: string[] = [];
  const result: string[] = [];
  const hostMappings: string[] = [];
  const formGroup = (key: string, first: number, last: number): string => {
    const parts = key.split('/');
    let type = parts[0]!;
    let ip = '';
    if (parts.length > 1) {
      ip = parts[0]!;
      type = parts[1]!;
    }
    let group = String(first);
    if (first !== last) group = `${group}-${last}`;
    if (ip !== '') group = `${ip}:${group}->${group}`;
    return `${group}/${type}`;
  };
  for (const p of sorted) {
    const current = p.PrivatePort;
    let key = p.Type;
    if (p.IP) {
      if ((p.PublicPort ?? 0) !== current) {
        const host = p.IP.includes(':') ? `[${p.IP}]` : p.IP;
        hostMappings.push(`${host}:${p.PublicPort ?? 0}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { first: current, last: current });
      order.push(key);
      continue;
    }
    if (current === g.last + 1) {
      g.last = current;
      continue;
    }
    result.push(formGroup(key, g.first, g.last));
    groups.set(key, { first: current, last: current });
  }
  for (const key of order) {
    const g = groups.get(key)!;
    result.push(formGroup(key, g.first, g.last));
  }
  return [...result, ...hostMappings].join(', ');
}

// ---------------------------------------------------------------------------
// docker ps

export const CONTAINER_HEADERS: Readonly<Record<string, string>> = {
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Names: 'NAMES',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES',
  Networks: 'NETWORKS',
  Platform: 'PLATFORM',
};

const DEFAULT_CONTAINER_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

/** Repository (with tag) of an image reference, without its digest: "busybox@sha256:.." → "busybox". */
function trimDigest(image: string): string {
  const at = image.indexOf('@');
  return at >= 0 ? image.slice(0, at) : image;
}

export class ContainerContext {
  readonly #c: ApiContainerSummary;
  readonly #trunc: boolean;
  readonly #now: number;
  readonly #fieldsUsed: Set<string> | undefined;

  /** `fieldsUsed` records the fields that cost the daemon work (Size), as docker's FieldsUsed. */
  constructor(c: ApiContainerSummary, trunc: boolean, now: number = Date.now(), fieldsUsed?: Set<string>) {
    this.#c = c;
    this.#trunc = trunc;
    this.#now = now;
    this.#fieldsUsed = fieldsUsed;
  }

  ID(): string {
    return this.#trunc ? truncateID(this.#c.Id) : this.#c.Id;
  }

  Names(): string {
    let names = (this.#c.Names ?? []).map((n) => (n.startsWith('/') ? n.slice(1) : n));
    if (this.#trunc) {
      const plain = names.find((n) => n.split('/').length === 1);
      if (plain !== undefined) names = [plain];
    }
    return names.join(',');
  }

  Image(): string {
    const image = this.#c.Image ?? '';
    if (image === '') return '<no image>';
    if (this.#trunc) {
      const id = truncateID(this.#c.ImageID ?? '');
      if (id !== '' && id === truncateID(image)) return id;
      return trimDigest(image);
    }
    return image;
  }

  Command(): string {
    const cmd = this.#c.Command ?? '';
    return quote(this.#trunc ? ellipsis(cmd, 20) : cmd);
  }

  CreatedAt(): string {
    return goTimeString(this.#c.Created ?? 0);
  }

  RunningFor(): string {
    return timeAgo(this.#c.Created ?? 0, this.#now);
  }

  Ports(): string {
    return displayablePorts(this.#c.Ports);
  }

  State(): string {
    return this.#c.State ?? '';
  }

  Status(): string {
    return this.#c.Status ?? '';
  }

  Size(): string {
    this.#fieldsUsed?.add('Size');
    const rw = humanSizeWithPrecision(this.#c.SizeRw ?? 0, 3);
    const root = this.#c.SizeRootFs ?? 0;
    return root > 0 ? `${rw} (virtual ${humanSizeWithPrecision(root, 3)})` : rw;
  }

  Labels(): string {
    const labels = this.#c.Labels;
    if (!labels) return '';
    return Object.keys(labels)
      .sort()
      .map((k) => `${k}=${labels[k]}`)
      .join(',');
  }

  Label(name: string): string {
    return this.#c.Labels?.[name] ?? '';
  }

  Mounts(): string {
    return (this.#c.Mounts ?? [])
      .map((m) => {
        const name = m.Name ? m.Name : (m.Source ?? '');
        return this.#trunc ? ellipsis(name, 15) : name;
      })
      .join(',');
  }

  LocalVolumes(): string {
    return String((this.#c.Mounts ?? []).filter((m) => m.Driver === 'local').length);
  }

  Networks(): string {
    const nets = this.#c.NetworkSettings?.Networks;
    if (!nets) return '';
    return Object.keys(nets).sort().join(',');
  }

  Platform(): null {
    return null;
  }
}

goTypeName(ContainerContext, 'formatter.ContainerContext');

/** NewContainerFormat: the template `docker ps` uses for --format/-q/-s. */
export function containerFormat(format: string, quiet: boolean, size: boolean): string {
  if (format === '' || format === 'table') {
    if (quiet) return '{{.ID}}';
    return size ? `${DEFAULT_CONTAINER_TABLE}\t{{.Size}}` : DEFAULT_CONTAINER_TABLE;
  }
  if (format === 'raw') {
    if (quiet) return 'container_id: {{.ID}}';
    let f =
      'container_id: {{.ID}}\\nimage: {{.Image}}\\ncommand: {{.Command}}\\ncreated_at: {{.CreatedAt}}\\nstate: {{- pad .State 1 0}}\\nstatus: {{- pad .Status 1 0}}\\nnames: {{.Names}}\\nlabels: {{- pad .Labels 1 0}}\\nports: {{- pad .Ports 1 0}}\\n';
    if (size) f += 'size: {{.Size}}\\n';
    return f;
  }
  if (quiet) return '{{.ID}}';
  return format;
}

// ---------------------------------------------------------------------------
// docker images

export const IMAGE_HEADERS: Readonly<Record<string, string>> = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  VirtualSize: 'VIRTUAL SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
};

const DEFAULT_IMAGE_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';
const DEFAULT_IMAGE_TABLE_DIGEST =
  'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';

export class ImageContext {
  readonly #i: ApiImageSummary;
  readonly #trunc: boolean;
  readonly #repo: string;
  readonly #tag: string;
  readonly #digest: string;
  readonly #now: number;

  constructor(i: ApiImageSummary, trunc: boolean, repo: string, tag: string, digest: string, now: number = Date.now()) {
    this.#i = i;
    this.#trunc = trunc;
    this.#repo = repo;
    this.#tag = tag;
    this.#digest = digest;
    this.#now = now;
  }

  ID(): string {
    return this.#trunc ? truncateID(this.#i.Id) : this.#i.Id;
  }

  Repository(): string {
    return this.#repo;
  }

  Tag(): string {
    return this.#tag;
  }

  Digest(): string {
    return this.#digest;
  }

  CreatedSince(): string {
    return timeAgo(this.#i.Created ?? 0, this.#now);
  }

  CreatedAt(): string {
    return goTimeString(this.#i.Created ?? 0);
  }

  Size(): string {
    return humanSizeWithPrecision(this.#i.Size ?? 0, 3);
  }

  Containers(): string {
    const n = this.#i.Containers ?? 0;
    return n === -1 ? 'N/A' : String(n);
  }

  VirtualSize(): string {
    return humanSize(this.#i.Size ?? 0);
  }

  SharedSize(): string {
    const n = this.#i.SharedSize ?? 0;
    return n === -1 ? 'N/A' : humanSize(n);
  }

  UniqueSize(): string {
    const shared = this.#i.SharedSize ?? 0;
    if (shared === -1 || this.#i.Size === -1) return 'N/A';
    return humanSize((this.#i.Size ?? 0) - shared);
  }
}

goTypeName(ImageContext, 'formatter.imageContext');

/** Splits "name:tag" / "name@digest" the way reference.ParseNormalizedNamed does for display. */
function splitRef(ref: string, sep: ':' | '@'): [string, string] | undefined {
  const i = sep === '@' ? ref.indexOf('@') : ref.lastIndexOf(':');
  if (i <= 0) return undefined;
  const name = ref.slice(0, i);
  const rest = ref.slice(i + 1);
  if (sep === ':' && rest.includes('/')) return undefined;
  return [name, rest];
}

/**
 * The rows `docker images` prints for one image: one per repository tag, and
 * per digest when `needDigest` (--digests or a format showing {{.Digest}});
 * digest-only repositories get a row per digest only with --digests.
 */
export function imageRows(img: ApiImageSummary, trunc: boolean, needDigest: boolean, digestFlag = needDigest, now: number = Date.now()): ImageContext[] {
  const tags = img.RepoTags ?? [];
  const digests = img.RepoDigests ?? [];
  const dangling =
    (tags.length === 0 && digests.length === 0) ||
    (tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>');
  if (dangling) return [new ImageContext(img, trunc, '<none>', '<none>', '<none>', now)];

  const repoTags = new Map<string, string[]>();
  const repoDigests = new Map<string, string[]>();
  for (const ref of tags) {
    const s = splitRef(ref, ':');
    if (!s || s[0] === '<none>') continue;
    const list = repoTags.get(s[0]);
    if (list) list.push(s[1]);
    else repoTags.set(s[0], [s[1]]);
  }
  for (const ref of digests) {
    const s = splitRef(ref, '@');
    if (!s || s[0] === '<none>') continue;
    const list = repoDigests.get(s[0]);
    if (list) list.push(s[1]);
    else repoDigests.set(s[0], [s[1]]);
  }
  const rows: ImageContext[] = [];
  for (const [repo, tagList] of repoTags) {
    const ds = needDigest ? (repoDigests.get(repo) ?? []) : [];
    repoDigests.delete(repo);
    for (const tag of tagList) {
      if (ds.length === 0) rows.push(new ImageContext(img, trunc, repo, tag, '<none>', now));
      else for (const d of ds) rows.push(new ImageContext(img, trunc, repo, tag, d, now));
    }
  }
  for (const [repo, ds] of repoDigests) {
    if (digestFlag) for (const d of ds) rows.push(new ImageContext(img, trunc, repo, '<none>', d, now));
    else rows.push(new ImageContext(img, trunc, repo, '<none>', '', now));
  }
  if (rows.length === 0) rows.push(new ImageContext(img, trunc, '<none>', '<none>', '<none>', now));
  return rows;
}

/** NewImageFormat. */
export function imageFormat(format: string, quiet: boolean, digests: boolean): string {
  if (format === '' || format === 'table') {
    if (quiet) return '{{.ID}}';
    return digests ? DEFAULT_IMAGE_TABLE_DIGEST : DEFAULT_IMAGE_TABLE;
  }
  if (format === 'raw') {
    if (quiet) return 'image_id: {{.ID}}';
    return digests
      ? 'repository: {{ .Repository }}\\ntag: {{.Tag}}\\ndigest: {{.Digest}}\\nimage_id: {{.ID}}\\ncreated_at: {{.CreatedAt}}\\nvirtual_size: {{.Size}}\\n'
      : 'repository: {{ .Repository }}\\ntag: {{.Tag}}\\nimage_id: {{.ID}}\\ncreated_at: {{.CreatedAt}}\\nvirtual_size: {{.Size}}\\n';
  }
  if (format.startsWith('table') && digests && !format.includes('{{.Digest}}')) return `${format}\t{{.Digest}}`;
  return format;
}
