import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { filter, firstValueFrom, toArray } from 'rxjs';
import { ContainerEngine } from '../../core/engine/container-engine.js';
import type { CreateContainerRequest } from '../../core/engine/engine.js';
import { NotImplementedError, StartFailedError } from '../../core/engine/errors.js';
import { EventStore } from '../../core/engine/event-store.js';
import type { ImageService } from '../../core/engine/image-service.js';
import { reconcile } from '../../core/engine/reconciler.js';
import { MemoryEventLog } from '../../core/eventlog/memory-event-log.js';
import type { Driver } from '../../core/plugins/driver.js';
import { PluginRegistry } from '../../core/plugins/plugin-registry.js';
import { findImage } from '../../core/state/lookup.js';
import { containerStream, imageStream, type EngineEvent, type EventEnvelope } from '../../events/index.js';
import { JsonFileLogDriver } from '../../plugins/log-json-file/json-file-log-driver.js';
import { NoneLogDriver } from '../../plugins/log-none/none-log-driver.js';
import { memoryLogger } from '../limiter-conformance.js';
import { MemoryStorage, ScriptedIsolator } from '../memory-drivers.js';

// Unit: the real engine (handlers, process managers, exit recorder, reconciler) on the in-memory
// event log, with in-memory storage and isolator and the real log drivers on a temporary folder.
// Given events / when a command / then the events it appended.

const IMAGE = `sha256:${'1'.repeat(64)}`;
const LAYER = `sha256:${'2'.repeat(64)}`;

/** Images come from the fold; the image service's other work is the images' own tests'. */
function imagesOf(store: EventStore): ImageService {
  const no = (what: string) => async (): Promise<never> => { throw new NotImplementedError(`${what} is not part of these tests`); };
  return {
    resolveForCreate: async (ref) => findImage(store.state(), ref),
    recover: async () => undefined,
    ensureBuiltins: async () => undefined,
    importImage: no('import'), tag: no('tag'), remove: no('rmi'), commit: no('commit'), exportContainer: no('export'),
    save: no('save'), load: no('load'), prune: no('prune'),
  };
}

interface Rig {
  readonly engine: ContainerEngine;
  readonly store: EventStore;
  readonly storage: MemoryStorage;
  readonly isolator: ScriptedIsolator;
  readonly logs: ReturnType<typeof memoryLogger>;
}

