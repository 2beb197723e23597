import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import Datastore from 'nedb-promises';
import type { EventEnvelope } from '../../events/index.js';
import type { EventLog } from './event-log.js';

interface TimeMark {
  readonly _id: string;
  readonly position: number;
  readonly time: string;
}

/**
 * A sparse index from time to log position, kept in a small nedb datastore beside the log: one
 * mark every `every` events. It is a projection, not a record: derived from the log, rebuilt from
 * it when missing, damaged or ahead of it, and never consulted for what happened, only for where
 * to start reading. `events --since TIME` and `replay --until TIME` use it to skip the part of a
 * long log that lies before the time asked for, instead of scanning from the first event.
 */
export class EventTimeIndex {
  private readonly file: string;
  private db: Datastore<TimeMark> | undefined;
  private lastMarked = 0;

  constructor(private readonly logDirectory: string, private readonly every = 256) {
    this.file = join(logDirectory, 'time-index.db');
  }

  /** Loads the index and catches up with the log (or rebuilds it); returns how many events it read. */
  async open(log: EventLog, warn: (message: string) => void = () => undefined): Promise<number> {
    await mkdir(this.logDirectory, { recursive: true });
    try {
      this.db = await this.load();
    } catch (err) {
      warn(`time index ${this.file} is damaged (${err instanceof Error ? err.message : String(err)}): rebuilding it from the log`);
      await rm(this.file, { force: true });
      this.db = await this.load();
    }
    const newest = await this.db.findOne({}).sort({ position: -1 });
    this.lastMarked = newest?.position ?? 0;
    if (this.lastMarked > log.lastPosition()) {
      warn(`time index ${this.file} is ahead of the log (${this.lastMarked} > ${log.lastPosition()}): rebuilding it`);
      await this.db.remove({}, { multi: true });
      this.lastMarked = 0;
    }
    let read = 0;
    const batch: TimeMark[] = [];
    for await (const e of log.read({ after: this.lastMarked })) {
      read++;
      if (this.isMark(e.position)) batch.push(this.markOf(e));
    }
    if (batch.length > 0) {
      await this.db.insert(batch);
      this.lastMarked = batch[batch.length - 1]!.position;
    }
    return read;
  }

  private async load(): Promise<Datastore<TimeMark>> {
    const db = Datastore.create({ filename: this.file }) as Datastore<TimeMark>;
    await db.load();
    await db.ensureIndex({ fieldName: 'position', unique: true });
    await db.ensureIndex({ fieldName: 'time' });
    return db;
  }

  private isMark(position: number): boolean {
    return position % this.every === 1 || this.every === 1;
  }

  private markOf(e: EventEnvelope): TimeMark {
    return { _id: String(e.position), position: e.position, time: e.time };
  }

  /** Called after each append (the daemon feeds it from the bus). */
  async observe(e: EventEnvelope): Promise<void> {
    if (!this.db || e.position <= this.lastMarked || !this.isMark(e.position)) return;
    this.lastMarked = e.position;
    await this.db.insert(this.markOf(e));
  }

  /**
   * A position to read after so that every event at or after `time` is included: the mark before
   * the first mark at or after `time`. Clocks that stepped back by more than the spacing of marks
   * can make this start a little late; `events` then still filters by time.
   */
  async readAfterFor(time: string): Promise<number> {
    if (!this.db) return 0;
    const firstAtOrAfter = await this.db.findOne({ time: { $gte: time } }).sort({ position: 1 });
    const before = await this.db.findOne(firstAtOrAfter ? { position: { $lt: firstAtOrAfter.position } } : {}).sort({ position: -1 });
    return before ? before.position - 1 : 0;
  }

  /** A position to read until so that every event at or before `time` is included (undefined: the end). */
  async readUntilFor(time: string): Promise<number | undefined> {
    if (!this.db) return undefined;
    const firstAfter = await this.db.findOne({ time: { $gt: time } }).sort({ position: 1 });
    if (!firstAfter) return undefined;
    const next = await this.db.findOne({ position: { $gt: firstAfter.position } }).sort({ position: 1 });
    return next ? next.position - 1 : undefined;
  }
}
