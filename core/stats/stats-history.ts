import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import Datastore from 'nedb-promises';
import type { ResourceStats } from '../plugins/driver.js';

/** One reading of one container, as kept: what the UI draws around a past moment. */
export interface StatsSample {
  /** The container's full id. */
  readonly id: string;
  /** Milliseconds since 1970 of the reading. */
  readonly t: number;
  readonly cpuUsageNanos: number;
  readonly systemCpuNanos: number;
  readonly onlineCpus: number;
  readonly memoryUsage: number;
  readonly memoryLimit: number;
  readonly pids: number;
}

/** What the sampler asks of the engine: who runs, and one reading of each. */
export interface StatsSource {
  running(): readonly string[];
  stats(id: string): Promise<ResourceStats>;
}

export interface StatsHistoryOptions {
  /** Time between two readings of every running container; 0 turns the history off. */
  readonly intervalMs: number;
  /** How long readings are kept. */
  readonly retainMs: number;
}

/** Docker has no history of stats; these are tiny-docker's defaults (a reading every 10 s, kept a day). */
export const DEFAULT_STATS_HISTORY: StatsHistoryOptions = { intervalMs: 10_000, retainMs: 24 * 3600_000 };

/**
 * The past of `stats`: every `intervalMs` the daemon reads each running container's cgroup figures
 * (the limiter driver's `stats`, as `GET /containers/{id}/stats` does) and keeps them in a small
 * nedb datastore beside the log, for `retainMs`. These are measurements, not facts of the engine's
 * state: nothing is decided from them, a lost reading loses nothing, and the file can be deleted
 * at any time (the daemon starts an empty one). The event log stays the one record of what happened;
 * this answers "how much memory did it use just before it was killed" (the UI, `GET /tiny/stats/{id}`).
 */
export class StatsHistory {
  private readonly file: string;
  private db: Datastore<StatsSample> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> | undefined;
  private lastPrune = 0;

  constructor(
    directory: string,
    private readonly source: StatsSource,
    private readonly options: StatsHistoryOptions = DEFAULT_STATS_HISTORY,
    private readonly warn: (message: string) => void = () => undefined,
  ) {
    this.file = join(directory, 'stats-history.db');
  }

  get enabled(): boolean {
    return this.options.intervalMs > 0;
  }

  /** Loads the kept readings (a damaged file is started afresh, with a warning) and starts sampling. */
  async start(): Promise<void> {
    if (!this.enabled) return;
    await mkdir(join(this.file, '..'), { recursive: true });
    try {
      this.db = await this.load();
    } catch (err) {
      this.warn(`stats history ${this.file} is damaged (${err instanceof Error ? err.message : String(err)}): starting it afresh`);
      await rm(this.file, { force: true });
      this.db = await this.load();
    }
    await this.prune(Date.now());
    this.timer = setInterval(() => {
      this.sampling ??= this.sample().finally(() => {
        this.sampling = undefined;
      });
    }, this.options.intervalMs);
    this.timer.unref();
  }

  private async load(): Promise<Datastore<StatsSample>> {
    const db = Datastore.create({ filename: this.file }) as Datastore<StatsSample>;
    await db.load();
    await db.ensureIndex({ fieldName: 'id' });
    await db.ensureIndex({ fieldName: 't' });
    return db;
  }

  /** One reading of every running container (a container that stopped meanwhile is skipped). */
  async sample(now = Date.now()): Promise<void> {
    const db = this.db;
    if (!db) return;
    const readings = await Promise.all(this.source.running().map(async (id): Promise<StatsSample | undefined> => {
      try {
        const s = await this.source.stats(id);
        return {
          id, t: now, cpuUsageNanos: s.cpuUsageNanos, systemCpuNanos: s.systemCpuNanos, onlineCpus: s.onlineCpus,
          memoryUsage: s.memoryUsage, memoryLimit: s.memoryLimit, pids: s.pids,
        };
      } catch {
        return undefined; // it exited between the listing and the reading
      }
    }));
    const kept = readings.filter((r): r is StatsSample => r !== undefined);
    try {
      if (kept.length > 0) await db.insert(kept);
      if (now - this.lastPrune >= 60_000) await this.prune(now);
    } catch (err) {
      this.warn(`stats history: a reading was not kept: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private async prune(now: number): Promise<void> {
    if (!this.db) return;
    this.lastPrune = now;
    const removed = await this.db.remove({ t: { $lt: now - this.options.retainMs } }, { multi: true });
    if (removed > 0) this.db.persistence.compactDatafile();
  }

  /** The readings of one container between two times (ms since 1970, both included), oldest first. */
  async query(id: string, since: number, until: number): Promise<StatsSample[]> {
    if (!this.db) return [];
    const found = await this.db.find({ id, t: { $gte: since, $lte: until } }).sort({ t: 1 });
    return found.map(({ id: cid, t, cpuUsageNanos, systemCpuNanos, onlineCpus, memoryUsage, memoryLimit, pids }) =>
      ({ id: cid, t, cpuUsageNanos, systemCpuNanos, onlineCpus, memoryUsage, memoryLimit, pids }));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sampling;
  }
}
