import { InvalidArgumentError, NotImplementedError } from '../engine/errors.js';
import type { StatsSample } from '../stats/stats-history.js';
import { queryString } from './http-params.js';
import type { RouteDeps } from './route-support.js';
import type { Router } from './router.js';
import { parseDockerTime } from './time.js';

/** What the route reads: the daemon's stats history (core/stats/stats-history.ts). */
export interface StatsHistoryReader {
  readonly enabled: boolean;
  query(id: string, since: number, until: number): Promise<StatsSample[]>;
}

/** One reading as the API gives it: the CPU share since the reading before, as `docker stats` computes it. */
export interface StatsHistoryPoint {
  readonly time: string;
  /** Percent of one CPU (100 = one core busy); null for the first reading of a run of them. */
  readonly cpuPercent: number | null;
  readonly memoryUsage: number;
  readonly memoryLimit: number;
  readonly pids: number;
}

/** Readings to points: CPU % from each pair, as the docker CLI does (container delta / host delta × CPUs × 100). */
export function presentStatsHistory(samples: readonly StatsSample[]): StatsHistoryPoint[] {
  return samples.map((s, i) => {
    const before = samples[i - 1];
    let cpuPercent: number | null = null;
    if (before) {
      const cpu = s.cpuUsageNanos - before.cpuUsageNanos;
      const system = s.systemCpuNanos - before.systemCpuNanos;
      // A restart resets the cgroup's counter: no share across it.
      if (cpu >= 0 && system > 0) cpuPercent = Math.round((cpu / system) * s.onlineCpus * 100 * 100) / 100;
    }
    return { time: new Date(s.t).toISOString(), cpuPercent, memoryUsage: s.memoryUsage, memoryLimit: s.memoryLimit, pids: s.pids };
  });
}

const NANOS_PER_MS = 1_000_000n;

/**
 * `GET /tiny/stats/{id}?since=&until=`: the kept readings of a container (its full id: it may be
 * removed since) between two times (Docker's time forms: RFC 3339 or Unix seconds; default the
 * last 10 minutes). tiny-docker's own route: Docker keeps no history of stats.
 */
export function registerStatsHistoryRoutes(router: Router, { statsHistory }: RouteDeps): void {
  router.get('/tiny/stats/{id}', async ({ req, res, params }) => {
    if (!statsHistory?.enabled) throw new NotImplementedError('this daemon keeps no stats history (started with --stats-history 0)');
    const id = params.id!;
    if (!/^[0-9a-f]{64}$/.test(id)) throw new InvalidArgumentError(`invalid container id: ${id}: the stats history takes a full id (64 hex digits)`);
    const now = Date.now();
    const sinceText = queryString(req.query, 'since');
    const untilText = queryString(req.query, 'until');
    const since = sinceText === undefined ? now - 600_000 : Number(parseDockerTime(sinceText, 'since') / NANOS_PER_MS);
    const until = untilText === undefined ? now : Number(parseDockerTime(untilText, 'until') / NANOS_PER_MS);
    if (until < since) throw new InvalidArgumentError(`until (${untilText ?? ''}) is before since (${sinceText ?? ''})`);
    res.json(200, presentStatsHistory(await statsHistory.query(id, since, until)));
  });
}
