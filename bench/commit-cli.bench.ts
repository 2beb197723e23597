// `mini-docker commit` against `podman commit`, side by side on one machine (issue 15): the same
// two changes made in a container of each, a busybox that changed one file and one that wrote
// 20,000 small files (200 folders of 100), committed in turns — ours by the CLI, ours by the API
// alone (POST /commit over the socket, no CLI start: the daemon's part), podman's — their order
// alternating, the first round not counted, each new image removed untimed. Prints one JSON
// object: medians of the wall time of each, and where `perf` is installed the CPU time (ours: the
// CLI's process under `perf stat -e task-clock` plus what the daemon's threads and children spent
// meanwhile; podman's: its process and children under perf), and the ratios ours/podman (goal:
// at most 1). Without podman (it is not a CI package) its part is {"available": false, "reason"}.
// Podman keeps to a store of its own in the bench's temporary root (bench/podman-rig.ts) with a
// busybox image made from the host's static busybox: nothing is pulled.
// Run: `npm run build && node dist/bench/commit-cli.bench.js` (BENCH_RUNS=N, default 7; the big
// case runs max(2, N/3) times).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { CLI, TestDaemon, runCommand, type RunResult } from '../test/e2e/harness.js';
import { PodmanRig, podmanMissing } from './podman-rig.js';

const RUNS = Math.max(2, Number(process.env.BENCH_RUNS ?? 7));
const PERF = spawnSync('perf', ['--version'], { stdio: 'ignore' }).status === 0;
const ONE_FILE = ['sh', '-c', 'echo changed > /etc/motd'];
const WRITE_20000 = ['sh', '-c', 'for d in $(seq 200); do mkdir -p /data/d$d; for f in $(seq 100); do echo "file $d/$f of the benchmark" > /data/d$d/f$f; done; done'];
/** Issue 15's figures (one run under load on the same kind of machine). */
const ISSUE_FIGURES = { oneFileMs: 190, podmanOneFileMs: 60, twentyThousandFilesMs: 8100, podmanTwentyThousandFilesMs: 3800 };

const round = (n: number): number => Math.round(n * 10) / 10;
const ratio = (a: number, b: number): number => Math.round((a / b) * 100) / 100;

