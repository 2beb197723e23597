import { DriverKinds, START_ORDER, type DriverKind } from '../plugins/kinds.js';

/** One step of starting a container: what a driver does, and how to undo it if a later step fails. */
export interface StartStep {
  readonly kind: DriverKind;
  readonly driverId: string;
  run(): Promise<void>;
  undo(): Promise<void>;
}

export class StartStepError extends Error {
  constructor(readonly driverId: string, override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'StartStepError';
  }
}

/**
 * Runs the steps in START_ORDER (kinds.ts: storage, limiter, network, log, isolator). When one
 * fails, the steps that already ran are undone in reverse order and the failure names the driver.
 * Returns the ids of the drivers that ran, in order.
 */
export async function runStartPipeline(steps: readonly StartStep[], onUndoError: (driverId: string, err: unknown) => void): Promise<string[]> {
  const ordered = [...steps].sort((a, b) => START_ORDER.indexOf(a.kind) - START_ORDER.indexOf(b.kind));
  const done: StartStep[] = [];
  for (const step of ordered) {
    try {
      await step.run();
      done.push(step);
    } catch (err) {
      for (const ran of done.reverse()) {
        try {
          await ran.undo();
        } catch (undoErr) {
          onUndoError(ran.driverId, undoErr);
        }
      }
      throw new StartStepError(step.driverId, err);
    }
  }
  return done.map((s) => s.driverId);
}

export { DriverKinds };
