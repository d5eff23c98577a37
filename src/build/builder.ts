// docker build's classic builder (moby's builder/dockerfile), step for
// step: the context unpacked, the Dockerfile parsed into stages, "Step N/M"
// for each instruction; a step that runs nothing is committed from a
// container that is created and not started, RUN runs one on the step's
// image (its output streamed), COPY and ADD write into a scratch layer; each
// step is an image whose parent is the step before, looked up first in the
// cache. Intermediate containers go as moby's --rm/--force-rm say. Images
// and containers are reached through narrow interfaces on their services.
import { rm } from 'node:fs/promises';
import { InvalidParameter, NotFound } from '../errors.js';
import { CodedJSONError } from '../go/jsonmessage.js';
import type { ContainerService } from '../containers/service.js';
import type { ImageService } from '../images/service.js';
import { createChildImage, type ChildImageStore } from '../images/commit.js';
import { fullContainerConfig, hostArchitecture } from '../images/config-file.js';
import type { Progress } from '../images/progress.js';
import type { PullRequest } from '../images/pull.js';
import { familiarString, parseReference, type Reference } from '../images/reference.js';
import type { ImageConfigFile } from '../images/types.js';
import { resolveAuthConfig, type AuthConfig } from '../registry/auth.js';
import { parsePlatform, type Platform } from '../registry/manifest.js';
import { mkdirAllInRoot } from '../mounts/safe-path.js';
import { BuildArgs } from './build-args.js';
import { BuildContext } from './context.js';
import { copySources, normalizeDest, parseChmod, parseChown } from './copier.js';
import { RootfsSourceTree, resolveSources, sourcesHash, type CopySource, type SourceTree } from './copy-sources.js';
import { applyConfigInstruction, expandInstruction, isConfigInstruction, normalizeWorkdir, resolveCmdLine, type ConfigState } from './config-instructions.js';
import { parseDockerfile } from './dockerfile/parser.js';
import { parseSingleInstruction, parseStages, type Instruction, type Stage } from './dockerfile/instructions.js';
import { envFromList, ShellLex } from './dockerfile/shell-lex.js';
import { BuildCache } from './image-cache.js';
import type { BuildOutput } from './output.js';
import { copyRunConfig, DEFAULT_PATH, goList, nopCommand, nopCommandString, type RunConfig } from './run-config.js';

/** A build's options, as POST /build's query gives them. */
export interface BuildOptions {
  /** Tags, normalised: store keys "name:tag", without duplicates. */
  tags: string[];
  dockerfile: string;
  /** --build-arg: a null value is a name given without one. */
  buildArgs: Map<string, string | null>;
  labels: Record<string, string>;
  target: string;
  noCache: boolean;
  pull: boolean;
  /** --rm: remove intermediate containers after a successful step. */
  remove: boolean;
  /** --force-rm: remove them after a failed one too. */
  forceRemove: boolean;
  cacheFrom: string[];
  /** "" for the default platform. */
  platform: string;
  /** HostConfig fields for RUN containers (network mode, resource limits); the container service refuses what it cannot apply. */
  hostConfig: Record<string, unknown>;
  /** X-Registry-Config: credentials per registry, for FROM's pulls. */
  authConfigs: Record<string, AuthConfig>;
  apiVersion: string;
}

export interface BuildRequest {
  context: AsyncIterable<Buffer>;
  options: BuildOptions;
  output: BuildOutput;
  signal: AbortSignal;
}

export type BuildContainers = Pick<ContainerService, 'create' | 'start' | 'wait' | 'logs' | 'remove' | 'rootfs'>;
export type BuildImageService = ChildImageStore & Pick<ImageService, 'find' | 'builtOn' | 'openScratchLayer' | 'containerUpperDir' | 'tag' | 'imageEvent' | 'makeTempDir' | 'setParent'>;

export interface BuilderDeps {
  images: BuildImageService;
  containers: BuildContainers;
  pull(req: PullRequest, progress: Progress): Promise<void>;
}

