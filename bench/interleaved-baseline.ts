// The daemon's part of `run -d` (create + start over the API, until the start answered: the
// process runs) and of `stop`, this build against another build of the project, measured in pairs
// at the same moment: each build's own daemon in its own temporary root, one run -d and stop on
// each in turn, the order alternating from pair to pair, the first pair not counted. On a machine
// that others load, the spread between runs is larger than a few milliseconds of difference;
// pairs taken at the same moment are the only fair comparison. bench/lifecycle.bench.ts runs it when
// BENCH_BASELINE names the other build's checkout (built with `npm run build`), e.g. a worktree of
// the commit before a change.
import { request } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TestDaemon } from '../test/e2e/harness.js';

type Harness = typeof import('../test/e2e/harness.js');

/** PID 1 that ends on SIGTERM at once, so that stop measures the daemon, not a grace period. */
const STOPPABLE = ['sh', '-c', 'trap "exit 0" TERM; sleep 100000 & wait'];

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

/** One run -d (create + start), then its stop, then its removal (untimed). */
async function once(socketPath: string, into: PairSamples, counted: boolean): Promise<void> {
  const t0 = performance.now();
  const { Id } = JSON.parse(await post(socketPath, 'POST', '/containers/create', { Image: 'busybox', Cmd: STOPPABLE })) as { Id: string };
  await post(socketPath, 'POST', `/containers/${Id}/start`);
  const t1 = performance.now();
  await post(socketPath, 'POST', `/containers/${Id}/stop`);
  const t2 = performance.now();
  await post(socketPath, 'DELETE', `/containers/${Id}?force=true`);
  if (!counted) return;
  into.runDetachedMs.push(t1 - t0);
  into.stopMs.push(t2 - t1);
}

/**
 * `runs` counted pairs against a daemon of the build at `baselineRoot` (started here, removed at
 * the end) and `ours` (already running). Resolves with the samples of both, in pair order.
 */
export async function interleavedBaseline(baselineRoot: string, runs: number, ours: TestDaemon): Promise<{ ours: PairSamples; baseline: PairSamples }> {
  const harness = (await import(pathToFileURL(join(baselineRoot, 'dist', 'test', 'e2e', 'harness.js')).href)) as Harness;
  const other = new harness.TestDaemon('bench-baseline');
  const result: { ours: PairSamples; baseline: PairSamples } = { ours: { runDetachedMs: [], stopMs: [] }, baseline: { runDetachedMs: [], stopMs: [] } };
  try {
    await other.start();
    for (let i = 0; i <= runs; i++) {
      const pair: [TestDaemon, PairSamples][] = [[ours, result.ours], [other, result.baseline]];
      for (const [daemon, into] of i % 2 === 0 ? pair : pair.reverse()) await once(daemon.socketPath, into, i > 0);
    }
  } finally {
    await other.cleanup();
  }
  return result;
}
