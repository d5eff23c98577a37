// Build arguments as dockerd's classic builder keeps them (BuildArgs): the
// --build-arg values, the ARGs a stage declared (only those reach RUN), the
// ARGs before FROM (meta args: FROM and a stage's `ARG NAME` see them), the
// predefined proxy ARGs, and which --build-arg values no ARG consumed.

/** Predefined ARGs: usable without an ARG instruction, and left out of the cache key unless declared. */
const BUILTIN_ARGS: ReadonlySet<string> = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);

/** A value, or null for an ARG without a default or a --build-arg given without one. */
type ArgValue = string | null;

export class BuildArgs {
  private allowed = new Map<string, ArgValue>();
  private readonly meta = new Map<string, ArgValue>();
  private readonly referenced = new Set<string>();

  /** `fromOptions`: the request's buildargs (a null value: named, without a value). */
  constructor(private readonly fromOptions: ReadonlyMap<string, ArgValue>) {}

  /** A copy for a new stage: declared ARGs are per stage; meta args and what was referenced carry over. */
  forStage(): BuildArgs {
    const copy = new BuildArgs(this.fromOptions);
    for (const [k, v] of this.meta) copy.meta.set(k, v);
    for (const k of this.referenced) copy.referenced.add(k);
    return copy;
  }

  mergeReferenced(other: BuildArgs): void {
    for (const k of other.referenced) this.referenced.add(k);
  }

  addArg(key: string, value: ArgValue): void {
    this.allowed.set(key, value);
    this.referenced.add(key);
  }

  addMetaArg(key: string, value: ArgValue): void {
    this.meta.set(key, value);
  }

  /** A declared ARG or a predefined one. */
  isReferencedOrNotBuiltin(key: string): boolean {
    return this.allowed.has(key) || !BUILTIN_ARGS.has(key);
  }

  private value(key: string, mapping: ReadonlyMap<string, ArgValue>): string | undefined {
    const option = this.fromOptions.get(key);
    if (option !== undefined && option !== null) return option;
    const def = mapping.get(key);
    if (def !== undefined && def !== null) return def;
    // Declared without a default (or not declared): the meta ARG's value, as moby's getBuildArg.
    const meta = this.meta.get(key);
    return meta === null ? undefined : meta;
  }

  private all(mapping: ReadonlyMap<string, ArgValue>): Map<string, string> {
    const out = new Map<string, string>();
    for (const key of [...mapping.keys(), ...BUILTIN_ARGS]) {
      const v = this.value(key, mapping);
      if (v !== undefined) out.set(key, v);
    }
    return out;
  }

  /** The declared (and predefined) ARGs with a value: what RUN gets and instructions expand with. */
  allAllowed(): Map<string, string> {
    return this.all(this.allowed);
  }

  /** The meta ARGs with a value: what FROM expands with. */
  allMeta(): Map<string, string> {
    return this.all(this.meta);
  }

  /** "K=V" for each allowed ARG the environment `env` does not set. */
  filterAllowed(env: readonly string[]): string[] {
    const keys = new Set(env.map((kv) => kv.split('=')[0]));
    const out: string[] = [];
    for (const [k, v] of this.allAllowed()) if (!keys.has(k)) out.push(`${k}=${v}`);
    return out;
  }

  /** The --build-arg names no ARG used (predefined ones excepted), sorted. */
  unused(): string[] {
    return [...this.fromOptions.keys()].filter((k) => !this.referenced.has(k) && !BUILTIN_ARGS.has(k)).sort();
  }
}