/** An image a stage starts from: a stored one, or nothing (FROM scratch). */
interface BaseImage {
  id: string;
  config: ImageConfigFile;
}

/** A stage's state (moby's dispatchState). */
interface StageState extends ConfigState {
  /** "" until the first step of a FROM scratch stage. */
  imageId: string;
  base: BaseImage;
  name: string;
  args: BuildArgs;
}

const STEP_ID = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12);

/** moby's sanitizeRepoAndTags: each -t as a store key ("name:tag"), digests refused, duplicates dropped. */
export function buildTags(names: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of names) {
    if (name === '') continue;
    const ref = parseReference(name);
    if (ref.digest !== undefined) throw new InvalidParameter('build tag cannot contain a digest');
    const key = familiarString({ ...ref, tag: ref.tag ?? 'latest' });
    if (!out.includes(key)) out.push(key);
  }
  return out;
}

export class Builder {
  constructor(private readonly deps: BuilderDeps) {}

  /** Runs a build; returns the image ID. "Successfully built/tagged" are written too. */
  async build(req: BuildRequest): Promise<string> {
    const dir = await this.deps.images.makeTempDir('build');
    const run = new BuildRun(this.deps, req, dir);
    try {
      const id = await run.execute();
      req.output.stdout(`Successfully built ${STEP_ID(id)}\n`);
      for (const tag of req.options.tags) {
        await this.deps.images.tag(id, tag);
        req.output.stdout(`Successfully tagged ${tag}\n`);
      }
      return id;
    } finally {
      await run.close();
    }
  }
}

/** One build. */
class BuildRun {
  private readonly cache: BuildCache;
  private readonly platform: Platform;
  /** Containers this build made and has not removed yet. */
  private readonly containers = new Set<string>();
  /** Each finished stage's config (its Image is the stage's image), by index and by name. */
  private readonly stageResults: RunConfig[] = [];
  private readonly stageNames = new Map<string, RunConfig>();
  private readonly scratchReleases: Array<() => Promise<void>> = [];
  private context!: BuildContext;
  private lex = new ShellLex();

  constructor(
    private readonly deps: BuilderDeps,
    private readonly req: BuildRequest,
    private readonly dir: string,
  ) {
    const o = req.options;
    this.platform = o.platform !== '' ? parsePlatform(o.platform) : { os: 'linux', architecture: hostArchitecture() };
    this.cache = new BuildCache(
      {
        find: (ref) => deps.images.find(ref),
        builtOn: (id) => deps.images.builtOn(id),
        setParent: (id, parent) => deps.images.setParent(id, parent),
        storeImage: async (config, parent) => `sha256:${(await deps.images.createImage(Buffer.from(JSON.stringify(config)), config, [], { builtOn: parent })).hex}`,
      },
      !o.noCache,
      o.cacheFrom,
    );
  }

  private get out(): BuildOutput {
    return this.req.output;
  }

  async close(): Promise<void> {
    for (const release of this.scratchReleases.splice(0)) await release().catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }

