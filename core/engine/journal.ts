import type { EngineEvent } from '../../events/index.js';
import { containerStream } from '../../events/index.js';
import type { EventStore } from './event-store.js';

/**
 * The events a command's process manager records after its intent: each driver step's outcome,
 * then the final event. `record` keeps them in order in memory; `commit` records the final event
 * and appends everything as one append, durable (one fdatasync) before it resolves; `flush` does
 * the same without a final event (a failpoint that promises its step is durable). So a start costs
 * two fdatasyncs, the intent's and the final one, however many steps it has. The step events need
 * not be durable earlier: a daemon that dies before the final event finds the intent and asks the
 * drivers what they hold (core/engine/reconciler.ts), so nothing depends on a step event that was
 * lost with it.
 *
 * The intent itself is appended by the caller with the stream version its decision read; what
 * follows it is a consequence of that accepted intent and is appended in order ('any' version).
 *
 * A command's last word (a failed start, a removal, a failed commit, an exec's exit: nothing of
 * that command follows it) goes through `commitFinal`: when the data root's disk is full (ENOSPC,
 * EDQUOT) it fails as the append did, and keeps the events to append them again every RETRY_MS
 * until they fit, so a start that failed on a full disk is recorded as failed once space is freed
 * and its container does not stay "starting" (refusing rm) until the daemon restarts. Nothing else
 * is appended to the stream meanwhile: the decide rules refuse commands on a container whose
 * intent has no final event. A final event that something may still follow (ContainerStarted,
 * ExecStarted, ContainerCommitted) goes through `commit`, never retried: its caller records the
 * failure instead.
 */
const RETRY_MS = 1_000;

function diskFull(error: unknown): boolean {
  return error instanceof Error && 'code' in error && (error.code === 'ENOSPC' || error.code === 'EDQUOT');
}

export class Journal {
  private buffered: EngineEvent[] = [];
  private sent: Promise<unknown>[] = [];

  constructor(private readonly store: EventStore, private readonly containerId: string) {}

  record(events: readonly EngineEvent[]): void {
    this.buffered.push(...events);
  }

  private send(): void {
    if (this.buffered.length === 0) return;
    const p = this.store.append(containerStream(this.containerId), this.buffered, 'any');
    this.buffered = [];
    p.catch(() => undefined); // surfaced by flush()
    this.sent.push(p);
  }

  async flush(): Promise<void> {
    this.send();
    const all = this.sent.splice(0);
    await Promise.all(all);
  }

  async commit(events: readonly EngineEvent[]): Promise<void> {
    this.record(events);
    await this.flush();
  }

  /** `commit` for the command's last word: on a full disk, appended again until it fits (see above). */
  async commitFinal(events: readonly EngineEvent[]): Promise<void> {
    const pending = [...this.buffered, ...events];
    this.record(events);
    try {
      await this.flush();
    } catch (error) {
      if (diskFull(error)) this.retryLater(pending);
      throw error;
    }
  }

  /** Appends `events` again every RETRY_MS until the disk takes them (the timer does not keep the daemon alive). */
  private retryLater(events: readonly EngineEvent[]): void {
    const timer = setTimeout(() => {
      this.store.append(containerStream(this.containerId), events, 'any').catch((error: unknown) => {
        if (diskFull(error)) this.retryLater(events);
      });
    }, RETRY_MS);
    timer.unref();
  }
}
