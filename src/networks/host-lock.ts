// The host's IPv4 address space is shared by every berthd on the machine
// (tests run several at once): choosing a free subnet (reading the host's
// routes) and giving a bridge its address happen under one host-wide flock,
// so two daemons never pick the same subnet. The critical section is
// synchronous and short (a netlink call or two), so the lock is taken
// blocking.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { check, libcFunction } from '../util/libc.js';

const LOCK_EX = 2;
const LOCK_UN = 8;

/** Where the lock lives unless berthd is told otherwise. */
export const DEFAULT_ADDRESS_LOCK = '/run/lock/berth-address-pools.lock';

type Flock = (fd: number, op: number) => number;
let flock: Flock | undefined;

export function withHostLock<T>(path: string, fn: () => T): T {
  flock ??= libcFunction<Flock>('int flock(int fd, int op)');
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'a', 0o600);
  try {
    check(flock(fd, LOCK_EX), 'flock', path);
    try {
      return fn();
    } finally {
      flock(fd, LOCK_UN);
    }
  } finally {
    closeSync(fd);
  }
}