  async execute(): Promise<string> {
    const o = this.req.options;
    this.context = await BuildContext.open(this.req.context, this.dir);
    const text = await this.context.takeDockerfile(o.dockerfile);
    let parsed;
    try {
      parsed = parseDockerfile(text);
    } catch (e) {
      throw new InvalidParameter(`failed to parse ${o.dockerfile}: ${(e as Error).message}`, { cause: e });
    }
    this.lex = new ShellLex(parsed.escapeToken);
    let { stages, metaArgs } = parseStages(parsed.nodes);
    if (o.target !== '') {
      const at = stages.findIndex((s) => s.name.toLowerCase() === o.target.toLowerCase());
      if (at === -1) throw new InvalidParameter(`target stage ${JSON.stringify(o.target)} could not be found`);
      stages = stages.slice(0, at + 1);
    }
    const last = stages[stages.length - 1];
    if (last !== undefined) {
      for (const key of Object.keys(o.labels).sort()) {
        last.commands.push({ kind: 'label', name: 'label', code: `LABEL ${key}=${o.labels[key]!}`, line: 0, labels: [{ key, value: o.labels[key]!, noDelim: false }], noExpand: true });
      }
    }
    for (const w of parsed.warnings) this.out.stderr(`[WARNING]: ${w}\n`);
    if (parsed.warnings.length > 0) this.out.stderr('[WARNING]: Empty continuation lines will become errors in a future release.\n');

    const args = new BuildArgs(o.buildArgs);
    const total = metaArgs.length + stages.length + stages.reduce((n, s) => n + s.commands.length, 0);
    let step = 1;
    const printStep = (text: string): void => {
      this.out.stdout(`Step ${step++}/${total} : ${text}`);
      this.out.stdout('\n');
    };
    for (const meta of metaArgs) {
      printStep(meta.code);
      const expanded = expandInstruction(meta, this.lex, envFromList([...args.allAllowed()].map(([k, v]) => `${k}=${v}`)));
      if (expanded.kind !== 'arg') continue;
      for (const a of expanded.args) {
        args.addArg(a.key, a.value ?? null);
        args.addMetaArg(a.key, a.value ?? null);
      }
    }
    let state: StageState | undefined;
    for (const stage of stages) {
      if (stage.name !== '' && this.stageNames.has(stage.name)) throw new InvalidParameter(`${stage.name} stage name already used`);
      printStep(stage.sourceCode);
      state = await this.beginStage(stage, args);
      this.out.stdout(` ---> ${STEP_ID(state.imageId)}\n`);
      for (const cmd of stage.commands) {
        if (this.req.signal.aborted) {
          this.out.stdout('Build cancelled\n');
          throw new Error('Build cancelled');
        }
        printStep(cmd.code);
        await this.dispatch(state, cmd);
        state.runConfig.Image = state.imageId;
        this.out.stdout(` ---> ${STEP_ID(state.imageId)}\n`);
      }
      if (state.imageId !== '') this.out.imageId(state.imageId);
      args.mergeReferenced(state.args);
      const result = copyRunConfig(state.runConfig);
      if (stage.name !== '') this.stageNames.set(stage.name, result);
      this.stageResults.push(result);
    }
    const unused = args.unused();
    if (unused.length > 0) this.out.stdout(`[Warning] One or more build-args ${goList(unused)} were not consumed\n`);
    if (state === undefined || state.imageId === '') throw new InvalidParameter('No image was generated. Is your Dockerfile empty?');
    return state.imageId;
  }

  // ---------------------------------------------------------------- FROM

