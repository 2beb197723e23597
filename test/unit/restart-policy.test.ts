// Unit: restart policies as pure rules (core/state/restart-policy.ts) and what the fold makes of
// them: "restarting" after an exit the policy covers, a stop that cancels it, Docker's RestartCount.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineEvent, HostConfig } from '../../events/index.js';
import { restartPolicyFlag } from '../../cli/lib/create-body.js';
import { ConflictError } from '../../core/engine/errors.js';
import { decideKill, decideRemove, decideStop } from '../../core/state/decide.js';
import type { ContainerState } from '../../core/state/engine-state.js';
import { parseRestartPolicy, restartDelayMs, restartPolicyAllows, startOnDaemonStart } from '../../core/state/restart-policy.js';
import { containerCreated, given } from '../fixtures/event-envelopes.js';

const ID = 'd'.repeat(64);
const IMG = `sha256:${'e'.repeat(64)}`;

function created(hostConfig: Partial<HostConfig>): EngineEvent {
  return containerCreated(ID, 'c', { hostConfig, image: IMG });
}
const started = (restart = false): EngineEvent => ({ type: 'ContainerStarted', data: { id: ID, pid: 10, shimPid: 9, drivers: [], ...(restart ? { restart: true } : {}) } });
const exited = (exitCode: number): EngineEvent => ({ type: 'ContainerExited', data: { id: ID, name: 'web', exitCode, signal: null, oomKilled: false, finishedAt: '2026-11-28T10:01:00.000000000Z' } });
const fold = (events: EngineEvent[]): ContainerState => given(events).containers[ID]!;

