import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineEvent } from '../../events/index.js';
import { ConflictError, NotModifiedError, NotFoundError } from '../../core/engine/errors.js';
import {
  decideCommit, decideCreate, decideExecStart, decideExit, decideKill, decideRemove, decideRename, decideStart, decideStop,
} from '../../core/state/decide.js';
import { foldAll } from '../../core/state/evolve.js';
import { findContainer, findImage } from '../../core/state/lookup.js';
import { BUSYBOX_IMAGE, containerCreated, envelopes, given } from '../fixtures/event-envelopes.js';

const ID = 'a'.repeat(63) + '1';
const ID2 = 'b'.repeat(63) + '2';
const IMG = BUSYBOX_IMAGE;

describe('unit: the fold', () => {
  it('given created, started, exited: ps shows the exit code and the real finish time', () => {
    const s = given([
      containerCreated(ID, 'web'),
      { type: 'ContainerStarted', data: { id: ID, pid: 42, shimPid: 41, drivers: ['isolator.v1.namespaces'] } },
      { type: 'ContainerExited', data: { id: ID, name: 'web', exitCode: 137, signal: 9, oomKilled: true, finishedAt: '2026-11-28T09:59:00Z' } },
    ]);
    const c = s.containers[ID]!;
    assert.equal(c.status, 'exited');
    assert.equal(c.exitCode, 137);
    assert.equal(c.oomKilled, true);
    assert.equal(c.finishedAt, '2026-11-28T09:59:00Z');
    assert.equal(c.version, 3);
    assert.equal(s.position, 3);
  });

  it('removed containers leave the state, with their execs', () => {
    const s = given([
      containerCreated(ID, 'web'),
      { type: 'ContainerStarted', data: { id: ID, pid: 42, shimPid: 41, drivers: [] } },
      { type: 'ExecCreated', data: { id: ID, execId: 'e1', cmd: ['true'], env: [], workingDir: '', user: '', tty: false, attachStdin: false, attachStdout: true, attachStderr: true } },
      { type: 'ContainerRemoved', data: { id: ID } },
    ]);
    assert.deepEqual(Object.keys(s.containers), []);
    assert.deepEqual(Object.keys(s.execs), []);
  });

  it('a tag moves from one image to another', () => {
    const img2 = `sha256:${'d'.repeat(64)}`;
    const image = (id: string): EngineEvent => ({
      type: 'ImageCreated',
      data: {
        id, origin: 'import', source: 'x.tar', parent: null, layers: [{ diffId: id, size: 10 }],
        config: { Env: [], Cmd: null, Entrypoint: null, WorkingDir: '', User: '', Labels: {} }, history: [],
        created: '2026-01-01T00:00:00Z', architecture: 'amd64', os: 'linux',
      },
    });
    const s = given([
      image(IMG), { type: 'ImageTagged', data: { id: IMG, ref: 'app:latest' } },
      image(img2), { type: 'ImageTagged', data: { id: img2, ref: 'app:latest' } },
    ]);
    assert.deepEqual(s.images[IMG]!.tags, []);
    assert.deepEqual(s.images[img2]!.tags, ['app:latest']);
    assert.equal(findImage(s, 'app').id, img2);
    assert.equal(findImage(s, 'docker.io/library/app:latest').id, img2);
    assert.equal(findImage(s, 'dddd').id, img2);
  });
});