  /** FROM: the base image (a stage, scratch, a local image or a pulled one), then its ONBUILD triggers. */
  private async beginStage(stage: Stage, args: BuildArgs): Promise<StageState> {
    this.cache.reset();
    const meta = envFromList([...args.allMeta()].map(([k, v]) => `${k}=${v}`));
    let platform: Platform | undefined;
    if (stage.platform !== '') {
      const p = this.lex.processWord(stage.platform, meta);
      try {
        platform = parsePlatform(p);
      } catch (e) {
        throw new InvalidParameter(`failed to parse platform ${p}: ${(e as Error).message}`, { cause: e });
      }
    }
    const name = this.lex.processWord(stage.baseName, meta);
    if (name === '') throw new InvalidParameter(`base name (${stage.baseName}) should not be blank`);
    const base = await this.baseImage(name, platform);
    const runConfig = copyRunConfig(base.config.config ?? {});
    if (!(runConfig.Env ?? []).some((e) => e.split('=')[0] === 'PATH')) runConfig.Env = [...(runConfig.Env ?? []), `PATH=${DEFAULT_PATH}`];
    runConfig.OpenStdin = false;
    runConfig.StdinOnce = false;
    const state: StageState = { runConfig, cmdSet: false, maintainer: '', imageId: base.id, base, name: stage.name, args: args.forStage() };
    const triggers = runConfig.OnBuild ?? [];
    if (triggers.length > 0) {
      runConfig.OnBuild = null;
      this.out.stdout(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
      for (const trigger of triggers) {
        state.runConfig.Image = state.imageId;
        await this.dispatch(state, parseSingleInstruction(trigger));
      }
    }
    return state;
  }

  /** The image a FROM or COPY --from names: an earlier stage's, scratch, a local image, or one pulled now. */
  private async baseImage(name: string, platform: Platform | undefined): Promise<BaseImage> {
    const stage = this.stageNames.get(name.toLowerCase());
    if (stage !== undefined) return this.imageById(stage.Image ?? '');
    if (name === 'scratch') {
      const p = platform ?? this.platform;
      return { id: '', config: { os: p.os, architecture: p.architecture, ...(p.variant ? { variant: p.variant } : {}), rootfs: { type: 'layers', diff_ids: [] } } };
    }
    if (!this.req.options.pull) {
      const local = this.deps.images.find(name);
      if (local !== null) return { id: local.id, config: local.config };
    }
    return this.pullImage(name, platform);
  }

  private imageById(id: string): BaseImage {
    const rec = id !== '' ? this.deps.images.find(id) : null;
    if (rec === null) return { id: '', config: { os: this.platform.os, architecture: this.platform.architecture, rootfs: { type: 'layers', diff_ids: [] } } };
    return { id: rec.id, config: rec.config };
  }

  /** pullForBuilder: pulls `name` (tag "latest" by default) with the build's credentials, its progress in the build's output. */
  private async pullImage(name: string, platform: Platform | undefined): Promise<BaseImage> {
    const parsed = parseReference(name);
    const ref: Reference = parsed.digest !== undefined || parsed.tag !== undefined ? parsed : { ...parsed, tag: 'latest' };
    const auth = resolveAuthConfig(this.req.options.authConfigs, ref.domain);
    await this.deps.pull({ reference: ref, auth, ...(platform ?? this.reqPlatform() ? { platform: platform ?? this.reqPlatform()! } : {}), signal: this.req.signal }, this.out.progress);
    const rec = this.deps.images.find(familiarString(ref));
    if (rec === null) throw new InvalidParameter(`No such image: ${name}`);
    return { id: rec.id, config: rec.config };
  }

  private reqPlatform(): Platform | undefined {
    return this.req.options.platform !== '' ? this.platform : undefined;
  }

  // ---------------------------------------------------------------- steps

  /** One instruction, its words expanded first; intermediate containers removed after it as --rm/--force-rm say. */
  private async dispatch(state: StageState, raw: Instruction): Promise<void> {
    const env = state.runConfig.Env ?? [];
    const lookup = envFromList([...env, ...state.args.filterAllowed(env)]);
    let ok = false;
    try {
      const cmd = expandInstruction(raw, this.lex, lookup);
      if (isConfigInstruction(cmd)) {
        const comment = applyConfigInstruction(state, cmd, this.lex, lookup, (text) => this.out.stdout(text));
        await this.commit(state, comment);
      } else {
        switch (cmd.kind) {
          case 'arg': {
            for (const a of cmd.args) state.args.addArg(a.key, a.value ?? null);
            await this.commit(state, `ARG ${cmd.args.map((a) => (a.value !== undefined ? `${a.key}=${a.value}` : a.key)).join(' ')}`);
            break;
          }
          case 'workdir':
            await this.workdir(state, cmd.path);
            break;
          case 'run':
            await this.run(state, cmd);
            break;
          case 'copy':
          case 'add':
            await this.copy(state, cmd);
            break;
        }
      }
      ok = true;
    } finally {
      if (this.req.options.forceRemove || (this.req.options.remove && ok)) await this.removeContainers();
    }
  }

  /** A FROM came first: the stage has an image, or starts from nothing. */
  private hasFromImage(state: StageState): boolean {
    return state.imageId !== '' || state.base.id === '';
  }

  /** A step that runs nothing: probe the cache, else an image from a container created with the "#(nop)" command. */
  private async commit(state: StageState, comment: string): Promise<void> {
    if (!this.hasFromImage(state)) throw new InvalidParameter('Please provide a source image with `from` prior to commit');
    const withComment = copyRunConfig(state.runConfig, { Cmd: nopCommand(state.runConfig, comment) });
    if (await this.probeCache(state, withComment)) return;
    if (state.imageId === '') {
      // Nothing to create a container from yet (FROM scratch): the step's image has no layer anyway.
      state.imageId = await this.commitChanges(state, null, '', withComment);
      return;
    }
    const id = await this.create(state, withComment);
    await this.commitContainer(state, id, withComment);
  }

  private async probeCache(state: StageState, config: RunConfig): Promise<boolean> {
    const hit = await this.cache.probe(state.imageId, config, { ...this.platform, os: state.base.config.os ?? this.platform.os });
    if (hit === undefined) return false;
    this.out.stdout(' ---> Using cache\n');
    state.imageId = hit;
    return true;
  }

  /** Creates a step container (not started) on the step's image. */
  private async create(state: StageState, config: RunConfig): Promise<string> {
    const { id, warnings } = await this.deps.containers.create({
      apiVersion: this.req.options.apiVersion,
      image: state.imageId,
      config: { ...copyRunConfig(config), Image: state.imageId },
      hostConfig: { ...this.req.options.hostConfig },
      mounts: [],
      endpoints: {},
    });
    this.containers.add(id);
    for (const w of warnings) this.out.stdout(` ---> [Warning] ${w}\n`);
    this.out.stdout(` ---> Running in ${STEP_ID(id)}\n`);
    return id;
  }

  private async commitContainer(state: StageState, containerId: string, containerConfig: RunConfig): Promise<void> {
    const upper = this.deps.images.containerUpperDir(containerId);
    state.imageId = await this.commitChanges(state, upper !== null ? { dir: upper, runtimePlaceholders: true } : null, containerId, containerConfig);
    // moby's CommitImage logs the image's create event.
    this.deps.images.imageEvent('create', state.imageId, state.imageId);
  }

  /** The step's image: `changes` on the current image, recorded with `containerConfig`. */
  private commitChanges(state: StageState, changes: { dir: string; runtimePlaceholders: boolean } | null, containerId: string, containerConfig: RunConfig): Promise<string> {
    const base = state.base.config;
    return createChildImage(this.deps.images, {
      parentId: state.imageId !== '' ? state.imageId : null,
      platform: { os: base.os ?? this.platform.os, architecture: base.architecture ?? this.platform.architecture, ...(base.variant ? { variant: base.variant } : {}) },
      changes,
      containerId,
      containerConfig: fullContainerConfig({ ...copyRunConfig(containerConfig), Image: state.imageId }),
      config: { ...copyRunConfig(state.runConfig), Image: state.imageId },
      author: state.maintainer,
      comment: '',
      tags: [],
    });
  }

  /** Removes the build's containers, with their anonymous volumes (moby's containerManager.RemoveAll). */
  private async removeContainers(): Promise<void> {
    for (const id of [...this.containers]) {
      try {
        await this.deps.containers.remove(id, { force: true, volumes: true });
      } catch (e) {
        // Gone already (a cancelled RUN's container) is removed, as for moby.
        if (!(e instanceof NotFound)) {
          this.out.stdout(`Removing intermediate container ${STEP_ID(id)}: ${(e as Error).message}\n`);
          continue;
        }
      }
      this.containers.delete(id);
      this.out.stdout(` ---> Removed intermediate container ${STEP_ID(id)}\n`);
    }
  }

  /** WORKDIR: the directory made in a step container's root filesystem. */
  private async workdir(state: StageState, path: string): Promise<void> {
    state.runConfig.WorkingDir = normalizeWorkdir(state.runConfig.WorkingDir ?? '', path);
    const withComment = copyRunConfig(state.runConfig, { Cmd: nopCommandString(state.runConfig, `WORKDIR ${state.runConfig.WorkingDir}`) });
    if (await this.probeCache(state, withComment)) return;
    if (state.imageId === '') {
      await this.inScratchLayer(state, withComment, async (root) => mkdirAllInRoot(root, state.runConfig.WorkingDir!, 0o755));
      return;
    }
    const id = await this.create(state, withComment);
    const { rootfs, release } = await this.deps.containers.rootfs(id);
    try {
      mkdirAllInRoot(rootfs, state.runConfig.WorkingDir, 0o755);
    } finally {
      await release();
    }
    await this.commitContainer(state, id, withComment);
  }

  /** RUN: a container on the step's image runs the command; its changes become the step's layer. */
  private async run(state: StageState, cmd: Extract<Instruction, { kind: 'run' }>): Promise<void> {
    if (cmd.flagsUsed.length > 0) {
      throw new InvalidParameter(`the --${cmd.flagsUsed[0]!} option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled`);
    }
    const c = state.runConfig;
    const cmdLine = resolveCmdLine(cmd.cmdLine, cmd.prependShell, c);
    const buildArgs = state.args.filterAllowed(c.Env ?? []);
    // The build args a step saw are part of its cache key: "|N K=V ..." in front of the command.
    let saveCmd = cmdLine;
    if (buildArgs.length > 0) {
      const recorded = buildArgs.filter((kv) => state.args.isReferencedOrNotBuiltin(kv.split('=')[0]!)).sort();
      saveCmd = [`|${recorded.length}`, ...recorded, ...cmdLine];
    }
    const probe = copyRunConfig(c, { Cmd: saveCmd, ArgsEscaped: false, ...(saveCmd.length > 0 ? { Entrypoint: null } : {}) });
    if (await this.probeCache(state, probe)) return;
    const runConfig = copyRunConfig(c, {
      Cmd: cmdLine,
      ArgsEscaped: false,
      Env: [...(c.Env ?? []), ...buildArgs],
      ...(saveCmd.length > 0 ? { Entrypoint: [''] } : {}),
      Healthcheck: { Test: ['NONE'] },
    });
    if (state.imageId === '') throw new InvalidParameter('RUN needs an image to run in: a FROM scratch stage has no command to run yet');
    const id = await this.create(state, runConfig);
    await this.runContainer(id, cmdLine);
    await this.commitContainer(state, id, probe);
  }

  /** Starts a step container, streams its output, and fails the step on a non-zero exit. */
  private async runContainer(id: string, cmdLine: string[]): Promise<void> {
    const containers = this.deps.containers;
    const cancel = (): void => void containers.remove(id, { force: true, volumes: true }).catch(() => undefined);
    this.req.signal.addEventListener('abort', cancel, { once: true });
    try {
      await containers.start(id);
      for await (const entry of containers.logs(id, { follow: true, stdout: true, stderr: true, signal: this.req.signal })) {
        if (entry.stream === 'stderr') this.out.stderr(entry.log);
        else this.out.stdout(entry.log);
      }
      if (this.req.signal.aborted) throw new Error('build cancelled');
      const { StatusCode } = await containers.wait(id, 'not-running');
      if (StatusCode !== 0) throw new CodedJSONError(`The command '${cmdLine.join(' ')}' returned a non-zero code: ${StatusCode}`, StatusCode);
    } finally {
      this.req.signal.removeEventListener('abort', cancel);
    }
  }

  /** A step written into a scratch layer over the step's image (COPY, ADD, WORKDIR on nothing). */
  private async inScratchLayer(state: StageState, containerConfig: RunConfig, write: (root: string) => Promise<void>): Promise<void> {
    const layer = await this.deps.images.openScratchLayer(state.imageId !== '' ? state.imageId : null);
    try {
      await write(layer.rootfs);
      state.imageId = await this.commitChanges(state, { dir: layer.changes, runtimePlaceholders: false }, '', containerConfig);
    } finally {
      await layer.release();
    }
  }

  /** COPY and ADD. */
  private async copy(state: StageState, cmd: Extract<Instruction, { kind: 'copy' | 'add' }>): Promise<void> {
    const name = cmd.kind === 'copy' ? 'COPY' : 'ADD';
    if (cmd.kind === 'add' && cmd.checksum !== '') throw new InvalidParameter('the --checksum option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled');
    const mode = parseChmod(cmd.chmod);
    const from = cmd.kind === 'copy' ? cmd.from : '';
    let tree: SourceTree = this.context;
    if (from !== '') {
      const image = await this.copySourceImage(from).catch((e: unknown) => {
        throw new InvalidParameter(`invalid from flag value ${from}: ${(e as Error).message}`, { cause: e });
      });
      const layer = await this.deps.images.openScratchLayer(image.id !== '' ? image.id : null);
      this.scratchReleases.push(layer.release);
      tree = new RootfsSourceTree(layer.rootfs);
    }
    const sources: CopySource[] = [];
    try {
      for (const src of cmd.sources) {
        if (/^https?:\/\//.test(src)) {
          if (cmd.kind === 'copy') throw new InvalidParameter('source can\'t be a URL for COPY');
          throw new InvalidParameter(`berth cannot download ${src}: ADD of a URL is not supported (berth builds without network access to fetch it); download it into the build context and ADD or COPY it from there`);
        }
        sources.push(...(await resolveSources(tree, src, from === '')));
      }
      if (sources.length === 0) throw new InvalidParameter('no source files were specified');
    } catch (e) {
      throw new InvalidParameter(`${name} failed: ${(e as Error).message}`, { cause: e });
    }
    if (sources.length > 1 && !cmd.dest.endsWith('/')) throw new InvalidParameter(`When using ${name} with more than one source file, the destination must be a directory and end with a /`);
    const flags = `${cmd.chown !== '' ? `--chown=${cmd.chown} ` : ''}${cmd.chmod !== '' ? `--chmod=${cmd.chmod} ` : ''}`;
    const withComment = copyRunConfig(state.runConfig, { Cmd: nopCommandString(state.runConfig, `${name} ${flags}${sourcesHash(sources)} in ${cmd.dest} `) });
    if (await this.probeCache(state, withComment)) return;
    const preserveOwnership = from !== '' && cmd.chown === '';
    await this.inScratchLayer(state, withComment, async (root) => {
      const owner = cmd.chown !== '' ? await parseChown(root, cmd.chown) : preserveOwnership ? null : { uid: 0, gid: 0 };
      const dest = normalizeDest(state.runConfig.WorkingDir ?? '', cmd.dest);
      await copySources(root, sources, { dest, decompress: cmd.kind === 'add', owner, mode }).catch((e: unknown) => {
        throw new InvalidParameter(`failed to copy files: ${(e as Error).message}`, { cause: e });
      });
    });
  }

  /** COPY --from's image: a stage by name or index, else an image reference (pulled when missing). */
  private async copySourceImage(from: string): Promise<BaseImage> {
    const named = this.stageNames.get(from.toLowerCase());
    if (named !== undefined) return this.imageById(named.Image ?? '');
    if (/^[+-]?\d+$/.test(from)) {
      const index = Number(from);
      if (index === this.stageResults.length) throw new Error('refers to current build stage');
      if (index < 0 || index > this.stageResults.length) throw new Error('index out of bounds');
      return this.imageById(this.stageResults[index]!.Image ?? '');
    }
    if (!this.req.options.pull) {
      const local = this.deps.images.find(from);
      if (local !== null) return { id: local.id, config: local.config };
    }
    return this.pullImage(from, undefined);
  }
}

