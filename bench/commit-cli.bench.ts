// `mini-docker commit` end to end against a real mini-dockerd in a temporary root, the two cases
// issue 15 measured: a container that changed one file, and one that wrote 20,000 small files
// (200 folders of 100). Prints one JSON object: the CLI's time (what a user waits) and the
// daemon's part (POST /commit over the socket, no CLI start), medians of a few runs.
// Run: `npm run build && node dist/bench/commit-cli.bench.js` (BENCH_RUNS=N, default 5; the big
// case runs max(2, N/2) times). Podman's figures, for comparison, need `apt-get install podman`
// and a busybox image there: `podman commit` of the same two containers.
import { request } from 'node:http';
import { cpus, loadavg, release } from 'node:os';
import { TestDaemon, type RunResult } from '../test/e2e/harness.js';

const RUNS = Math.max(2, Number(process.env.BENCH_RUNS ?? 5));
/** Issue 15's figures on the same kind of machine. */
const REFERENCE = { oneFileMs: 190, podmanOneFileMs: 60, twentyThousandFilesMs: 8100, podmanTwentyThousandFilesMs: 3800 };
const WRITE_20000 = 'for d in $(seq 200); do mkdir -p /data/d$d; for f in $(seq 100); do echo "file $d/$f of the benchmark" > /data/d$d/f$f; done; done';

const round = (n: number): number => Math.round(n * 10) / 10;

function median(samples: readonly number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function ok(r: RunResult, what: string): RunResult {
  if (r.code !== 0) throw new Error(`${what} exited with ${r.code}: ${r.stderr.trim()}`);
  return r;
}

/** POST /commit over the daemon's socket; resolves with the new image id. */
function apiCommit(socketPath: string, container: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method: 'POST', path: `/commit?container=${container}`, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 0) >= 300) reject(new Error(`POST /commit: ${res.statusCode} ${text}`));
        else resolve((JSON.parse(text) as { Id: string }).Id);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function timed<T>(task: () => Promise<T>): Promise<[number, T]> {
  const start = process.hrtime.bigint();
  const value = await task();
  return [Number(process.hrtime.bigint() - start) / 1e6, value];
}

/** `runs` commits by the CLI and by the API (each image removed after), one untimed warm-up. */
async function commitFigures(d: TestDaemon, container: string, runs: number): Promise<{ cliMs: number; apiMs: number; runs: number }> {
  const cli: number[] = [];
  const apiTimes: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const [cliMs, r] = await timed(() => d.cli(['commit', container]));
    ok(r, 'commit');
    ok(await d.cli(['rmi', r.stdout.trim()]), 'rmi');
    const [apiMs, id] = await timed(() => apiCommit(d.socketPath, container));
    ok(await d.cli(['rmi', id]), 'rmi');
    if (i > 0) {
      cli.push(cliMs);
      apiTimes.push(apiMs);
    }
  }
  return { cliMs: round(median(cli)), apiMs: round(median(apiTimes)), runs };
}

const d = new TestDaemon('commit-bench');
const out: Record<string, unknown> = {
  bench: 'commit-cli',
  host: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', kernel: release(), node: process.version, loadavg1mAtStart: round(loadavg()[0]!) },
  reference: REFERENCE,
};
try {
  await d.start();
  ok(await d.cli(['run', '--name', 'one-file', 'busybox', 'sh', '-c', 'echo changed > /etc/motd']), 'run one-file');
  out.oneFile = await commitFigures(d, 'one-file', RUNS);
  ok(await d.cli(['run', '--name', 'many-files', 'busybox', 'sh', '-c', WRITE_20000]), 'run many-files');
  out.twentyThousandFiles = await commitFigures(d, 'many-files', Math.max(2, Math.floor(RUNS / 2)));
  out.loadavg1mAtEnd = round(loadavg()[0]!);
} finally {
  await d.cleanup();
}
console.log(JSON.stringify(out, null, 2));
