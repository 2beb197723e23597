/**
 * Restart policies (`--restart no|always|unless-stopped|on-failure[:N]`), as pure rules. The fold
 * uses `restartPolicyAllows` when a container exits: the container becomes "restarting" instead of
 * "exited", so ps, inspect and replay show it, and the engine starts it again after
 * `restartDelayMs`. Nothing about a pending restart is stored anywhere but in the fold.
 */
import type { RestartPolicy } from '../../events/index.js';
import { InvalidArgumentError } from '../engine/errors.js';
import type { ContainerState } from './engine-state.js';

const NAMES = ['always', 'unless-stopped', 'on-failure'] as const;

/** Docker's first delay before a restart; it doubles after each short run, up to a minute. */
export const RESTART_DELAY_MS = 100;
export const MAX_RESTART_DELAY_MS = 60_000;
/** A run at least this long starts the doubling over (Docker's rule). */
export const RESET_AFTER_MS = 10_000;

/** Checks an API RestartPolicy; undefined for "no" (or nothing). */
export function parseRestartPolicy(name: string | undefined, maximumRetryCount: number | undefined): RestartPolicy | undefined {
  const max = maximumRetryCount ?? 0;
  if (name === undefined || name === '' || name === 'no') {
    if (max !== 0) throw new InvalidArgumentError(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
    return undefined;
  }
  if (!(NAMES as readonly string[]).includes(name)) throw new InvalidArgumentError(`invalid restart policy '${name}': use no, always, unless-stopped or on-failure[:max-retries]`);
  if (!Number.isInteger(max) || max < 0) throw new InvalidArgumentError(`invalid restart policy: maximum retry count cannot be negative`);
  if (max !== 0 && name !== 'on-failure') throw new InvalidArgumentError(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  return { Name: name, MaximumRetryCount: max };
}

/** Whether a container that just exited with `exitCode` is to be started again. */
export function restartPolicyAllows(c: Pick<ContainerState, 'hostConfig' | 'manuallyStopped' | 'restartCount'>, exitCode: number): boolean {
  const policy = c.hostConfig.RestartPolicy;
  if (!policy || c.manuallyStopped) return false;
  if (policy.Name === 'always' || policy.Name === 'unless-stopped') return true;
  if (policy.Name === 'on-failure') return exitCode !== 0 && (policy.MaximumRetryCount === 0 || c.restartCount < policy.MaximumRetryCount);
  return false;
}

/** How long to wait before the next restart: 100 ms, doubling with each restart of a short run, at most a minute. */
export function restartDelayMs(restartCount: number, ranMs: number): number {
  if (ranMs >= RESET_AFTER_MS) return RESTART_DELAY_MS;
  return Math.min(RESTART_DELAY_MS * 2 ** Math.min(restartCount, 20), MAX_RESTART_DELAY_MS);
}

/** What a daemon start does with a container that is not running: start it (Docker's rules), or leave it. */
export function startOnDaemonStart(c: Pick<ContainerState, 'hostConfig' | 'manuallyStopped' | 'status'>): boolean {
  if (c.status === 'restarting') return true;
  if (c.status !== 'exited') return false;
  const name = c.hostConfig.RestartPolicy?.Name;
  return name === 'always' || (name === 'unless-stopped' && !c.manuallyStopped);
}