describe('unit: lifecycle rules (decide)', () => {
  const s = given([containerCreated(ID, 'web'), containerCreated(ID2, 'db')]);

  it('a taken name is a conflict with Docker\'s message', () => {
    const again = containerCreated(ID2.replace('2', '3'), 'web');
    assert.ok(again.type === 'ContainerCreated');
    assert.throws(() => decideCreate(s, again.data), ConflictError);
    assert.throws(() => decideRename(s, s.containers[ID2]!, 'web'), /already in use/);
  });

  it('stop of a created container is 304, kill is 409, rm without force of a running one is 409', () => {
    const c = s.containers[ID]!;
    assert.throws(() => decideStop(c, 'SIGTERM', 10), NotModifiedError);
    assert.throws(() => decideKill(c, 'SIGKILL'), ConflictError);
    const running = { ...c, status: 'running' as const };
    assert.throws(() => decideRemove(running, false), /container is running/);
    assert.deepEqual(decideRemove(running, true), [{ type: 'ContainerRemoving', data: { id: ID, force: true } }]);
    assert.throws(() => decideStart(running), NotModifiedError);
  });

  it('start returns its intent (a restart by the policy says so); a start under way refuses another start and a removal', () => {
    const c = s.containers[ID]!;
    assert.deepEqual(decideStart(c), [{ type: 'ContainerStarting', data: { id: ID } }]);
    assert.deepEqual(decideStart({ ...c, status: 'restarting' }, true), [{ type: 'ContainerStarting', data: { id: ID, restart: true } }]);
    const starting = given([containerCreated(ID, 'web'), ...decideStart(c)]).containers[ID]!;
    assert.equal(starting.starting, true);
    assert.equal(starting.status, 'created', 'ps shows it created until it started');
    assert.throws(() => decideStart(starting), /already starting/);
    assert.throws(() => decideRemove(starting, true), /is starting/);
  });

  it('an exit is recorded once per run, and only for a container whose process ran', () => {
    const status = { exitCode: 3, signal: null, oomKilled: false, finishedAt: '2026-11-28T10:00:09Z' };
    const running = { ...s.containers[ID]!, status: 'running' as const };
    assert.deepEqual(decideExit(running, status), [{ type: 'ContainerExited', data: { id: ID, name: 'web', ...status } }]);
    assert.deepEqual(decideExit({ ...running, status: 'exited' }, status), []);
    assert.deepEqual(decideExit({ ...running, status: 'created' }, status), []);
    assert.deepEqual(decideExit(undefined, status), []);
  });

  it('exec start and commit return their intents; a second one is refused', () => {
    const state = given([
      containerCreated(ID, 'web'),
      { type: 'ContainerStarted', data: { id: ID, pid: 42, shimPid: 41, drivers: [] } },
      { type: 'ExecCreated', data: { id: ID, execId: 'e1', cmd: ['true'], env: [], workingDir: '', user: '', tty: false, attachStdin: false, attachStdout: true, attachStderr: true } },
    ]);
    const c = state.containers[ID]!;
    assert.deepEqual(decideExecStart(c, state.execs['e1']!), [{ type: 'ExecStarting', data: { id: ID, execId: 'e1' } }]);
    assert.throws(() => decideExecStart(c, { ...state.execs['e1']!, starting: true }), /already been started/);
    assert.deepEqual(decideCommit(c, true), [{ type: 'ContainerCommitting', data: { id: ID, paused: true } }]);
    assert.throws(() => decideCommit({ ...c, committing: { paused: false, since: state.time } }, false), /already being committed/);
  });

  it('finds containers by id, prefix and name', () => {
    assert.equal(findContainer(s, 'web').id, ID);
    assert.equal(findContainer(s, '/db').id, ID2);
    assert.equal(findContainer(s, 'aaaa').id, ID);
    assert.throws(() => findContainer(s, 'nope'), NotFoundError);
  });
});

