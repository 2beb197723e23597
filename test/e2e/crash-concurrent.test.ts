// E2E: sixty `run -d` from separate CLI processes, with no daemon at first (each CLI may start
// one: the autostart race) and the daemon killed with -9 while some of them are in flight. Every
// client ends with either the id of a container that `inspect` shows running after the restart,
// or one clear error line; none fails because several CLIs started a daemon at once; ps/inspect
// agree with the kernel at the end, and everything is removed after. The CLIs are started in
// three waves (two loaded cores), the kill falls in the second, and the third races to start the
// next daemon.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TestDaemon, until, type RunResult } from './harness.js';
import { assertKernelAgrees, cleanupEverything, inspectAll, processAlive } from './kernel-agreement.js';

const CLIENTS = 60;
const WAVES = 3;
const ID = /^[0-9a-f]{64}$/;

interface Outcome {
  readonly client: number;
  readonly result: RunResult;
  readonly startedAt: number;
  readonly endedAt: number;
}

/** The pid of the daemon serving `d`'s exec root (its pid file), checked to be this test's daemon. */
function daemonPid(d: TestDaemon): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(d.execRoot, 'mini-dockerd.pid'), 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!processAlive(pid)) return undefined;
  const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  return cmd.includes(d.execRoot) ? pid : undefined;
}

describe('e2e: 60 concurrent run -d while the daemon is killed with -9', () => {
  const d = new TestDaemon('crash-concurrent');
  d.env.MINI_DOCKER_NO_AUTOSTART = ''; // the CLIs start the daemon themselves
  after(async () => {
    // The daemon was started by a CLI, not by the harness: remove the containers through it, stop it by its pid.
    const ids = (await d.cli(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter((l) => l.trim() !== '');
    if (ids.length > 0) await d.cli(['rm', '-f', ...ids], { timeoutMs: 180_000 });
    const pid = daemonPid(d);
    if (pid !== undefined) {
      process.kill(pid, 'SIGTERM');
      await until('the daemon to stop', () => (processAlive(pid) ? undefined : true), 60_000).catch(() => undefined);
    }
    await cleanupEverything(d);
  });

  it('every client gets a running container or one clear error line, and ps agrees with the kernel', async (t) => {
    const outcomes: Outcome[] = [];
    const running = new Set<Promise<void>>();
    const launch = (client: number): void => {
      const startedAt = Date.now();
      const p = d.cli(['run', '-d', '-e', `CRASH_CLIENT=${client}`, 'busybox', 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done'], { timeoutMs: 240_000 })
        .then((result) => { outcomes.push({ client, result, startedAt, endedAt: Date.now() }); });
      running.add(p);
      void p.finally(() => running.delete(p));
    };
    const perWave = CLIENTS / WAVES;
    let next = 0;
    const wave = (): void => {
      for (let i = 0; i < perWave; i++) launch(next++);
    };

    wave(); // no daemon yet: these CLIs race to start one
    await until('a few clients of the first wave to finish', () => (outcomes.length >= perWave / 2 ? true : undefined), 240_000);
    // The second wave is launched one client every 100 ms, so that on a fast, quiet machine too some
    // are still in flight when the daemon is killed (after a few of them finished).
    const staggered = (async () => {
      for (let i = 0; i < perWave; i++) {
        launch(next++);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await until('some clients of the second wave to finish', () => (outcomes.filter((o) => o.client >= perWave).length >= 3 ? true : undefined), 240_000);
    const pid = await until('the daemon to run', () => daemonPid(d), 60_000);
    const inFlight = running.size;
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await until('the killed daemon to be gone', () => (processAlive(pid) ? undefined : true), 30_000);
    await staggered;
    wave(); // these, and the cut ones that retry, race to start the next daemon
    await Promise.all([...running]);
    t.diagnostic(`killed daemon ${pid} with ${inFlight} clients in flight`);
    assert.ok(inFlight > 0, 'the kill overlapped running clients');
    assert.equal(outcomes.length, CLIENTS);
    assert.ok(outcomes.some((o) => o.startedAt < killedAt && o.endedAt > killedAt), 'some client was running across the kill');

    // A daemon answers again (started by the third wave); ps and inspect from it.
    const ps = await d.cli(['ps', '-aq', '--no-trunc']);
    assert.equal(ps.code, 0, ps.stderr);
    const containers = await inspectAll(d);
    const byId = new Map(containers.map((c) => [c.Id, c]));
    const failures: string[] = [];
    let ids = 0;
    for (const o of outcomes.sort((a, b) => a.client - b.client)) {
      const out = o.result.stdout.trim();
      const err = o.result.stderr.trim();
      if (o.result.code === 0) {
        ids += 1;
        if (!ID.test(out)) failures.push(`client ${o.client}: exit 0 without an id: ${JSON.stringify(out)} ${JSON.stringify(err)}`);
        else if (byId.get(out)?.State.Running !== true) failures.push(`client ${o.client}: its container ${out.slice(0, 12)} is ${byId.get(out)?.State.Status ?? 'not there'} after the restart`);
      } else {
        const lines = err.split('\n');
        if (lines.length !== 1 || !/^Error( response from daemon)?: \S/.test(lines[0]!)) failures.push(`client ${o.client}: exit ${o.result.code} without one clear error line: ${JSON.stringify(err)}`);
        if (/another mini-dockerd/.test(err)) failures.push(`client ${o.client}: failed because several CLIs started a daemon: ${err}`);
        if (out !== '') failures.push(`client ${o.client}: failed (${o.result.code}) but printed ${JSON.stringify(out)}`);
      }
    }
    t.diagnostic(`${ids} clients got a running container, ${CLIENTS - ids} a clear error`);
    let daemonLog = '';
    try {
      daemonLog = readFileSync(join(d.execRoot, 'mini-dockerd.log'), 'utf8');
    } catch { /* no daemon wrote one */ }
    t.diagnostic(`daemons started by the CLIs: ${daemonLog.match(/ serving unix:/g)?.length ?? 0} served, ${daemonLog.match(/another mini-dockerd/g)?.length ?? 0} lost the race for the lock`);
    assert.deepEqual(failures, []);
    assert.ok(ids > 0, 'some clients got a container');
    await assertKernelAgrees(d, { knownIds: outcomes.map((o) => o.result.stdout.trim()).filter((s) => ID.test(s)) });

    // Everything goes away: every container removed, nothing of them left.
    const all = containers.map((c) => c.Id);
    const rm = await d.cli(['rm', '-f', ...all], { timeoutMs: 180_000 });
    assert.equal(rm.code, 0, rm.stderr);
    assert.deepEqual(await inspectAll(d), []);
    await assertKernelAgrees(d, { knownIds: all });
  });
});
