// `mini-docker cp` figures (docs/cp.md, docs/benchmarks.md): a folder of 2,000 small files (20
// folders of 100, 100 bytes each) and one 50 MB file, copied into and out of a running container
// and a stopped one, by the CLI against a real daemon in a temporary root. Each case runs
// BENCH_RUNS times (default 5; the first not counted) into a new destination, removed untimed.
// Prints one JSON object of medians in milliseconds.
// Run: `npm run build && node dist/bench/cp.bench.js`.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { TestDaemon, type RunResult } from '../test/e2e/harness.js';

const RUNS = Math.max(2, Number(process.env.BENCH_RUNS ?? 5));

function median(samples: readonly number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  return Math.round((s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2) * 10) / 10;
}

function ok(r: RunResult, what: string): RunResult {
  if (r.code !== 0) throw new Error(`${what} exited with ${r.code}: ${r.stderr.trim()}`);
  return r;
}

const d = new TestDaemon('cp-bench');
try {
  await d.start();
  const small = join(d.root, 'small');
  for (let dir = 0; dir < 20; dir++) {
    mkdirSync(join(small, `d${dir}`), { recursive: true });
    for (let f = 0; f < 100; f++) writeFileSync(join(small, `d${dir}`, `f${f}`), randomBytes(50).toString('hex'));
  }
  const big = join(d.root, 'big.bin');
  writeFileSync(big, randomBytes(50 << 20));
  ok(await d.cli(['run', '-d', '--name', 'cp-running', 'busybox', 'sleep', '600']), 'run');
  ok(await d.cli(['create', '--name', 'cp-stopped', 'busybox', 'true']), 'create');
  const out = join(d.root, 'out');
  const figures: Record<string, number> = {};
  for (const container of ['cp-running', 'cp-stopped']) {
    const cases: [string, (i: number) => string[]][] = [
      ['2000 files in', (i) => ['cp', small, `${container}:/small-${i}`]],
      ['2000 files out', (i) => ['cp', `${container}:/small-${i}`, join(out, `small-${i}`)]],
      ['50 MB in', (i) => ['cp', big, `${container}:/big-${i}`]],
      ['50 MB out', (i) => ['cp', `${container}:/big-${i}`, join(out, `big-${i}`)]],
    ];
    const samples = new Map<string, number[]>(cases.map(([name]) => [name, []]));
    for (let i = 0; i <= RUNS; i++) {
      mkdirSync(out, { recursive: true });
      for (const [name, argv] of cases) {
        const start = process.hrtime.bigint();
        ok(await d.cli(argv(i)), `${name} (${container})`);
        if (i > 0) samples.get(name)!.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
      rmSync(out, { recursive: true, force: true });
    }
    for (const [name, s] of samples) figures[`${name} (${container.slice(3)})`] = median(s);
  }
  console.log(JSON.stringify({ runs: RUNS, cpus: cpus().length, loadavg: loadavg().map((l) => Math.round(l * 100) / 100), medianMs: figures }, null, 2));
} finally {
  await d.cleanup();
}
