// The daemon's part of `run -d` (create + start over the API, until the start answered: the
// process runs) and of `stop`, this build against other builds of the project, measured in rounds
// at the same moment: each build's own daemon in its own temporary root, one run -d and stop on
// each in turn, the order rotating from round to round, the first round not counted. On a machine
// that others load, the spread between runs is larger than a few milliseconds of difference;
// runs taken at the same moment are the only fair comparison. bench/lifecycle.bench.ts runs it when
// BENCH_BASELINE names the other builds' checkouts (built with `npm run build`; several separated
// by commas), e.g. a worktree of the commit before a change. Between the start and the stop
// (untimed) the bench waits until the container's shell has set its trap (it prints `ready`): a
// stop that came first met a PID 1 with no handler, which ignores SIGTERM, and waited out the
// grace period (10 s).
import { request } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TestDaemon } from '../test/e2e/harness.js';

type Harness = typeof import('../test/e2e/harness.js');

/** PID 1 that ends on SIGTERM at once, so that stop measures the daemon, not a grace period; `ready` once its trap is set. */
const STOPPABLE = ['sh', '-c', 'trap "exit 0" TERM; echo ready; sleep 100000 & wait'];

function post(socketPath: string, method: string, path: string, body?: unknown): Promise<string> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request({ socketPath, method, path, agent: false, headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 0) >= 300) reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`));
        else resolve(text);
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

export interface PairSamples {
  readonly runDetachedMs: number[];
  readonly stopMs: number[];
}

/** Until the container printed `ready` (its trap is set), polling its log; at most 10 s. */
async function untilReady(socketPath: string, id: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await post(socketPath, 'GET', `/containers/${id}/logs?stdout=1`)).includes('ready')) {
    if (Date.now() > deadline) throw new Error(`container ${id.slice(0, 12)} printed no "ready" in 10 s`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** One run -d (create + start), then (once its trap is set, untimed) its stop, then its removal (untimed). */
async function once(socketPath: string, into: PairSamples, counted: boolean): Promise<void> {
  const t0 = performance.now();
  const { Id } = JSON.parse(await post(socketPath, 'POST', '/containers/create', { Image: 'busybox', Cmd: STOPPABLE })) as { Id: string };
  await post(socketPath, 'POST', `/containers/${Id}/start`);
  const t1 = performance.now();
  await untilReady(socketPath, Id);
  const t1b = performance.now();
  await post(socketPath, 'POST', `/containers/${Id}/stop`);
  const t2 = performance.now();
  await post(socketPath, 'DELETE', `/containers/${Id}?force=true`);
  if (!counted) return;
  into.runDetachedMs.push(t1 - t0);
  into.stopMs.push(t2 - t1b);
}

/**
 * `runs` counted rounds against daemons of the builds at `baselineRoots` (started here, removed at
 * the end) and `ours` (already running). Resolves with the samples of ours and of each baseline,
 * in round order.
 */
export async function interleavedBaselines(baselineRoots: readonly string[], runs: number, ours: TestDaemon): Promise<{ ours: PairSamples; baselines: PairSamples[] }> {
  const others: TestDaemon[] = [];
  const result: { ours: PairSamples; baselines: PairSamples[] } = { ours: { runDetachedMs: [], stopMs: [] }, baselines: baselineRoots.map(() => ({ runDetachedMs: [], stopMs: [] })) };
  try {
    for (const root of baselineRoots) {
      const harness = (await import(pathToFileURL(join(root, 'dist', 'test', 'e2e', 'harness.js')).href)) as Harness;
      const other = new harness.TestDaemon('bench-baseline');
      others.push(other);
      await other.start();
    }
    const all: [TestDaemon, PairSamples][] = [[ours, result.ours], ...others.map((d, k): [TestDaemon, PairSamples] => [d, result.baselines[k]!])];
    for (let i = 0; i <= runs; i++) {
      for (let k = 0; k < all.length; k++) {
        const [daemon, into] = all[(i + k) % all.length]!;
        await once(daemon.socketPath, into, i > 0);
      }
    }
  } finally {
    for (const other of others) await other.cleanup();
  }
  return result;
}
