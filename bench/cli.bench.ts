// The CLI against the docker client (issue 15): each command run with `mini-docker` and with
// `docker` (DOCKER_HOST at the same mini-dockerd, in a temporary root), the two interleaved and
// their order alternating, and the ratio of the medians (goal: at most 1.5); and `mini-docker
// --version` against `node -e 0`, both without NODE_EXTRA_CA_CERTS (goal: within 5 ms). The
// machine's load is printed: on a shared machine the figures move with it, compare the ratios.
// Where `perf` is installed, each command also runs under `perf stat -e task-clock`: the CPU time
// of the whole process, which a loaded machine moves far less than the wall time.
// BENCH_BASELINE=<another checkout, built>: that checkout's bin/mini-docker runs each command too,
// against the same daemon, interleaved with the two others (baseline* columns, and ours/baseline).
// Run: `npm run build && node dist/bench/cli.bench.js` (BENCH_RUNS=N, default 10).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, DOCKER_CLIENT_MISSING, TestDaemon, runCommand, type RunResult } from '../test/e2e/harness.js';

const PERF = spawnSync('perf', ['--version'], { stdio: 'ignore' }).status === 0;
const perfDir = mkdtempSync(join(tmpdir(), 'cli-bench-perf-'));

/** `cmd args` under `perf stat -e task-clock`: its result and its CPU milliseconds. */
async function withCpu(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<[number, RunResult]> {
  const file = join(perfDir, 'stat.csv');
  const r = await runCommand('perf', ['stat', '-x,', '-e', 'task-clock', '-o', file, '--', cmd, ...args], { env });
  const line = readFileSync(file, 'utf8').split('\n').find((l) => l.includes('task-clock'));
  return [Number(line?.split(',')[0] ?? NaN), r];
}

const RUNS = Math.max(3, Number(process.env.BENCH_RUNS ?? 10));
const PS_CONTAINERS = 50;
/** PID 1 that ends on SIGTERM at once, so `stop` measures the CLI and the stop, not a grace period. */
const STOPPABLE = ['sh', '-c', 'trap "exit 0" TERM; sleep 100000 & wait'];

const round = (n: number): number => Math.round(n * 10) / 10;
/** A quotient to two decimals. */
const ratio = (q: number): number => Math.round(q * 100) / 100;

function median(samples: readonly number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function timed<T>(task: () => Promise<T>): Promise<[number, T]> {
  const start = process.hrtime.bigint();
  const value = await task();
  return [Number(process.hrtime.bigint() - start) / 1e6, value];
}

function ok(r: RunResult, what: string): RunResult {
  if (r.code !== 0) throw new Error(`${what} exited with ${r.code}: ${r.stderr.trim()}`);
  return r;
}

type Client = 'mini-docker' | 'docker' | 'baseline';

/** bin/mini-docker of another build (BENCH_BASELINE), measured beside ours. */
const BASELINE_CLI = process.env.BENCH_BASELINE ? join(process.env.BENCH_BASELINE, 'bin', 'mini-docker') : undefined;

/** One command of the comparison: untimed setup, the timed argv, untimed teardown. */
interface Case {
  readonly name: string;
  setup?(client: Client): Promise<string | undefined>;
  argv(prepared: string | undefined): readonly string[];
  teardown?(prepared: string | undefined, out: RunResult): Promise<unknown>;
}

const d = new TestDaemon('cli-bench');
const withoutCa = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
};
const host: Record<string, unknown> = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', kernel: release(), node: process.version, loadavg1mAtStart: round(loadavg()[0]!) };
const out: Record<string, unknown> = { bench: 'cli', host, runs: RUNS };

const run = (client: Client, argv: readonly string[]): Promise<RunResult> => (client === 'docker' ? d.docker(argv)
  : client === 'baseline' ? runCommand(BASELINE_CLI!, [...argv], { env: d.env }) : d.cli(argv));

try {
  await d.start();
  ok(await d.cli(['run', '-d', '--name', 'runner', 'busybox', 'sleep', '100000']), 'run runner');
  ok(await d.cli(['run', '--name', 'logger', 'busybox', 'sh', '-c', 'seq 100']), 'run logger');
  ok(await d.cli(['run', '--name', 'one-file', 'busybox', 'sh', '-c', 'echo changed > /etc/motd']), 'run one-file');
  const cases: Case[] = [
    { name: 'ps', argv: () => ['ps'] },
    {
      // the global flag before the command, as docker takes it (a BENCH_BASELINE build from before
      // that took it only after the command gets it there)
      name: '-H SOCKET ps',
      setup: (client) => Promise.resolve(client === 'baseline' ? 'after' : undefined),
      argv: (where) => (where === 'after' ? ['ps', '-H', `unix://${d.socketPath}`] : ['-H', `unix://${d.socketPath}`, 'ps']),
    },
    { name: 'images', argv: () => ['images'] },
    { name: 'inspect', argv: () => ['inspect', 'runner'] },
    { name: 'logs', argv: () => ['logs', 'logger'] },
    { name: 'exec true', argv: () => ['exec', 'runner', 'true'] },
    { name: 'version', argv: () => ['version'] },
    {
      name: 'run -d',
      argv: () => ['run', '-d', 'busybox', 'sleep', '100000'],
      teardown: (_p, r) => d.cli(['rm', '-f', r.stdout.trim()]),
    },
    { name: 'run --rm true', argv: () => ['run', '--rm', 'busybox', 'true'] },
    {
      name: 'stop',
      setup: async () => ok(await d.cli(['run', '-d', 'busybox', ...STOPPABLE]), 'run for stop').stdout.trim(),
      argv: (id) => ['stop', id!],
      teardown: (id) => d.cli(['rm', '-f', id!]),
    },
    {
      name: 'commit',
      argv: () => ['commit', 'one-file'],
      teardown: (_p, r) => d.cli(['rmi', r.stdout.trim()]),
    },
  ];
  const clients: Client[] = [...(DOCKER_CLIENT_MISSING ? ['mini-docker' as const] : ['mini-docker' as const, 'docker' as const]), ...(BASELINE_CLI ? ['baseline' as const] : [])];
  if (BASELINE_CLI) out.baseline = BASELINE_CLI;
  if (DOCKER_CLIENT_MISSING) out.docker = { available: false, reason: DOCKER_CLIENT_MISSING };

  const cpuOf = (client: Client, argv: readonly string[]): Promise<[number, RunResult]> => (client === 'docker'
    ? withCpu('docker', argv, { ...d.env, DOCKER_HOST: `unix://${d.socketPath}` })
    : withCpu(client === 'baseline' ? BASELINE_CLI! : CLI, argv, d.env));
  const measure = async (c: Case): Promise<Record<string, unknown>> => {
    const times: Record<Client, number[]> = { 'mini-docker': [], docker: [], baseline: [] };
    const cpu: Record<Client, number[]> = { 'mini-docker': [], docker: [], baseline: [] };
    for (let i = 0; i <= RUNS; i++) {
      const order = i % 2 === 0 ? clients : [...clients].reverse();
      for (const client of order) {
        for (const kind of PERF ? (['wall', 'cpu'] as const) : (['wall'] as const)) {
          const prepared = await c.setup?.(client);
          const [ms, r] = kind === 'wall' ? await timed(() => run(client, c.argv(prepared))) : await cpuOf(client, c.argv(prepared));
          ok(r, `${client} ${c.argv(prepared).join(' ')}`);
          await c.teardown?.(prepared, r);
          if (i > 0) (kind === 'wall' ? times : cpu)[client].push(ms); // the first pair warms caches
        }
      }
    }
    const ours = median(times['mini-docker']);
    const row: Record<string, unknown> = { miniDockerMs: round(ours) };
    if (times.docker.length > 0) {
      const theirs = median(times.docker);
      row.dockerMs = round(theirs);
      row.ratio = ratio(ours / theirs);
    }
    if (times.baseline.length > 0) {
      row.baselineMs = round(median(times.baseline));
      row.vsBaseline = ratio(ours / median(times.baseline));
    }
    if (PERF) {
      row.miniDockerCpuMs = round(median(cpu['mini-docker']));
      if (cpu.docker.length > 0) {
        row.dockerCpuMs = round(median(cpu.docker));
        row.cpuRatio = ratio(median(cpu['mini-docker']) / median(cpu.docker));
      }
      if (cpu.baseline.length > 0) {
        row.baselineCpuMs = round(median(cpu.baseline));
        row.cpuVsBaseline = ratio(median(cpu['mini-docker']) / median(cpu.baseline));
      }
    }
    return row;
  };

  const results: Record<string, unknown> = {};
  for (const c of cases) results[c.name] = await measure(c);
  for (let i = 0; i < PS_CONTAINERS; i++) ok(await d.cli(['create', 'busybox', 'true']), 'create');
  results[`ps -a (${PS_CONTAINERS + 3} containers)`] = await measure({ name: 'ps -a', argv: () => ['ps', '-a'] });
  out.commands = results;

  // mini-docker --version against node -e 0, interleaved, both without the CA bundle.
  const version: number[] = [];
  const nodeE0: number[] = [];
  for (let i = 0; i <= RUNS * 2; i++) {
    const [a] = await timed(() => runCommand(CLI, ['--version'], { env: withoutCa() }));
    const [b] = await timed(() => runCommand(process.execPath, ['-e', '0'], { env: withoutCa() }));
    if (i > 0) {
      version.push(a);
      nodeE0.push(b);
    }
  }
  out.version = { miniDockerVersionMs: round(median(version)), nodeE0Ms: round(median(nodeE0)), overNodeMs: round(median(version) - median(nodeE0)) };
  if (PERF) {
    const versionCpu: number[] = [];
    const nodeCpu: number[] = [];
    for (let i = 0; i <= RUNS * 2; i++) {
      const [a] = await withCpu(CLI, ['--version'], withoutCa());
      const [b] = await withCpu(process.execPath, ['-e', '0'], withoutCa());
      if (i > 0) {
        versionCpu.push(a);
        nodeCpu.push(b);
      }
    }
    out.versionCpu = { miniDockerVersionCpuMs: round(median(versionCpu)), nodeE0CpuMs: round(median(nodeCpu)), overNodeCpuMs: round(median(versionCpu) - median(nodeCpu)) };
  }
  host.loadavg1mAtEnd = round(loadavg()[0]!);
} catch (err) {
  out.error = (err as Error).message;
  process.exitCode = 1;
} finally {
  await d.cleanup();
  rmSync(perfDir, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
