import type { JsonValue } from '../../events/index.js';
import { failpointAfter, type FailpointName } from '../failpoints.js';
import { ProcessStartError, type LogWriter, type MountSpec } from '../plugins/driver.js';
import { START_ORDER, type KindsBefore, type StartKind } from '../plugins/kinds.js';
import type { NetworkStepOutput } from './container-network-attach.js';
import type { Journal } from './journal.js';

/** What each start step hands to the steps after it. */
export interface StepOutputs {
  readonly 'storage.v1': { readonly mounts: readonly MountSpec[] };
  readonly 'limiter.v1': { readonly cgroups: readonly string[] };
  /** The namespace, endpoints, published ports and /etc files (core/engine/container-network-attach.ts); `wire` runs at the shim's hold. */
  readonly 'network.v1': NetworkStepOutput;
  /** The writer stays in the daemon (the hub writes through it); the event records its stored offset. */
  readonly 'log.v1': { readonly writer: LogWriter };
  readonly 'isolator.v1': { readonly pid: number; readonly shimPid: number };
}

/** A step's input: the outputs of every kind of the stages START_ORDER runs before its own, and nothing else. */
export type StepInput<K extends StartKind> = { readonly [P in KindsBefore<K>]: StepOutputs[P] };

/**
 * One driver's part in starting a container. `driverId` null: no driver of the kind is usable (a
 * host without cgroups), or none is needed (`--network none|host|container:`); the step still
 * gives its output (no cgroups; the namespace and /etc files) and records nothing.
 */
export interface StartStep<K extends StartKind> {
  readonly driverId: string | null;
  run(input: StepInput<K>): Promise<StepOutputs[K]>;
  /** What the step's event records of its output (JSON; the in-memory writer is not). */
  recorded(output: StepOutputs[K]): JsonValue;
  /** Undoes the step after a later one failed; idempotent (recovery may call it again). */
  undo(output: StepOutputs[K]): Promise<void>;
}

/** One step per start kind: leaving one out is a type error. */
export type StartSteps = { readonly [K in StartKind]: StartStep<K> };

export class StartStepError extends Error {
  constructor(readonly kind: StartKind, readonly driverId: string, override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'StartStepError';
  }
}

const AFTER: { readonly [K in StartKind]: FailpointName } = {
  'storage.v1': 'start.after-storage',
  'limiter.v1': 'start.after-limiter',
  'network.v1': 'start.after-network',
  'log.v1': 'start.after-log',
  'isolator.v1': 'start.after-isolator',
};

type Done = { readonly [K in StartKind]?: StepOutputs[K] };

/**
 * Runs the steps stage by stage in START_ORDER, the kinds of a stage at once, recording each
 * outcome in the journal in START_ORDER's order whatever order they finished in
 * (ContainerStartStepDone, ContainerStartStepFailed, ContainerStartStepUndone). When a step fails,
 * the rest of its stage is waited for, the steps that succeeded are undone in reverse order and a
 * StartStepError names the first driver that failed. Returns every output and the ids of the
 * drivers that ran, in order.
 */
export async function runStartPipeline(id: string, steps: StartSteps, journal: Journal, warn: (message: string) => void): Promise<{ outputs: StepOutputs; drivers: string[] }> {
  const done: Done = {};
  const ran: StartKind[] = [];
  const drivers: string[] = [];
  for (const stage of START_ORDER) {
    // Every kind of the stages before is in `done`: the loop only gets here after each gave its output.
    // (async: a step that throws before its first await is a rejection like any other)
    const settled = await Promise.allSettled(stage.map(async (kind) => (steps[kind] as StartStep<typeof kind>).run(done as StepInput<typeof kind>)));
    let failed: StartStepError | null = null;
    for (const [i, kind] of stage.entries()) {
      const step = steps[kind] as StartStep<typeof kind>;
      const result = settled[i]!;
      if (result.status === 'rejected') {
        const err: unknown = result.reason;
        const driverId = step.driverId ?? kind;
        const processStartCode = err instanceof ProcessStartError ? { processStartCode: err.exitCode } : {};
        journal.record([{ type: 'ContainerStartStepFailed', data: { id, kind, driverId, message: err instanceof Error ? err.message : String(err), ...processStartCode } }]);
        failed ??= new StartStepError(kind, driverId, err);
        continue;
      }
      (done as Record<StartKind, unknown>)[kind] = result.value;
      ran.push(kind);
      if (step.driverId === null) continue;
      drivers.push(step.driverId);
      journal.record([{ type: 'ContainerStartStepDone', data: { id, kind, driverId: step.driverId, output: step.recorded(result.value as StepOutputs[typeof kind]) } }]);
    }
    if (failed) {
      await undoSteps(id, steps, done, ran, journal, warn);
      throw failed;
    }
    for (const kind of stage) await failpointAfter(AFTER[kind], () => journal.flush());
  }
  return { outputs: done as StepOutputs, drivers };
}

async function undoSteps(id: string, steps: StartSteps, done: Done, ran: readonly StartKind[], journal: Journal, warn: (message: string) => void): Promise<void> {
  for (const kind of [...ran].reverse()) {
    const step = steps[kind] as StartStep<typeof kind>;
    const output = done[kind] as StepOutputs[typeof kind];
    if (step.driverId === null) continue;
    try {
      await step.undo(output);
      journal.record([{ type: 'ContainerStartStepUndone', data: { id, kind, driverId: step.driverId } }]);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      warn(`undo of ${step.driverId} for ${id.slice(0, 12)} failed: ${message}`);
      journal.record([{ type: 'ContainerStartStepUndone', data: { id, kind, driverId: step.driverId, message } }]);
    }
  }
}
