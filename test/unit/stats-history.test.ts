import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { presentStatsHistory } from '../../core/api/stats-history-routes.js';
import { parseDaemonOptions } from '../../core/daemon/daemon-options.js';
import type { StatsSample } from '../../core/stats/stats-history.js';

const ID = 'a'.repeat(64);
const sample = (t: number, cpu: number, system: number, memory = 1000): StatsSample =>
  ({ id: ID, t, cpuUsageNanos: cpu, systemCpuNanos: system, onlineCpus: 2, memoryUsage: memory, memoryLimit: 4096, pids: 3 });

describe('unit: the stats history', () => {
  it('CPU share per reading as docker stats computes it; none for the first, none across a counter reset', () => {
    const points = presentStatsHistory([
      sample(1_000, 0, 0),
      sample(2_000, 500_000_000, 2_000_000_000), // a quarter of the host's time on 2 CPUs: 50 %
      sample(3_000, 100, 4_000_000_000), // restarted: the counter went back
      sample(4_000, 1_000_000_100, 6_000_000_000, 2048),
    ]);
    assert.deepEqual(points.map((p) => p.cpuPercent), [null, 50, null, 100]);
    assert.deepEqual(points.map((p) => p.time), ['1970-01-01T00:00:01.000Z', '1970-01-01T00:00:02.000Z', '1970-01-01T00:00:03.000Z', '1970-01-01T00:00:04.000Z']);
    assert.deepEqual(points[3], { time: '1970-01-01T00:00:04.000Z', cpuPercent: 100, memoryUsage: 2048, memoryLimit: 4096, pids: 3 });
  });

  it('the daemon flag: seconds between readings, 0 for none, a clear error otherwise', () => {
    assert.equal(parseDaemonOptions([], {}, '/home/x').statsHistoryMs, 10_000);
    assert.equal(parseDaemonOptions(['--stats-history', '0.5'], {}, '/home/x').statsHistoryMs, 500);
    assert.equal(parseDaemonOptions([], { MINI_DOCKER_STATS_HISTORY: '0' }, '/home/x').statsHistoryMs, 0);
    assert.throws(() => parseDaemonOptions(['--stats-history', 'often'], {}, '/home/x'), /^Error: --stats-history often: expected seconds between readings \(0\.1 or more\), or 0 for none$/);
    assert.throws(() => parseDaemonOptions(['--stats-history', '0.01'], {}, '/home/x'), /0\.1 or more/);
  });
});