describe('unit: the engine\'s handlers with in-memory drivers', () => {
  let scratch = '';
  before(async () => { scratch = await mkdtemp(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'engine-handlers-')); });
  after(async () => { await rm(scratch, { recursive: true, force: true }); });

  async function rig(log = new MemoryEventLog(), storage = new MemoryStorage(), isolator = new ScriptedIsolator()): Promise<Rig> {
    const store = new EventStore(log);
    await store.load();
    const logs = memoryLogger();
    const registry = new PluginRegistry();
    const drivers: Driver[] = [storage, isolator, new JsonFileLogDriver(), new NoneLogDriver()];
    const dir = await mkdtemp(join(scratch, 'rig-'));
    await registry.initialise(drivers.map((driver) => ({ driver, packageName: 'test' })), async (d) => ({
      dataRoot: dir, execRoot: dir, stateDir: join(dir, d.id), runDir: join(dir, 'run', d.id), logger: logs,
    }));
    for (const r of registry.all()) assert.equal(r.status, 'ok', `${r.driver.id}: ${r.reason ?? ''}`);
    storage.layers.add(LAYER);
    if (!store.state().images[IMAGE]) {
      await store.append(imageStream(IMAGE), [
        {
          type: 'ImageCreated', data: {
            id: IMAGE, origin: 'builtin', source: 'test', parent: null, layers: [{ diffId: LAYER, size: 1 }],
            config: { Env: ['PATH=/bin'], Cmd: ['sh'], Entrypoint: null, WorkingDir: '', User: '', Labels: {} }, history: [],
            created: '2026-01-01T00:00:00Z', architecture: 'amd64', os: 'linux',
          },
        },
        { type: 'ImageTagged', data: { id: IMAGE, ref: 'busybox:latest' } },
      ], 'no-stream');
    }
    const engine = new ContainerEngine(store, registry, imagesOf(store), logs, { id: 'test', version: 'test', dataRoot: dir, execRoot: dir });
    return { engine, store, storage, isolator, logs };
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

  async function untilStatus(r: Rig, id: string, status: string): Promise<void> {
    if (r.store.state().containers[id]?.status === status) return;
    await firstValueFrom(r.store.events.pipe(filter(() => r.store.state().containers[id]?.status === status)));
  }

  it('run: the intent, each driver\'s step with its output, then ContainerStarted; one exit recorded', async () => {
    const r = await rig();
    const { id } = await r.engine.createContainer(request(['echo', 'hi']));
    await r.engine.startContainer(id);
    await untilStatus(r, id, 'exited');
    const events = await eventsOf(r.store, id);
    assert.deepEqual(events.map(describeEvent), [
      'ContainerCreated', 'ContainerStarting',
      'ContainerStartStepDone storage.v1.memory', 'ContainerStartStepDone log.v1.json-file', 'ContainerStartStepDone isolator.v1.scripted',
      'ContainerStarted', 'ContainerExited 0',
    ]);
    const storageStep = events[2]!;
    assert.ok(storageStep.type === 'ContainerStartStepDone');
    assert.deepEqual(storageStep.data.output, [{ type: 'overlay', source: 'overlay', target: `/memory/${id}/merged`, options: [`lower=${LAYER}`] }]);
    assert.deepEqual(r.isolator.specs[0]!.mounts.map((m) => m.target), [`/memory/${id}/merged`], 'the isolator got the storage step\'s output');
    const logged = [];
    for await (const e of r.engine.logs(id, { stdout: true, stderr: true })) logged.push(e.data.toString());
    assert.deepEqual(logged, ['hi\n']);
    assert.equal(r.store.state().containers[id]!.starting, false);
  });

  it('a failed start undoes what ran, in reverse, and leaves the container created with Docker\'s exit code', async () => {
    const r = await rig();
    const { id } = await r.engine.createContainer(request(['nosuch']));
    await assert.rejects(r.engine.startContainer(id), (err: unknown) => err instanceof StartFailedError && err.exitCode === 127);
    assert.deepEqual((await eventsOf(r.store, id)).map(describeEvent), [
      'ContainerCreated', 'ContainerStarting',
      'ContainerStartStepDone storage.v1.memory', 'ContainerStartStepDone log.v1.json-file',
      'ContainerStartStepFailed isolator.v1.scripted',
      'ContainerStartStepUndone log.v1.json-file', 'ContainerStartStepUndone storage.v1.memory',
      'ContainerStartFailed 127',
    ]);
    assert.equal(r.store.state().containers[id]!.status, 'created');
  });

  it('stop: the intent before the signal, the exit once; rm -f: kill, die, then the removal\'s intent, each driver, destroy', async () => {
    const r = await rig();
    const { id } = await r.engine.createContainer(request(['sleep', '100']));
    await r.engine.startContainer(id);
    await r.engine.stopContainer(id, { timeoutSeconds: 1 });
    const stopped = (await eventsOf(r.store, id)).map(describeEvent).slice(6);
    assert.deepEqual(stopped, ['ContainerStopRequested', 'ContainerExited 143']);
    await r.engine.startContainer(id);
    await r.engine.removeContainer(id, { force: true });
    const removed = (await eventsOf(r.store, id)).map(describeEvent).slice(-7);
    assert.deepEqual(removed, [
      'ContainerKillRequested', 'ContainerExited 137', 'ContainerRemoving',
      'ContainerRemoveStepDone isolator.v1.scripted', 'ContainerRemoveStepDone storage.v1.memory', 'ContainerRemoveStepDone log.v1.json-file',
      'ContainerRemoved',
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

  it('--log-driver none is a driver like the others: the output is dropped and logs is Docker\'s 501', async () => {
    const r = await rig();
    const { id } = await r.engine.createContainer(request(['echo', 'lost'], { LogConfig: { Type: 'none', Config: {} } }));
    await r.engine.startContainer(id);
    await untilStatus(r, id, 'exited');
    assert.throws(() => r.engine.logs(id, { stdout: true, stderr: true }), (err: unknown) => err instanceof NotImplementedError && err.message === 'configured logging driver does not support reading');
    const steps = (await eventsOf(r.store, id)).map(describeEvent);
    assert.ok(steps.includes('ContainerStartStepDone log.v1.none'));
  });

  it('recovery: a start without its final event is undone, a removal is finished, what no container owns is removed', async () => {
    const log = new MemoryEventLog();
    const storage = new MemoryStorage();
    const isolator = new ScriptedIsolator();
    const first = await rig(log, storage, isolator);
    const { id: half } = await first.engine.createContainer(request(['sleep', '100']));
    const { id: gone } = await first.engine.createContainer(request(['sleep', '100']));
    const given: [string, EngineEvent[]][] = [
      [half, [{ type: 'ContainerStarting', data: { id: half } }, { type: 'ContainerStartStepDone', data: { id: half, kind: 'storage.v1', driverId: storage.id, output: [] } }]],
      [gone, [{ type: 'ContainerRemoving', data: { id: gone, force: false } }]],
    ];
    for (const [id, events] of given) await first.store.append(containerStream(id), events, 'any');
    await storage.prepare(half, [LAYER]);
    await storage.prepare(gone, [LAYER]);
    const ghost = 'f'.repeat(64);
    await storage.prepare(ghost, [LAYER]);
    isolator.bundles.add(ghost);

    // A new daemon on the same log and host.
    const second = await rig(log, storage, isolator);
    await reconcile(second.engine, second.store, second.logs);
    assert.deepEqual((await eventsOf(second.store, half)).map(describeEvent).slice(-2), ['ContainerStartStepUndone storage.v1.memory', 'ContainerStartFailed 125']);
    assert.equal(second.store.state().containers[half]!.status, 'created');
    assert.match(second.store.state().containers[half]!.error, /daemon stopped while the container was starting/);
    assert.equal(second.store.state().containers[gone], undefined, 'the removal was finished');
    assert.deepEqual([...(await storage.held())], [half], 'the layer of the removed and of the unknown container are gone');
    assert.deepEqual(await isolator.held(), []);
    assert.ok(second.logs.lines.some((l) => l.includes(`holds a writable layer for container ${ghost}, which the log does not know`)), second.logs.lines.join('\n'));
    const reconciled = await firstValueFrom(second.engine.events({ since: { position: 0 }, until: { position: second.store.state().position } }).pipe(toArray()));
    assert.equal(reconciled.at(-1)?.type, 'DaemonReconciled');
  });
});
