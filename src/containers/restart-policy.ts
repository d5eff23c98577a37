// Restart policies as dockerd applies them (restartmanager/restartmanager.go,
// daemon/monitor.go): `no`, `always`, `unless-stopped`, `on-failure[:N]`,
// with a delay of 100 ms that doubles at each restart (at most a minute) and
// starts over after a run of 10 seconds or more.
import { InvalidParameter } from '../errors.js';

export interface RestartPolicy {
  Name: string;
  MaximumRetryCount: number;
}

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 60_000;
/** A run at least this long resets the delay. */
const STABLE_RUN_MS = 10_000;

/** The policy in a stored HostConfig (Docker's default when absent). */
export function restartPolicyOf(hostConfig: Record<string, unknown>): RestartPolicy {
  const p = hostConfig.RestartPolicy as Partial<RestartPolicy> | undefined;
  return { Name: typeof p?.Name === 'string' ? p.Name : '', MaximumRetryCount: typeof p?.MaximumRetryCount === 'number' ? p.MaximumRetryCount : 0 };
}

export function isNoRestart(p: RestartPolicy): boolean {
  return p.Name === '' || p.Name === 'no';
}

/** dockerd's ValidateRestartPolicy: its messages, as 400s. */
export function validateRestartPolicy(p: RestartPolicy): void {
  switch (p.Name) {
    case 'always':
    case 'unless-stopped':
    case 'no':
      if (p.MaximumRetryCount !== 0) {
        throw new InvalidParameter(
          `invalid restart policy: maximum retry count can only be used with 'on-failure'${p.MaximumRetryCount < 0 ? ' and cannot be negative' : ''}`,
        );
      }
      return;
    case 'on-failure':
      if (p.MaximumRetryCount < 0) throw new InvalidParameter('invalid restart policy: maximum retry count cannot be negative');
      return;
    case '':
      // Docker before 25.0 stored an empty name as the default.
      return;
    default:
      throw new InvalidParameter(`invalid restart policy: unknown policy '${p.Name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
}

/**
 * Whether a container that ended should run again under `policy`, having
 * already been restarted `restartCount` times by it. Also what decides
 * whether berthd starts a stopped container at its own start.
 */
export function policyRestarts(policy: RestartPolicy, exitCode: number, manuallyStopped: boolean, restartCount: number): boolean {
  switch (policy.Name) {
    case 'always':
      return true;
    case 'unless-stopped':
      return !manuallyStopped;
    case 'on-failure':
      // A MaximumRetryCount of 0 sets no limit.
      return exitCode !== 0 && (policy.MaximumRetryCount === 0 || restartCount < policy.MaximumRetryCount);
    default:
      return false;
  }
}

/**
 * One container's restart state while berthd runs: the growing delay, and
 * whether a stop or kill has cancelled restarting until the next explicit
 * start (dockerd's ExitOnNext).
 */
export class RestartManager {
  private delayMs = 0;
  private cancelled = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    public policy: RestartPolicy,
    private restartCount: number,
  ) {}

  /**
   * After an exit: the delay before the container runs again, or null when
   * it stays stopped. A restart counts from here (the container's RestartCount).
   */
  next(exitCode: number, manuallyStopped: boolean, runMs: number): number | null {
    if (isNoRestart(this.policy) || this.cancelled || this.timer) return null;
    if (runMs >= STABLE_RUN_MS) this.delayMs = 0;
    this.delayMs = this.delayMs === 0 ? FIRST_DELAY_MS : Math.min(this.delayMs * 2, MAX_DELAY_MS);
    if (!policyRestarts(this.policy, exitCode, manuallyStopped, this.restartCount)) return null;
    this.restartCount++;
    return this.delayMs;
  }

  /** Runs `restart` after `delayMs` unless cancelled first. */
  schedule(delayMs: number, restart: () => void): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.cancelled) restart();
    }, delayMs);
  }

  /** True while a restart waits for its delay. */
  get pending(): boolean {
    return this.timer !== undefined;
  }

  /** No more restarts from this manager; a pending one is dropped. Returns true when one was pending. */
  cancel(): boolean {
    this.cancelled = true;
    const wasPending = this.timer !== undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    return wasPending;
  }
}
