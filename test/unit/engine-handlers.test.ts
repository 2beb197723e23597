import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { filter, firstValueFrom, map, toArray } from 'rxjs';
import type { CreateContainerRequest } from '../../core/engine/engine.js';
import { NotFoundError, NotImplementedError, StartFailedError } from '../../core/engine/errors.js';
import type { EventStore } from '../../core/engine/event-store.js';
import type { ProcessIO } from '../../core/plugins/driver.js';
import { reconcile } from '../../core/engine/reconciler.js';
import { MemoryEventLog } from '../../core/eventlog/memory-event-log.js';
import { containerStream, volumeStream, type EngineEvent, type EventEnvelope } from '../../events/index.js';
import { RefusingEventLog, refusingExecExits } from '../fixtures/refusing-event-log.js';
import { MemoryStorage, ScriptedIsolator } from '../memory-drivers.js';
import { engineRig, type EngineRig } from './engine-rig.js';

// Unit: the real engine (handlers, process managers, exit recorder, reconciler, image service) on
// the in-memory event log, with in-memory storage and isolator, the real cgroup limiter on a fake
// cgroupfs and the real log drivers (test/unit/engine-rig.ts). Given events / when a command /
// then the events it appended.

describe('unit: the engine\'s handlers with in-memory drivers', () => {
  const rigs: EngineRig[] = [];
  after(async () => {
    for (const r of rigs) await r.dispose();
  });

  async function rig(log = new MemoryEventLog(), storage = new MemoryStorage(), isolator = new ScriptedIsolator()): Promise<EngineRig> {
    const r = await engineRig({ log, storage, isolator });
    rigs.push(r);
    return r;
  }

  function request(cmd: string[], extra: Partial<CreateContainerRequest['hostConfig']> = {}): CreateContainerRequest {
    return { image: 'busybox', config: { Cmd: cmd }, hostConfig: extra };
  }

  async function eventsOf(store: EventStore, id: string): Promise<EventEnvelope[]> {
    const out: EventEnvelope[] = [];
    for await (const e of store.log.read()) if (e.streamId === containerStream(id)) out.push(e);
    return out;
  }

  const describeEvent = (e: EventEnvelope): string => {
    switch (e.type) {
      case 'ContainerStartStepDone':
      case 'ContainerStartStepUndone':
      case 'ContainerStartStepFailed':
      case 'ContainerRemoveStepDone':
        return `${e.type} ${e.data.driverId}`;
      case 'ContainerExited':
      case 'ContainerStartFailed':
        return `${e.type} ${e.data.exitCode}`;
      default:
        return e.type;
    }
  };

  it('run: the intent, each driver\'s step with its output, then ContainerStarted; one exit recorded', async () => {
    const r = await rig();
    const { id } = await r.engine.createContainer(request(['echo', 'hi']));
    await r.engine.startContainer(id);
    await r.untilStatus(id, 'exited');
    const events = await eventsOf(r.store, id);
    assert.deepEqual(events.map(describeEvent), [
      'ContainerCreated', 'ContainerStarting',
      'ContainerStartStepDone storage.v1.memory', 'ContainerStartStepDone limiter.v1.cgroups', 'ContainerStartStepDone log.v1.json-file',
      'ContainerStartStepDone isolator.v1.scripted', 'ContainerStarted', 'ContainerExited 0',
    ]);
    const storageStep = events[2]!;
    assert.ok(storageStep.type === 'ContainerStartStepDone');
    const layer = r.engine.image('busybox').layers[0]!.diffId;
    assert.deepEqual(storageStep.data.output, [{ type: 'overlay', source: 'overlay', target: `/memory/${id}/merged`, options: [`lower=${layer}`] }]);
    assert.deepEqual(r.isolator.specs[0]!.mounts.map((m) => m.target), [`/memory/${id}/merged`], 'the isolator got the storage step\'s output');
    const logged = [];
    for await (const e of r.engine.logs(id, { stdout: true, stderr: true })) logged.push(e.data.toString());
    assert.deepEqual(logged, ['hi\n']);
    assert.equal(r.store.state().containers[id]!.starting, false);
  });

  it('an exit: the cgroups go; beside its commit when the OOM killer did not end it; when it did, its memory cgroup is still there when the exit is committed (a daemon that dies before the commit reads the kill again from it)', async () => {
    // A log whose exits are slow to commit, as a slow fdatasync: 30 ms, or, while `besideOf` names a
    // folder, until that folder is gone (at most 10 s): what the record does beside the commit happens before it lands.
    let besideOf: string | null = null;
    class SlowExitLog extends MemoryEventLog {
      override async append(...args: Parameters<MemoryEventLog['append']>): ReturnType<MemoryEventLog['append']> {
        if (args[1].some((e) => e.type === 'ContainerExited')) {
          if (besideOf === null) await new Promise((resolve) => setTimeout(resolve, 30));
          for (let i = 0; besideOf !== null && existsSync(besideOf) && i < 5000; i++) await new Promise((resolve) => setTimeout(resolve, 2));
        }
        return super.append(...args);
      }
    }
    const r = await rig(new SlowExitLog());
    const cgroupOf = (id: string): string => join(r.cgroups.root, 'user.slice', 'daemon.service', `mini-docker-${id}`);
    const gone = async (dir: string): Promise<void> => {
      for (let i = 0; existsSync(dir); i++) {
        if (i > 500) assert.fail(`${dir} is still there`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    };
    for (const oom of [true, false]) {
      const id = await r.run(oom ? 'killed' : 'ended', ['sleep', '100']);
      const dir = cgroupOf(id);
      assert.ok(existsSync(dir), 'the container\'s cgroup');
      if (oom) await r.cgroups.set(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
      besideOf = oom ? null : dir;
      const atCommit = firstValueFrom(r.store.events.pipe(
        filter((e) => e.streamId === containerStream(id) && e.type === 'ContainerExited'),
        map((e) => ({ oomKilled: e.type === 'ContainerExited' && e.data.oomKilled, cgroupThere: existsSync(dir) })),
      ));
      r.isolator.exitOnItsOwn(id, 137);
      const seen = await atCommit;
      assert.equal(seen.oomKilled, oom, 'the verdict read from the memory cgroup');
      assert.equal(seen.cgroupThere, oom, oom ? 'kept until the exit is committed' : 'removed beside the commit, not after it');
      await gone(dir);
    }
  });

  it('a failed start undoes what ran, in reverse, and leaves the container created with Docker\'s exit code', async () => {
    const r = await rig();
    const { id } = await r.engine.createContainer(request(['nosuch']));
    await assert.rejects(r.engine.startContainer(id), (err: unknown) => err instanceof StartFailedError && err.exitCode === 127);
    assert.deepEqual((await eventsOf(r.store, id)).map(describeEvent), [
      'ContainerCreated', 'ContainerStarting',
      'ContainerStartStepDone storage.v1.memory', 'ContainerStartStepDone limiter.v1.cgroups', 'ContainerStartStepDone log.v1.json-file',
      'ContainerStartStepFailed isolator.v1.scripted',
      'ContainerStartStepUndone log.v1.json-file', 'ContainerStartStepUndone limiter.v1.cgroups', 'ContainerStartStepUndone storage.v1.memory',
      'ContainerStartFailed 127',
    ]);
    assert.equal(r.store.state().containers[id]!.status, 'created');
  });

  it('--rm: a start that fails on each of its three ways ends with the container removed (a step, the connection to the shim, ContainerStarted refused)', async () => {
    // The connection to the shim fails for the container named "unreachable"; the log refuses ContainerStarted for "unrecorded".
    class UnreachableIsolator extends ScriptedIsolator {
      unreachable = new Set<string>();
      override async connect(containerId: string): Promise<ProcessIO> {
        if (this.unreachable.has(containerId)) throw new Error(`connect to the shim of ${containerId}: ECONNREFUSED`);
        return super.connect(containerId);
      }
    }
    const isolator = new UnreachableIsolator();
    let refused = '';
    const r = await rig(new RefusingEventLog((events) => (events.some((e) => e.type === 'ContainerStarted' && e.data.id === refused) ? new Error('EIO: i/o error, write') : undefined)), new MemoryStorage(), isolator);
    const { id: stepFailed } = await r.engine.createContainer(request(['nosuch'], { AutoRemove: true }));
    const { id: unreachable } = await r.engine.createContainer(request(['sleep', '100'], { AutoRemove: true }));
    const { id: unrecorded } = await r.engine.createContainer(request(['sleep', '100'], { AutoRemove: true }));
    isolator.unreachable.add(unreachable);
    refused = unrecorded;
    await assert.rejects(r.engine.startContainer(stepFailed), (err: unknown) => err instanceof StartFailedError && err.exitCode === 127);
    await assert.rejects(r.engine.startContainer(unreachable), (err: unknown) => err instanceof StartFailedError && err.exitCode === 125 && /ECONNREFUSED/.test(err.message));
    await assert.rejects(r.engine.startContainer(unrecorded), /EIO: i\/o error, write/);
    for (const id of [stepFailed, unreachable, unrecorded]) {
      const steps = (await eventsOf(r.store, id)).map(describeEvent);
      assert.equal(r.store.state().containers[id], undefined, `${id} is removed: ${steps.join(', ')}`);
      assert.ok(steps.indexOf('ContainerStartFailed 128') >= 0 || steps.indexOf('ContainerStartFailed 127') >= 0, steps.join(', '));
      assert.equal(steps.at(-1), 'ContainerRemoved', steps.join(', '));
    }
    assert.deepEqual([...(await r.storage.held())], [], 'no writable layer is left');
    assert.deepEqual(await isolator.held(), [], 'no shim is left');
  });

  it('a lookup other than a network\'s failing at start (a volume plugin gone) is a failed start with 125 for the client and State.ExitCode 128 (moby\'s rule), not a network\'s 404', async () => {
    // Given a volume whose driver this daemon no longer has (a plugin removed since it was made).
    const log = new MemoryEventLog();
    await log.append(volumeStream('v'), [
      { type: 'VolumeCreating', data: { name: 'v', driver: 'gone', labels: {}, options: {}, anonymous: false } },
      { type: 'VolumeCreated', data: { name: 'v', mountpoint: '/nowhere/v' } },
    ], 'no-stream');
    const r = await rig(log);
    const { id } = await r.engine.createContainer(request(['true'], { Binds: ['v:/data:nocopy'] }));
    await assert.rejects(r.engine.startContainer(id), (err: unknown) => {
      assert.ok(err instanceof StartFailedError && !(err instanceof NotFoundError), `a failed start, not a 404: ${String(err)}`);
      assert.equal(err.exitCode, 125);
      assert.match(err.message, /^failed to start container [0-9a-f]{12}: error looking up volume plugin gone: plugin "gone" not found/);
      return true;
    });
    const c = r.store.state().containers[id]!;
    assert.deepEqual([c.status, c.exitCode], ['created', 128]);
  });

  it('stop: the intent before the signal, the exit once; rm -f: kill, die, then the removal\'s intent, each driver, destroy', async () => {
    const r = await rig();
    const { id } = await r.engine.createContainer(request(['sleep', '100']));
    await r.engine.startContainer(id);
    await r.engine.stopContainer(id, { timeoutSeconds: 1 });
    const stopped = (await eventsOf(r.store, id)).map(describeEvent).slice(7);
    assert.deepEqual(stopped, ['ContainerStopRequested', 'ContainerExited 143']);
    await r.engine.startContainer(id);
    await r.engine.removeContainer(id, { force: true });
    const removed = (await eventsOf(r.store, id)).map(describeEvent).slice(-8);
    assert.deepEqual(removed, [
      'ContainerKillRequested', 'ContainerExited 137', 'ContainerRemoving',
      'ContainerRemoveStepDone isolator.v1.scripted', 'ContainerRemoveStepDone limiter.v1.cgroups', 'ContainerRemoveStepDone storage.v1.memory',
      'ContainerRemoveStepDone log.v1.json-file', 'ContainerRemoved',
    ]);
    assert.equal(r.store.state().containers[id], undefined);
    assert.deepEqual(await r.storage.held(), []);
    assert.deepEqual(await r.isolator.held(), []);
  });

  it('exec: ExecStarting before the isolator runs it, then ExecStarted and ExecExited with its code', async () => {
    const r = await rig();
    const { id } = await r.engine.createContainer(request(['sleep', '100']));
    await r.engine.startContainer(id);
    const execId = await r.engine.createExec(id, { cmd: ['sh', '-c', 'exit 5'], tty: false, attachStdin: false, attachStdout: true, attachStderr: true });
    const session = await r.engine.startExec(execId, { detach: false });
    assert.equal(await session.exitCode, 5);
    assert.deepEqual((await eventsOf(r.store, id)).map(describeEvent).slice(-4), ['ExecCreated', 'ExecStarting', 'ExecStarted', 'ExecExited']);
    assert.equal(r.engine.exec(execId).exitCode, 5);
    const failed = await r.engine.createExec(id, { cmd: ['nosuch'], tty: false, attachStdin: false, attachStdout: true, attachStderr: true });
    await assert.rejects(r.engine.startExec(failed, { detach: true }), StartFailedError);
    assert.equal(r.engine.exec(failed).exitCode, 127);
    assert.match(r.engine.exec(failed).exitReason, /executable file not found/);
    await r.engine.removeContainer(id, { force: true });
  });

  it('exec: the exit is in the fold before the output completes, for each of many execs at once', async () => {
    const r = await rig();
    const { id } = await r.engine.createContainer(request(['sleep', '100']));
    await r.engine.startContainer(id);
    const seen = await Promise.all(Array.from({ length: 24 }, async (_, i) => {
      const execId = await r.engine.createExec(id, { cmd: ['sh', '-c', `exit ${i}`], tty: false, attachStdin: false, attachStdout: true, attachStderr: true });
      const session = await r.engine.startExec(execId, { detach: false });
      // What a client reads the moment its stream ends (the docker client's one inspect).
      const atEnd = await new Promise<{ running: boolean; exitCode: number | null }>((resolve, reject) => {
        session.output.subscribe({ error: reject, complete: () => resolve({ running: r.engine.exec(execId).running, exitCode: r.engine.exec(execId).exitCode }) });
      });
      return { ...atEnd, code: await session.exitCode };
    }));
    assert.deepEqual(seen, Array.from({ length: 24 }, (_, i) => ({ running: false, exitCode: i, code: i })));
    await r.engine.removeContainer(id, { force: true });
  });

  it('exec: an exit the log refused fails the session\'s exit code, naming why, instead of leaving it "running"', async () => {
    const r = await rig(refusingExecExits());
    const { id } = await r.engine.createContainer(request(['sleep', '100']));
    await r.engine.startContainer(id);
    const execId = await r.engine.createExec(id, { cmd: ['sh', '-c', 'exit 3'], tty: false, attachStdin: false, attachStdout: true, attachStderr: true });
    const session = await r.engine.startExec(execId, { detach: false });
    await assert.rejects(session.exitCode, /^Error: recording the exit \(3\) of exec [0-9a-f]{12} failed: EIO: i\/o error, write$/);
    assert.equal(r.engine.exec(execId).exitCode, null);
    assert.ok(r.logs.lines.some((l) => /recording the exit \(3\) of exec/.test(l)), r.logs.lines.join('\n'));
    await r.engine.removeContainer(id, { force: true });
  });

  it('rm -f of a container whose failed start waits for a full disk waits for that final event, then removes it', async () => {
    let full = false;
    const diskFull = (): Error => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const r = await rig(new RefusingEventLog((events) => (full && events.some((e) => e.type === 'ContainerStartFailed') ? diskFull() : undefined)));
    const { id } = await r.engine.createContainer(request(['nosuch']));
    full = true;
    await assert.rejects(r.engine.startContainer(id), /no space left on device/);
    assert.equal(r.engine.container(id).starting, true, 'the start has no final event while the disk is full');
    full = false; // space freed: the journal appends the final event at its next try (every second)
    await r.engine.removeContainer(id, { force: true });
    assert.throws(() => r.engine.container(id), /No such container/);
    const steps = (await eventsOf(r.store, id)).map(describeEvent);
    assert.ok(steps.indexOf('ContainerStartFailed 127') < steps.indexOf('ContainerRemoving'), steps.join(', '));
  });

  it('--log-driver none is a driver like the others: the output is dropped and logs is Docker\'s 501', async () => {
    const r = await rig();
    const { id } = await r.engine.createContainer(request(['echo', 'lost'], { LogConfig: { Type: 'none', Config: {} } }));
    await r.engine.startContainer(id);
    await r.untilStatus(id, 'exited');
    assert.throws(() => r.engine.logs(id, { stdout: true, stderr: true }), (err: unknown) => err instanceof NotImplementedError && err.message === 'configured logging driver does not support reading');
    const steps = (await eventsOf(r.store, id)).map(describeEvent);
    assert.ok(steps.includes('ContainerStartStepDone log.v1.none'));
  });

  it('recovery: a start without its final event is undone, a removal is finished, what no container owns is removed', async () => {
    const log = new MemoryEventLog();
    const storage = new MemoryStorage();
    const isolator = new ScriptedIsolator();
    const first = await rig(log, storage, isolator);
    const layer = first.engine.image('busybox').layers[0]!.diffId;
    const { id: half } = await first.engine.createContainer(request(['sleep', '100']));
    const { id: gone } = await first.engine.createContainer(request(['sleep', '100']));
    const given: [string, EngineEvent[]][] = [
      [half, [{ type: 'ContainerStarting', data: { id: half } }, { type: 'ContainerStartStepDone', data: { id: half, kind: 'storage.v1', driverId: storage.id, output: [] } }]],
      [gone, [{ type: 'ContainerRemoving', data: { id: gone, force: false } }]],
    ];
    for (const [id, events] of given) await first.store.append(containerStream(id), events, 'any');
    await storage.prepare(half, [layer]);
    await storage.prepare(gone, [layer]);
    const ghost = 'f'.repeat(64);
    await storage.prepare(ghost, [layer]);
    isolator.bundles.add(ghost);

    // A new daemon on the same log and host.
    const second = await rig(log, storage, isolator);
    await reconcile(second.engine, second.store, second.logs);
    assert.deepEqual((await eventsOf(second.store, half)).map(describeEvent).slice(-2), ['ContainerStartStepUndone storage.v1.memory', 'ContainerStartFailed 128']);
    assert.equal(second.store.state().containers[half]!.status, 'created');
    assert.match(second.store.state().containers[half]!.error, /daemon stopped while the container was starting/);
    assert.equal(second.store.state().containers[gone], undefined, 'the removal was finished');
    assert.deepEqual([...(await storage.held())], [half], 'the layer of the removed and of the unknown container are gone');
    assert.deepEqual(await isolator.held(), []);
    assert.ok(second.logs.lines.some((l) => l.includes(`holds a writable layer for container ${ghost}, which the log does not know`)), second.logs.lines.join('\n'));
    const reconciled = await firstValueFrom(second.engine.events({ since: { position: 0 }, until: { position: second.store.state().position } }).pipe(toArray()));
    assert.equal(reconciled.at(-1)?.type, 'DaemonReconciled');
  });

  it('recovery of a cut start of an AutoRemove (--rm) container: undone, ContainerStartFailed, then removed', async () => {
    const log = new MemoryEventLog();
    const storage = new MemoryStorage();
    const isolator = new ScriptedIsolator();
    const first = await rig(log, storage, isolator);
    const layer = first.engine.image('busybox').layers[0]!.diffId;
    const { id } = await first.engine.createContainer(request(['sleep', '100'], { AutoRemove: true }));
    await first.store.append(containerStream(id), [
      { type: 'ContainerStarting', data: { id } },
      { type: 'ContainerStartStepDone', data: { id, kind: 'storage.v1', driverId: storage.id, output: [] } },
    ], 'any');
    await storage.prepare(id, [layer]);

    const second = await rig(log, storage, isolator);
    await reconcile(second.engine, second.store, second.logs);
    const steps = (await eventsOf(second.store, id)).map(describeEvent);
    assert.deepEqual(steps.slice(steps.indexOf('ContainerStartStepUndone storage.v1.memory')).filter((e) => !e.startsWith('ContainerRemoveStepDone')), [
      'ContainerStartStepUndone storage.v1.memory', 'ContainerStartFailed 128', 'ContainerRemoving', 'ContainerRemoved',
    ]);
    assert.equal(second.store.state().containers[id], undefined);
    assert.deepEqual([...(await storage.held())], [], 'its writable layer is gone');
  });

  it('recovery of a lost exec: the isolator\'s endExec gets the exec\'s recorded pid and start time and the container\'s init (the start time absent from an older log)', async () => {
    const log = new MemoryEventLog();
    const storage = new MemoryStorage();
    const isolator = new ScriptedIsolator();
    const first = await rig(log, storage, isolator);
    const { id } = await first.engine.createContainer(request(['sleep', '100']));
    await first.engine.startContainer(id);
    const initPid = first.store.state().containers[id]!.pid;
    const execCreated = (execId: string): EngineEvent => ({
      type: 'ExecCreated',
      data: { id, execId, cmd: ['sleep', '100'], env: [], workingDir: '', user: '', tty: false, attachStdin: false, attachStdout: true, attachStderr: true },
    });
    await first.store.append(containerStream(id), [
      execCreated('x1'), { type: 'ExecStarting', data: { id, execId: 'x1' } }, { type: 'ExecStarted', data: { id, execId: 'x1', pid: 4242, startTime: 987654 } },
      execCreated('x2'), { type: 'ExecStarting', data: { id, execId: 'x2' } }, { type: 'ExecStarted', data: { id, execId: 'x2', pid: 4343 } },
    ], 'any');

    const second = await rig(log, storage, isolator);
    await reconcile(second.engine, second.store, second.logs);
    assert.deepEqual(isolator.endedExecs, [
      { containerId: id, execId: 'x1', process: { pid: 4242, initPid, startTime: 987654 } },
      { containerId: id, execId: 'x2', process: { pid: 4343, initPid } },
    ]);
    assert.equal(second.store.state().execs.x1!.exitCode, 255);
    await second.engine.removeContainer(id, { force: true });
  });

  it('recovery of a start cut after its undo (start.after-undo): the step\'s failure is the start\'s, its exit code by the same rule (127 for a command not found; a daemon-side failure keeps 128)', async () => {
    const log = new MemoryEventLog();
    const storage = new MemoryStorage();
    const isolator = new ScriptedIsolator();
    const first = await rig(log, storage, isolator);
    const { id: notFound } = await first.engine.createContainer(request(['nosuch']));
    const { id: denied } = await first.engine.createContainer(request(['sh']));
    const notFoundMessage = 'exec: "nosuch": executable file not found in $PATH';
    const deniedMessage = 'mount volume data: open /srv/data: permission denied';
    const given: [string, EngineEvent[]][] = [
      [notFound, [
        { type: 'ContainerStarting', data: { id: notFound } },
        { type: 'ContainerStartStepDone', data: { id: notFound, kind: 'storage.v1', driverId: storage.id, output: [] } },
        { type: 'ContainerStartStepFailed', data: { id: notFound, kind: 'isolator.v1', driverId: isolator.id, message: notFoundMessage, processStartCode: 127 } },
        { type: 'ContainerStartStepUndone', data: { id: notFound, kind: 'storage.v1', driverId: storage.id } },
      ]],
      [denied, [
        { type: 'ContainerStarting', data: { id: denied } },
        { type: 'ContainerStartStepFailed', data: { id: denied, kind: 'isolator.v1', driverId: isolator.id, message: deniedMessage } },
      ]],
    ];
    for (const [id, events] of given) await first.store.append(containerStream(id), events, 'any');

    const second = await rig(log, storage, isolator);
    await reconcile(second.engine, second.store, second.logs);
    const last = async (id: string): Promise<EventEnvelope | undefined> => (await eventsOf(second.store, id)).at(-1);
    const cut = await last(notFound);
    assert.ok(cut?.type === 'ContainerStartFailed');
    assert.deepEqual(cut.data, { id: notFound, driver: isolator.id, message: notFoundMessage, exitCode: 127 });
    assert.equal(second.store.state().containers[notFound]!.exitCode, 127);
    assert.equal(second.store.state().containers[notFound]!.error, notFoundMessage);
    assert.equal(second.store.state().containers[notFound]!.startFailure, null, 'the failure is let go of with the start');
    const daemonSide = await last(denied);
    assert.ok(daemonSide?.type === 'ContainerStartFailed');
    assert.deepEqual([daemonSide.data.message, daemonSide.data.exitCode], [deniedMessage, 128]);
  });
});

describe('unit: commands on a container while its execs come and go', () => {
  it('rename, update, pause, unpause and stop are not refused with a version conflict by the events of execs that end meanwhile', async () => {
    const r = await engineRig();
    try {
      const id = await r.run('busy', ['sleep', '1000']);
      const request = { cmd: ['echo', 'hi'], tty: false, attachStdin: false, attachStdout: true, attachStderr: true };
      const execs = Array.from({ length: 30 }, async () => {
        const execId = await r.engine.createExec(id, request);
        const session = await r.engine.startExec(execId, { detach: false });
        return session.exitCode;
      });
      const commands = [
        r.engine.renameContainer(id, 'busier'),
        r.engine.updateContainer(id, { PidsLimit: 50 }),
        r.engine.pauseContainer(id).then(() => r.engine.unpauseContainer(id)),
      ];
      const settled = await Promise.allSettled([...execs, ...commands]);
      const refused = settled.filter((s) => s.status === 'rejected').map((s) => String((s as PromiseRejectedResult).reason));
      assert.deepEqual(refused, []);
      await r.engine.stopContainer(id, { timeoutSeconds: 1 });
      assert.equal(r.store.state().containers[id]!.status, 'exited');
    } finally {
      await r.dispose();
    }
  });
});
