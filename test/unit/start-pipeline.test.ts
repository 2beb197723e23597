import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventStore } from '../../core/engine/event-store.js';
import { Journal } from '../../core/engine/journal.js';
import { runStartPipeline, StartStepError, type StartStep, type StartSteps } from '../../core/engine/start-pipeline.js';
import { MemoryEventLog } from '../../core/eventlog/memory-event-log.js';
import { DriverKinds, START_ORDER, type StartKind } from '../../core/plugins/kinds.js';
import type { LogWriter } from '../../core/plugins/driver.js';
import { containerStream } from '../../events/index.js';

const id = 'c'.repeat(64);

const writer: LogWriter = { storedOffset: 42, write: async () => undefined, close: async () => undefined };

function steps(trail: string[], failing?: StartKind): StartSteps {
  const step = <K extends StartKind>(kind: K, run: StartStep<K>['run']): StartStep<K> => ({
    driverId: `${kind}.test`,
    run: async (input) => {
      trail.push(`run ${kind}`);
      if (kind === failing) throw new Error(`${kind} broke`);
      return run(input);
    },
    recorded: () => ({ kind }),
    undo: async () => { trail.push(`undo ${kind}`); },
  });
  return {
    [DriverKinds.storage]: step(DriverKinds.storage, async () => ({ mounts: [{ type: 'overlay', source: 'overlay', target: '/r', options: [] }] })),
    [DriverKinds.limiter]: step(DriverKinds.limiter, async () => ({ cgroups: ['/cg/c'] })),
    [DriverKinds.network]: { driverId: null, run: async () => ({ namespace: { mode: 'new' }, endpoints: [], ports: [], connected: [], files: [], wire: null }), recorded: () => null, undo: async () => undefined },
    [DriverKinds.log]: step(DriverKinds.log, async () => ({ writer })),
    [DriverKinds.isolator]: step(DriverKinds.isolator, async (input) => {
      // The isolator reads what the steps before it returned: typed, nothing shared.
      trail.push(`root ${input[DriverKinds.storage].mounts[0]!.target} cgroups ${input[DriverKinds.limiter].cgroups.join(',')} offset ${input[DriverKinds.log].writer.storedOffset}`);
      return { pid: 10, shimPid: 9 };
    }),
  };
}

/**
 * The order is in the types: a step's input holds only the outputs of the kinds START_ORDER runs
 * before it. Reading a later kind's output is a compile error (checked by tsc on this file), so
 * reordering START_ORDER breaks the build where a step reads what would no longer be there.
 */
export const storageCannotReadTheIsolator: StartStep<typeof DriverKinds.storage> = {
  driverId: null,
  // @ts-expect-error the isolator runs after storage: its output is not the storage step's input
  run: async (input) => ({ mounts: input[DriverKinds.isolator].pid > 0 ? [] : [] }),
  recorded: () => null,
  undo: async () => undefined,
};

/** Nor can a kind read another of its own stage: they run at the same time. */
export const limiterCannotReadStorage: StartStep<typeof DriverKinds.limiter> = {
  driverId: null,
  // @ts-expect-error storage and the limiter are one stage: the limiter's input does not hold the mounts
  run: async (input) => ({ cgroups: input[DriverKinds.storage].mounts.map((m) => m.target) }),
  recorded: () => null,
  undo: async () => undefined,
};

async function storeWithContainer(): Promise<EventStore> {
  return new EventStore(new MemoryEventLog());
}