describe('unit: the fold of intents and steps', () => {
  it('given a start intent and its steps: the steps are kept until the final event, undone steps drop out', () => {
    const step = (kind: string): EngineEvent => ({ type: 'ContainerStartStepDone', data: { id: ID, kind, driverId: `${kind}.x`, output: { k: kind } } });
    const mid = given([containerCreated(ID, 'web'), { type: 'ContainerStarting', data: { id: ID } }, step('storage.v1'), step('limiter.v1')]);
    assert.deepEqual(mid.containers[ID]!.startSteps.map((x) => x.kind), ['storage.v1', 'limiter.v1']);
    const undone = given([
      containerCreated(ID, 'web'), { type: 'ContainerStarting', data: { id: ID } }, step('storage.v1'), step('limiter.v1'),
      { type: 'ContainerStartStepUndone', data: { id: ID, kind: 'limiter.v1', driverId: 'limiter.v1.x' } },
      { type: 'ContainerStartFailed', data: { id: ID, driver: 'engine', message: 'gone', exitCode: 125 } },
    ]).containers[ID]!;
    assert.equal(undone.starting, false);
    assert.deepEqual(undone.startSteps, []);
    assert.equal(undone.status, 'created');
  });

  it('a stop under way is remembered until the exit; a removal intent makes it "removing"; an exec lost by the daemon ends with its reason', () => {
    const s = given([
      containerCreated(ID, 'web'),
      { type: 'ContainerStarted', data: { id: ID, pid: 42, shimPid: 41, drivers: [] } },
      { type: 'ContainerStopRequested', data: { id: ID, signal: 'SIGTERM', timeoutSeconds: 3 } },
      { type: 'ExecCreated', data: { id: ID, execId: 'e1', cmd: ['true'], env: [], workingDir: '', user: '', tty: false, attachStdin: false, attachStdout: true, attachStderr: true } },
      { type: 'ExecStarting', data: { id: ID, execId: 'e1' } },
    ]);
    assert.deepEqual(s.containers[ID]!.stopping, { signal: 'SIGTERM', timeoutSeconds: 3 });
    assert.equal(s.execs['e1']!.starting, true);
    const after = foldAll(envelopes([
      { type: 'ContainerExited', data: { id: ID, name: 'web', exitCode: 0, signal: null, oomKilled: false, finishedAt: '2026-11-28T10:00:09Z' } },
      { type: 'ExecExited', data: { id: ID, execId: 'e1', exitCode: 255, reason: 'the daemon stopped while the exec was starting' } },
      { type: 'ContainerRemoving', data: { id: ID, force: false } },
    ]), s);
    assert.equal(after.containers[ID]!.stopping, null);
    assert.equal(after.containers[ID]!.status, 'removing');
    assert.equal(after.execs['e1']!.exitReason, 'the daemon stopped while the exec was starting');
    assert.equal(after.execs['e1']!.starting, false);
  });
});

describe('unit: the fold, owned and pure', () => {
  it('folding in place (replay, rebuild) gives exactly what evolving one event at a time gives, without touching the input', async () => {
    const { evolve, evolveOwned, initialState } = await import('../../core/state/evolve.js');
    const events = envelopes([
      containerCreated(ID, 'web'),
      containerCreated(ID2, 'db'),
      { type: 'ContainerStarted', data: { id: ID, pid: 42, shimPid: 41, drivers: [] } },
      { type: 'ExecCreated', data: { id: ID, execId: 'e1', cmd: ['true'], env: [], workingDir: '', user: '', tty: false, attachStdin: false, attachStdout: true, attachStderr: true } },
      { type: 'ContainerRenamed', data: { id: ID2, oldName: 'db', newName: 'store' } },
      { type: 'ContainerExited', data: { id: ID, name: 'web', exitCode: 0, signal: null, oomKilled: false, finishedAt: '2026-11-28T10:00:09Z' } },
      { type: 'ContainerRemoved', data: { id: ID } },
    ]);
    let pure = initialState();
    for (const e of events) {
      const before = JSON.stringify(pure);
      const next = evolve(pure, e);
      assert.equal(JSON.stringify(pure), before, 'evolve leaves its input alone');
      pure = next;
    }
    let owned = initialState();
    for (const e of events) owned = evolveOwned(owned, e);
    assert.deepEqual(owned, pure);
    assert.deepEqual(foldAll(events), pure);
  });
});
