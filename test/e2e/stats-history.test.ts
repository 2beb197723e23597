import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StatsHistoryPoint } from '../../core/api/stats-history-routes.js';
import { TestDaemon, until } from './harness.js';
import { apiGet } from './kernel-agreement.js';

/**
 * The daemon's kept stats (`GET /tiny/stats/{id}`): readings of the container's real cgroups,
 * taken while it runs, still there after it is removed and after a daemon restart.
 */
describe('e2e: the stats history', () => {
  const d = new TestDaemon('stats-history', { MINI_DOCKER_STATS_HISTORY: '0.2' });

  before(() => d.start());
  after(() => d.cleanup());

  it('keeps readings of a running container (memory, processes, CPU share) past its rm and a daemon restart', async () => {
    const run = await d.cli(['run', '-d', '-m', '64m', 'busybox', 'sh', '-c', 'sleep 1000 & sleep 1000 & wait']);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    const path = `/tiny/stats/${id}?since=${Math.floor(Date.now() / 1000) - 5}`;
    const points = await until('three readings of the container', async () => {
      const r = await apiGet<StatsHistoryPoint[]>(d.socketPath, path);
      assert.equal(r.status, 200);
      return r.body.length >= 3 ? r.body : undefined;
    });
    const times = points.map((p) => Date.parse(p.time));
    assert.deepEqual([...times].sort((a, b) => a - b), times, 'oldest first');
    for (const p of points) {
      assert.equal(p.memoryLimit, 64 << 20);
      assert.ok(p.memoryUsage > 0, `memory in use: ${p.memoryUsage}`);
      assert.ok(p.pids >= 3, `sh and two sleeps: ${p.pids}`);
    }
    assert.equal(points[0]!.cpuPercent, null);
    assert.ok(points.slice(1).every((p) => p.cpuPercent !== null && p.cpuPercent >= 0), JSON.stringify(points));

    assert.equal((await d.cli(['rm', '-f', id])).code, 0);
    const kept = await apiGet<StatsHistoryPoint[]>(d.socketPath, path);
    assert.ok(kept.body.length >= points.length, 'still there after rm');
    await d.stop();
    await d.start();
    const afterRestart = await apiGet<StatsHistoryPoint[]>(d.socketPath, path);
    assert.deepEqual(afterRestart.body.slice(0, points.length), points, 'kept across a restart');

    const bad = await apiGet<{ message: string }>(d.socketPath, '/tiny/stats/abc');
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /full id/);
    const backwards = await apiGet<{ message: string }>(d.socketPath, `/tiny/stats/${id}?since=2000&until=1000`);
    assert.equal(backwards.status, 400);
  });
});
