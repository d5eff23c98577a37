// posix_spawn(3) for the processes berthd starts on a container's start path
// (conmon). Node's spawn forks berthd, and fork copies its page tables: the
// cost grows with berthd's memory (2 ms at 150 MB resident, 6 ms at 300 MB).
// glibc's posix_spawn uses clone(CLONE_VM|CLONE_VFORK): no copy, about
// 0.2 ms whatever berthd's size. The caller reaps the child (util/reaper.ts):
// libuv knows nothing of it.
import koffi from 'koffi';
import { closeSync, constants as fsConstants } from 'node:fs';
import { check, errnoError, libcFunction } from './libc.js';

const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;

// glibc x86_64/arm64: posix_spawnattr_t is 336 bytes, posix_spawn_file_actions_t 80, sigset_t 128; room to spare.
const ATTR_SIZE = 512;
const ACTIONS_SIZE = 256;
const SIGSET_SIZE = 256;

type Fn<A extends unknown[]> = (...args: A) => number;
interface SpawnBindings {
  spawn: Fn<[[number], string, Buffer, Buffer, Array<string | null>, Array<string | null>]>;
  actionsInit: Fn<[Buffer]>;
  actionsDestroy: Fn<[Buffer]>;
  addDup2: Fn<[Buffer, number, number]>;
  addOpen: Fn<[Buffer, number, string, number, number]>;
  addChdir: Fn<[Buffer, string]>;
  attrInit: Fn<[Buffer]>;
  attrDestroy: Fn<[Buffer]>;
  attrSetFlags: Fn<[Buffer, number]>;
  attrSetSigMask: Fn<[Buffer, Buffer]>;
  attrSetSigDefault: Fn<[Buffer, Buffer]>;
  sigEmptySet: Fn<[Buffer]>;
  socketpair: Fn<[number, number, number, [number, number]]>;
}

let bindings: SpawnBindings | undefined;

function lib(): SpawnBindings {
  bindings ??= {
    spawn: libcFunction('int posix_spawnp(_Out_ int *pid, const char *path, void *actions, void *attr, const char **argv, const char **envp)'),
    actionsInit: libcFunction('int posix_spawn_file_actions_init(void *actions)'),
    actionsDestroy: libcFunction('int posix_spawn_file_actions_destroy(void *actions)'),
    addDup2: libcFunction('int posix_spawn_file_actions_adddup2(void *actions, int fd, int newfd)'),
    addOpen: libcFunction('int posix_spawn_file_actions_addopen(void *actions, int fd, const char *path, int oflag, uint32_t mode)'),
    addChdir: libcFunction('int posix_spawn_file_actions_addchdir_np(void *actions, const char *path)'),
    attrInit: libcFunction('int posix_spawnattr_init(void *attr)'),
    attrDestroy: libcFunction('int posix_spawnattr_destroy(void *attr)'),
    attrSetFlags: libcFunction('int posix_spawnattr_setflags(void *attr, short flags)'),
    attrSetSigMask: libcFunction('int posix_spawnattr_setsigmask(void *attr, const void *mask)'),
    attrSetSigDefault: libcFunction('int posix_spawnattr_setsigdefault(void *attr, const void *set)'),
    sigEmptySet: libcFunction('int sigemptyset(void *set)'),
    socketpair: libcFunction('int socketpair(int domain, int type, int protocol, _Out_ int *sv)'),
  };
  return bindings;
}

/** The posix_spawn functions return an error number instead of setting errno. */
function checkReturn(rc: number, call: string, path?: string): void {
  if (rc !== 0) throw errnoError(rc, call, path);
}

export interface SpawnOptions {
  env: Record<string, string | undefined>;
  cwd: string;
  /**
   * The child's descriptors, from 1 up, that get one end of a socket pair
   * (what Node's 'pipe' stdio is); stdin is /dev/null.
   */
  pipes: number;
}

export interface SpawnedChild {
  pid: number;
  /** Berthd's end of each socket pair, by the child's descriptor (index 0 is the child's fd 1). */
  fds: number[];
}

/**
 * Starts `file` (looked up on PATH as execvp does) with `args` after
 * argv[0]: stdin /dev/null, fds 1..pipes
 * connected to berthd, every signal at its default and none blocked (as libuv
 * does: berthd ignores SIGPIPE, its children must not), nothing else inherited
 * (berthd's descriptors are close-on-exec).
 */
export function posixSpawn(file: string, args: readonly string[], opts: SpawnOptions): SpawnedChild {
  const l = lib();
  const ours: number[] = [];
  const theirs: number[] = [];
  const actions = Buffer.alloc(ACTIONS_SIZE);
  const attr = Buffer.alloc(ATTR_SIZE);
  checkReturn(l.actionsInit(actions), 'posix_spawn_file_actions_init');
  checkReturn(l.attrInit(attr), 'posix_spawnattr_init');
  try {
    for (let i = 0; i < opts.pipes; i++) {
      const pair: [number, number] = [-1, -1];
      check(l.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 'socketpair');
      ours.push(pair[0]);
      theirs.push(pair[1]);
    }
    checkReturn(l.addOpen(actions, 0, '/dev/null', fsConstants.O_RDONLY, 0), 'posix_spawn_file_actions_addopen');
    // dup2 clears close-on-exec on the copy; the originals (numbered above any
    // target: berthd has its own stdio and more open) close at exec.
    theirs.forEach((fd, i) => checkReturn(l.addDup2(actions, fd, i + 1), 'posix_spawn_file_actions_adddup2'));
    checkReturn(l.addChdir(actions, opts.cwd), 'posix_spawn_file_actions_addchdir_np', opts.cwd);
    const none = Buffer.alloc(SIGSET_SIZE);
    l.sigEmptySet(none);
    // Every bit, not sigfillset(3): that one leaves out glibc's internal
    // signals (32, 33), which posix_spawn then sets to SIG_IGN, and an
    // ignored signal stays ignored through exec, down to the container.
    const all = Buffer.alloc(SIGSET_SIZE, 0xff);
    checkReturn(l.attrSetSigMask(attr, none), 'posix_spawnattr_setsigmask');
    checkReturn(l.attrSetSigDefault(attr, all), 'posix_spawnattr_setsigdefault');
    checkReturn(l.attrSetFlags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK), 'posix_spawnattr_setflags');
    const env = Object.entries(opts.env)
      .filter((e): e is [string, string] => e[1] !== undefined)
      .map(([k, v]) => `${k}=${v}`);
    const pid: [number] = [0];
    checkReturn(l.spawn(pid, file, actions, attr, [file, ...args, null], [...env, null]), 'posix_spawnp', file);
    return { pid: pid[0], fds: ours };
  } catch (e) {
    for (const fd of ours) closeSync(fd);
    throw e;
  } finally {
    for (const fd of theirs) closeSync(fd);
    l.actionsDestroy(actions);
    l.attrDestroy(attr);
  }
}