describe('restart policies', () => {
  it('checks a policy as Docker does', () => {
    assert.equal(parseRestartPolicy(undefined, undefined), undefined);
    assert.equal(parseRestartPolicy('no', 0), undefined);
    assert.deepEqual(parseRestartPolicy('on-failure', 3), { Name: 'on-failure', MaximumRetryCount: 3 });
    assert.deepEqual(parseRestartPolicy('unless-stopped', undefined), { Name: 'unless-stopped', MaximumRetryCount: 0 });
    assert.throws(() => parseRestartPolicy('sometimes', 0), /invalid restart policy 'sometimes'/);
    assert.throws(() => parseRestartPolicy('always', 2), /can only be used with 'on-failure'/);
    assert.throws(() => parseRestartPolicy('on-failure', -1), /cannot be negative/);
  });

  it('decides after an exit: always and unless-stopped yes, on-failure for failures within its count, never after a stop', () => {
    const c = (name: string, max: number, restartCount: number, manuallyStopped = false): Pick<ContainerState, 'hostConfig' | 'manuallyStopped' | 'restartCount'> => ({
      hostConfig: { AutoRemove: false, LogConfig: { Type: 'json-file', Config: {} }, RestartPolicy: { Name: name, MaximumRetryCount: max } },
      manuallyStopped, restartCount,
    });
    assert.equal(restartPolicyAllows(c('always', 0, 50), 0), true);
    assert.equal(restartPolicyAllows(c('unless-stopped', 0, 0), 1), true);
    assert.equal(restartPolicyAllows(c('always', 0, 0, true), 1), false);
    assert.equal(restartPolicyAllows(c('on-failure', 0, 99), 1), true);
    assert.equal(restartPolicyAllows(c('on-failure', 0, 0), 0), false);
    assert.equal(restartPolicyAllows(c('on-failure', 2, 1), 3), true);
    assert.equal(restartPolicyAllows(c('on-failure', 2, 2), 3), false);
    assert.equal(restartPolicyAllows({ hostConfig: { AutoRemove: false, LogConfig: { Type: '', Config: {} } }, manuallyStopped: false, restartCount: 0 }, 1), false);
  });

  it('waits 100 ms, doubling after each short run up to a minute, and 100 ms again after a run of 10 s', () => {
    assert.deepEqual([0, 1, 2, 3].map((n) => restartDelayMs(n, 500)), [100, 200, 400, 800]);
    assert.equal(restartDelayMs(30, 500), 60_000);
    assert.equal(restartDelayMs(30, 10_000), 100);
  });

  it('starts on a daemon start what was restarting, always ones, and unless-stopped ones not stopped on request', () => {
    const hc = (name: string): HostConfig => ({ AutoRemove: false, LogConfig: { Type: '', Config: {} }, RestartPolicy: { Name: name, MaximumRetryCount: 0 } });
    assert.equal(startOnDaemonStart({ status: 'restarting', hostConfig: hc('on-failure'), manuallyStopped: false }), true);
    assert.equal(startOnDaemonStart({ status: 'exited', hostConfig: hc('always'), manuallyStopped: true }), true);
    assert.equal(startOnDaemonStart({ status: 'exited', hostConfig: hc('unless-stopped'), manuallyStopped: true }), false);
    assert.equal(startOnDaemonStart({ status: 'exited', hostConfig: hc('unless-stopped'), manuallyStopped: false }), true);
    assert.equal(startOnDaemonStart({ status: 'exited', hostConfig: hc('on-failure'), manuallyStopped: false }), false);
    assert.equal(startOnDaemonStart({ status: 'running', hostConfig: hc('always'), manuallyStopped: false }), false);
  });

  it('the fold: restarting after a covered exit, RestartCount counts policy starts and a manual start resets it', () => {
    const policy = { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } };
    assert.equal(fold([created(policy), started(), exited(3)]).status, 'restarting');
    const twice = fold([created(policy), started(), exited(3), started(true), exited(3), started(true), exited(3)]);
    assert.deepEqual([twice.status, twice.restartCount], ['exited', 2]);
    const manual = fold([created(policy), started(), exited(3), started(true), exited(3), started()]);
    assert.deepEqual([manual.status, manual.restartCount], ['running', 0]);
    assert.equal(fold([created({}), started(), exited(3)]).status, 'exited', 'no policy, no restart');
  });

  it('the fold: a stop cancels a pending restart and keeps the container stopped; a kill with SIGKILL too, SIGHUP not', () => {
    const always = { RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } };
    const stop: EngineEvent = { type: 'ContainerStopRequested', data: { id: ID, signal: 'SIGTERM', timeoutSeconds: 10 } };
    const cancelled = fold([created(always), started(), exited(1), stop]);
    assert.deepEqual([cancelled.status, cancelled.manuallyStopped], ['exited', true]);
    assert.equal(fold([created(always), started(), stop, exited(143)]).status, 'exited');
    const kill = (signal: string): EngineEvent => ({ type: 'ContainerKillRequested', data: { id: ID, signal } });
    assert.equal(fold([created(always), started(), kill('SIGKILL'), exited(137)]).status, 'exited');
    assert.equal(fold([created(always), started(), kill('HUP'), exited(129)]).status, 'restarting');
    assert.equal(fold([created(always), started(), kill('SIGKILL'), exited(137), started()]).manuallyStopped, false, 'a start forgets the stop');
  });

  it('the fold: update sets a policy, null takes it away, and no restartPolicy keeps it', () => {
    const update = (restartPolicy?: { Name: string; MaximumRetryCount: number } | null): EngineEvent => ({
      type: 'ContainerLimitsUpdated', data: { id: ID, limits: { Memory: 1 << 26 }, ...(restartPolicy !== undefined ? { restartPolicy } : {}) },
    });
    const set = fold([created({}), started(), update({ Name: 'always', MaximumRetryCount: 0 })]);
    assert.deepEqual(set.hostConfig.RestartPolicy, { Name: 'always', MaximumRetryCount: 0 });
    assert.equal(set.hostConfig.Memory, 1 << 26);
    assert.deepEqual(fold([created({}), started(), update({ Name: 'always', MaximumRetryCount: 0 }), update()]).hostConfig.RestartPolicy, { Name: 'always', MaximumRetryCount: 0 });
    assert.equal('RestartPolicy' in fold([created({}), started(), update({ Name: 'always', MaximumRetryCount: 0 }), update(null)]).hostConfig, false);
  });

  it('the fold: a start that failed leaves a container that never ran "created" (as Docker), one that ran "exited"', () => {
    const failed: EngineEvent = { type: 'ContainerStartFailed', data: { id: ID, driver: 'isolator.v1.namespaces', message: 'exec: "x": not found', exitCode: 127 } };
    const never = fold([created({}), failed]);
    assert.deepEqual([never.status, never.exitCode, never.error], ['created', 127, 'exec: "x": not found']);
    assert.equal(fold([created({}), started(), exited(0), failed]).status, 'exited');
  });

  it('decide: stop of a restarting container is allowed, kill and rm without force are refused with Docker\'s words', () => {
    const c = fold([created({ RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } }), started(), exited(1)]);
    assert.equal(decideStop(c, 'SIGTERM', 10).length, 1);
    assert.throws(() => decideKill(c, 'SIGKILL'), (e: unknown) => e instanceof ConflictError && /is restarting, wait until the container is running/.test(e.message));
    assert.throws(() => decideRemove(c, false), /You cannot remove a restarting container/);
    assert.equal(decideRemove(c, true).length, 1);
  });

  it('CLI: --restart values', () => {
    assert.equal(restartPolicyFlag(undefined, false, 125), undefined);
    assert.deepEqual(restartPolicyFlag('on-failure:5', false, 125), { Name: 'on-failure', MaximumRetryCount: 5 });
    assert.deepEqual(restartPolicyFlag('always', false, 125), { Name: 'always', MaximumRetryCount: 0 });
    assert.deepEqual(restartPolicyFlag('no', true, 125), { Name: 'no', MaximumRetryCount: 0 });
    assert.throws(() => restartPolicyFlag('always', true, 125), /Conflicting options: --restart and --rm/);
    assert.throws(() => restartPolicyFlag('on-failure:x', false, 125), /must be an integer/);
  });
});