describe('unit: start pipeline (the start process manager\'s steps)', () => {
  it('runs the steps stage by stage in START_ORDER, each given the outputs of the stages before, and records each as an event in that order', async () => {
    const store = await storeWithContainer();
    const journal = new Journal(store, id);
    const trail: string[] = [];
    const { outputs, drivers } = await runStartPipeline(id, steps(trail), journal, () => undefined);
    await journal.flush();
    assert.deepEqual(trail, ['run storage.v1', 'run limiter.v1', 'run log.v1', 'run isolator.v1', 'root /r cgroups /cg/c offset 42']);
    assert.deepEqual(drivers, ['storage.v1.test', 'limiter.v1.test', 'log.v1.test', 'isolator.v1.test']);
    assert.deepEqual(outputs[DriverKinds.isolator], { pid: 10, shimPid: 9 });
    const events = [];
    for await (const e of store.log.read()) events.push(e);
    assert.ok(events.every((e) => e.streamId === containerStream(id)));
    assert.deepEqual(events.map((e) => e.type === 'ContainerStartStepDone' ? e.data.kind : e.type), ['storage.v1', 'limiter.v1', 'log.v1', 'isolator.v1']);
    assert.deepEqual(START_ORDER, [[DriverKinds.storage, DriverKinds.limiter, DriverKinds.network, DriverKinds.log], [DriverKinds.isolator]]);
  });

  it('runs the kinds of one stage at the same time; their events keep START_ORDER whatever order they finish in', async () => {
    const store = await storeWithContainer();
    const journal = new Journal(store, id);
    const trail: string[] = [];
    const base = steps(trail);
    // The storage step finishes only once the log step has started: run one after the other, this never ends.
    let logStarted!: () => void;
    const started = new Promise<void>((resolve) => (logStarted = resolve));
    const gated: StartSteps = {
      ...base,
      [DriverKinds.storage]: { ...base[DriverKinds.storage], run: async (input) => { await started; return base[DriverKinds.storage].run(input); } },
      [DriverKinds.log]: { ...base[DriverKinds.log], run: async (input) => { logStarted(); return base[DriverKinds.log].run(input); } },
    };
    await runStartPipeline(id, gated, journal, () => undefined);
    await journal.flush();
    assert.deepEqual(trail.slice(0, 3), ['run limiter.v1', 'run log.v1', 'run storage.v1'], 'storage ran after log had started');
    const kinds = [];
    for await (const e of store.log.read()) if (e.type === 'ContainerStartStepDone') kinds.push(e.data.kind);
    assert.deepEqual(kinds, ['storage.v1', 'limiter.v1', 'log.v1', 'isolator.v1']);
  });

  it('when a step of a stage fails, waits for the others, undoes those that succeeded and never starts the next stage', async () => {
    const store = await storeWithContainer();
    const journal = new Journal(store, id);
    const trail: string[] = [];
    await assert.rejects(
      runStartPipeline(id, steps(trail, DriverKinds.limiter), journal, () => undefined),
      (err: unknown) => err instanceof StartStepError && err.driverId === 'limiter.v1.test' && err.message === 'limiter.v1 broke',
    );
    await journal.flush();
    assert.deepEqual(trail, ['run storage.v1', 'run limiter.v1', 'run log.v1', 'undo log.v1', 'undo storage.v1']);
    const types: string[] = [];
    for await (const e of store.log.read()) types.push(e.type === 'ContainerStartStepDone' || e.type === 'ContainerStartStepUndone' || e.type === 'ContainerStartStepFailed' ? `${e.type} ${e.data.kind}` : e.type);
    assert.deepEqual(types, [
      'ContainerStartStepDone storage.v1', 'ContainerStartStepFailed limiter.v1', 'ContainerStartStepDone log.v1',
      'ContainerStartStepUndone log.v1', 'ContainerStartStepUndone storage.v1',
    ]);
  });

  it('on a failure undoes the steps that ran in reverse order and records the failure and each undo', async () => {
    const store = await storeWithContainer();
    const journal = new Journal(store, id);
    const trail: string[] = [];
    await assert.rejects(
      runStartPipeline(id, steps(trail, DriverKinds.isolator), journal, () => undefined),
      (err: unknown) => err instanceof StartStepError && err.driverId === 'isolator.v1.test' && err.kind === DriverKinds.isolator && err.message === 'isolator.v1 broke',
    );
    await journal.flush();
    assert.deepEqual(trail, ['run storage.v1', 'run limiter.v1', 'run log.v1', 'run isolator.v1', 'undo log.v1', 'undo limiter.v1', 'undo storage.v1']);
    const types: string[] = [];
    for await (const e of store.log.read()) types.push(e.type === 'ContainerStartStepDone' || e.type === 'ContainerStartStepUndone' || e.type === 'ContainerStartStepFailed' ? `${e.type} ${e.data.kind}` : e.type);
    assert.deepEqual(types, [
      'ContainerStartStepDone storage.v1', 'ContainerStartStepDone limiter.v1', 'ContainerStartStepDone log.v1',
      'ContainerStartStepFailed isolator.v1',
      'ContainerStartStepUndone log.v1', 'ContainerStartStepUndone limiter.v1', 'ContainerStartStepUndone storage.v1',
    ]);
  });
});