function median(samples: readonly number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function ok(r: RunResult, what: string): RunResult {
  if (r.code !== 0) throw new Error(`${what} exited with ${r.code}: ${r.stderr.trim()}`);
  return r;
}

async function timed<T>(task: () => Promise<T>): Promise<[number, T]> {
  const start = process.hrtime.bigint();
  const value = await task();
  return [Number(process.hrtime.bigint() - start) / 1e6, value];
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

/**
 * CPU milliseconds a process has spent, with its threads and its waited-for children: the sum of
 * its threads' schedstat (nanoseconds) and its children's clock ticks.
 */
function processCpuMs(pid: number): number {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // a thread that ended meanwhile
    }
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const childTicks = Number(fields[13]) + Number(fields[14]); // cutime, cstime
  return ns / 1e6 + childTicks * 10;
}

/**
 * Waits until the daemon's CPU time stops moving (rmi leaves the removed layer's collection
 * running after it answers), so that none of it counts for the next contender; at most 2 s.
 */
async function settled(pid: number): Promise<void> {
  let last = processCpuMs(pid);
  for (let i = 0; i < 40; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const now = processCpuMs(pid);
    if (now - last < 0.5) return;
    last = now;
  }
}

/** `cmd args` under `perf stat -e task-clock`: its result and the CPU milliseconds of it and its children. */
async function underPerf(dir: string, cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<[number, RunResult]> {
  const file = join(dir, 'perf-stat.csv');
  const r = await runCommand('perf', ['stat', '-x,', '-e', 'task-clock', '-o', file, '--', cmd, ...args], env ? { env } : {});
  const line = readFileSync(file, 'utf8').split('\n').find((l) => l.includes('task-clock'));
  return [Number(line?.split(',')[0] ?? NaN), r];
}

/**
 * How a commit is timed: by the wall clock alone, by CPU time alone (under perf), or both from
 * the one run (for the 20,000 files, where perf's own start is lost in the figure).
 */
type Mode = 'wall' | 'cpu' | 'both';

/** One contender: commits the container once, reports the new image and its times, and removes the image. */
interface Contender {
  readonly name: 'miniDockerCli' | 'miniDockerApi' | 'podman';
  commit(container: string, mode: Mode): Promise<{ wallMs?: number; cpuMs?: number; image: string }>;
  remove(image: string): Promise<unknown>;
}

const d = new TestDaemon('commit-bench');
const podmanWhyNot = podmanMissing();
const podman = podmanWhyNot ? undefined : new PodmanRig(join(d.root, 'podman'));
const out: Record<string, unknown> = {
  bench: 'commit-cli',
  host: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', kernel: release(), node: process.version, loadavg1mAtStart: round(loadavg()[0]!) },
  runs: RUNS,
  perf: PERF,
  issueFigures: ISSUE_FIGURES,
  podman: podmanWhyNot ? { available: false, reason: podmanWhyNot } : { available: true, version: podman!.version },
};

try {
  await d.start();
  const daemonPid = d.pid!;
  const perfDir = join(d.root, 'perf');
  mkdirSync(perfDir, { recursive: true });
  const contenders: Contender[] = [
    {
      name: 'miniDockerCli',
      async commit(container, mode) {
        if (mode === 'wall') {
          const [wallMs, r] = await timed(() => d.cli(['commit', container]));
          return { wallMs, image: ok(r, 'mini-docker commit').stdout.trim() };
        }
        const before = processCpuMs(daemonPid);
        const [wallMs, [cliMs, r]] = await timed(() => underPerf(perfDir, CLI, ['commit', container], d.env));
        const cpuMs = cliMs + (processCpuMs(daemonPid) - before);
        return { ...(mode === 'both' ? { wallMs } : {}), cpuMs, image: ok(r, 'mini-docker commit').stdout.trim() };
      },
      remove: (image) => d.cli(['rmi', image]).then((r) => ok(r, 'mini-docker rmi')),
    },
    {
      name: 'miniDockerApi',
      async commit(container, mode) {
        const before = processCpuMs(daemonPid);
        const [wallMs, image] = await timed(() => apiCommit(d.socketPath, container));
        const cpuMs = processCpuMs(daemonPid) - before;
        return { ...(mode !== 'cpu' ? { wallMs } : {}), ...(mode !== 'wall' ? { cpuMs } : {}), image };
      },
      remove: (image) => d.cli(['rmi', image]).then((r) => ok(r, 'mini-docker rmi')),
    },
  ];
  if (podman) {
    contenders.push({
      name: 'podman',
      async commit(container, mode) {
        const argv = podman.argv(['commit', '--quiet', container]);
        if (mode === 'wall') {
          const [wallMs, r] = await timed(() => runCommand('podman', argv));
          return { wallMs, image: ok(r, 'podman commit').stdout.trim() };
        }
        const [wallMs, [cpuMs, r]] = await timed(() => underPerf(perfDir, 'podman', argv));
        return { ...(mode === 'both' ? { wallMs } : {}), cpuMs, image: ok(r, 'podman commit').stdout.trim() };
      },
      remove: (image) => podman.podman(['rmi', image]).then((r) => ok(r, 'podman rmi')),
    });
  }

  /**
   * Every contender commits `container` `runs` times (plus one warm-up round), in turns, their
   * order alternating; `modes` are the timings of each turn.
   */
  const measure = async (container: string, runs: number, modes: readonly Mode[]): Promise<Record<string, unknown>> => {
    const samples = new Map<string, number[]>();
    const add = (key: string, value: number | undefined): void => {
      if (value !== undefined) samples.set(key, [...(samples.get(key) ?? []), value]);
    };
    for (let i = 0; i <= runs; i++) {
      const order = i % 2 === 0 ? contenders : [...contenders].reverse();
      for (const mode of modes) {
        for (const c of order) {
          const { wallMs, cpuMs, image } = await c.commit(container, mode);
          await c.remove(image);
          await settled(daemonPid);
          if (i === 0) continue; // the warm-up round
          add(`${c.name}:wall`, wallMs);
          add(`${c.name}:cpu`, cpuMs);
        }
      }
    }
    const m = (name: string, kind: 'wall' | 'cpu'): number | undefined => {
      const s = samples.get(`${name}:${kind}`);
      return s ? round(median(s)) : undefined;
    };
    const row: Record<string, unknown> = {
      runs,
      miniDocker: { cliMs: m('miniDockerCli', 'wall'), apiMs: m('miniDockerApi', 'wall'), cliAndDaemonCpuMs: m('miniDockerCli', 'cpu'), daemonCpuMs: m('miniDockerApi', 'cpu') },
    };
    if (podman) {
      row.podman = { ms: m('podman', 'wall'), cpuMs: m('podman', 'cpu') };
      row.ratio = ratio(m('miniDockerCli', 'wall')!, m('podman', 'wall')!);
      if (PERF) row.cpuRatio = ratio(m('miniDockerCli', 'cpu')!, m('podman', 'cpu')!);
    }
    return row;
  };

  // The same two changes in a container of each engine.
  ok(await d.cli(['run', '--name', 'one-file', 'busybox', ...ONE_FILE]), 'mini-docker run one-file');
  ok(await d.cli(['run', '--name', 'many-files', 'busybox', ...WRITE_20000]), 'mini-docker run many-files');
  if (podman) {
    await podman.importBusybox();
    await podman.run('one-file', ONE_FILE);
    await podman.run('many-files', WRITE_20000);
  }
  out.oneFile = await measure('one-file', RUNS, PERF ? ['wall', 'cpu'] : ['wall']);
  out.twentyThousandFiles = await measure('many-files', Math.max(2, Math.floor(RUNS / 3)), PERF ? ['both'] : ['wall']);
  (out.host as Record<string, unknown>).loadavg1mAtEnd = round(loadavg()[0]!);
} catch (err) {
  out.error = (err as Error).message;
  process.exitCode = 1;
} finally {
  await podman?.cleanup().catch((err: unknown) => {
    out.podmanCleanupError = (err as Error).message;
    process.exitCode = 1;
  });
  await d.cleanup();
}
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
