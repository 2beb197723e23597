// Container lifecycle figures against a real mini-dockerd in a temporary root: `run -d` end to end
// (CLI to running) and the daemon's own part (create + start over the API, no CLI), `exec true`,
// `ps` with 50 containers, `stop`, the CLI's start against `node -e 0`, shim and daemon memory;
// docker and podman side by side where their engines answer. Prints one JSON object.
// Run: `npm run build && node dist/bench/lifecycle.bench.js` (BENCH_RUNS=N, default 15; BENCH_SECCOMP_ROUNDS=N,
// default 40, for the seccomp comparison).
// BENCH_BASELINE=<another checkout, built>[,<another>...]: also the daemon's part of run -d and stop
// against those builds, interleaved in rotating rounds (bench/interleaved-baseline.ts).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, TestDaemon, runCommand, type RunResult } from '../test/e2e/harness.js';
import { interleavedBaselines } from './interleaved-baseline.js';

const RUNS = Math.max(3, Number(process.env.BENCH_RUNS ?? 15));
/** Rounds of the seccomp comparison (each: default, unconfined, unconfined again): its difference is small against the spread of a start. */
const SECCOMP_ROUNDS = Math.max(RUNS, Number(process.env.BENCH_SECCOMP_ROUNDS ?? 40));
/** The shim's timestamps of each start's steps (MINI_DOCKER_SHIM_TIMING, docs/shim.md): how long loading the filter takes in the process. */
const SHIM_TIMING = join(tmpdir(), `lifecycle-bench-shim-timing-${process.pid}.log`);
const PS_CONTAINERS = 50;
/** Figures from the issue, measured on the same kind of machine. */
const REFERENCE = { dockerRunDetachedMs: 580, podmanRunDetachedMs: [210, 240], crunRunMs: 21, nodeE0Ms: 110 };
const SLEEPER = ['sleep', '100000'];
/** PID 1 that ends on SIGTERM at once (a plain `sleep` as PID 1 ignores it, and stop waits out the grace period). */
const STOPPABLE = ['sh', '-c', 'trap "exit 0" TERM; sleep 100000 & wait'];

interface Stats { readonly medianMs: number; readonly p90Ms: number; readonly minMs: number; readonly maxMs: number; readonly n: number }

const round = (n: number): number => Math.round(n * 10) / 10;

function stats(samples: readonly number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  const mid = s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { medianMs: round(mid), p90Ms: round(at(0.9)), minMs: round(s[0]!), maxMs: round(s[s.length - 1]!), n: s.length };
}

async function timed<T>(task: () => Promise<T>): Promise<[number, T]> {
  const start = process.hrtime.bigint();
  const value = await task();
  return [Number(process.hrtime.bigint() - start) / 1e6, value];
}

/** RUNS timed runs after one untimed warm-up; `setup` and `teardown` (given the task's result) are not timed. */
async function sample<S, R>(setup: () => Promise<S>, task: (s: S) => Promise<R>, teardown: (s: S, r: R) => Promise<unknown> = async () => undefined): Promise<Stats> {
  const times: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const s = await setup();
    const [ms, r] = await timed(() => task(s));
    await teardown(s, r);
    if (i > 0) times.push(ms);
  }
  return stats(times);
}

/** Durations between each `from` line of the shim's timing file and the next `to` line (starts are sequential). */
function shimStepMs(from: string, to: string): number[] {
  if (!existsSync(SHIM_TIMING)) return [];
  const out: number[] = [];
  let began: bigint | undefined;
  for (const line of readFileSync(SHIM_TIMING, 'utf8').split('\n')) {
    const [, step, ns] = line.split(' ');
    if (step === from && ns) began = BigInt(ns);
    else if (step === to && ns && began !== undefined) {
      out.push(Number(BigInt(ns) - began) / 1e6);
      began = undefined;
    }
  }
  return out;
}

function ok(r: RunResult, what: string): RunResult {
  if (r.code !== 0) throw new Error(`${what} exited with ${r.code}: ${r.stderr.trim()}`);
  return r;
}

/** One HTTP request over the daemon's unix socket (a new connection, as the CLI makes); the body read to the end. */
function api(socketPath: string, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request({ socketPath, method, path, agent: false, headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

async function apiJson<T>(socketPath: string, method: string, path: string, body?: unknown): Promise<T> {
  const r = await api(socketPath, method, path, body);
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
  return (r.text === '' ? undefined : JSON.parse(r.text)) as T;
}

function rssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

/** docker or podman, when its engine answers and has a busybox image (a benchmark pulls nothing). */
async function otherEngine(cmd: 'docker' | 'podman'): Promise<{ available: true } | { available: false; reason: string }> {
  const env = { ...process.env };
  delete env.DOCKER_HOST;
  let version: RunResult;
  try {
    version = await runCommand(cmd, ['version', '--format', '{{.Server.Version}}'], { env, timeoutMs: 10_000 });
  } catch {
    return { available: false, reason: `${cmd} is not installed` };
  }
  if (version.code !== 0 || version.stdout.trim() === '') {
    return { available: false, reason: `the ${cmd} client is installed but no engine answers: ${(version.stderr.trim().split('\n').pop() ?? '').slice(0, 200)}` };
  }
  const image = await runCommand(cmd, ['image', 'inspect', 'busybox'], { env, timeoutMs: 10_000 });
  if (image.code !== 0) return { available: false, reason: `${cmd} ${version.stdout.trim()} has no busybox image (the benchmark pulls nothing: ${cmd} pull busybox)` };
  return { available: true };
}

/** The CLI figures of an engine: `run -d`, `exec true`, `ps` with PS_CONTAINERS containers, `stop`. */
async function cliFigures(run: (args: readonly string[]) => Promise<RunResult>): Promise<Record<string, Stats>> {
  const rm = async (id: string): Promise<void> => { ok(await run(['rm', '-f', id]), 'rm -f'); };
  const runDetached = await sample(async () => undefined, async () => ok(await run(['run', '-d', 'busybox', ...SLEEPER]), 'run -d').stdout.trim(), async (_, id) => rm(id));
  const target = ok(await run(['run', '-d', 'busybox', ...SLEEPER]), 'run -d').stdout.trim();
  const execTrue = await sample(async () => undefined, async () => ok(await run(['exec', target, 'true']), 'exec true'));
  const stop = await sample(
    async () => ok(await run(['run', '-d', 'busybox', ...STOPPABLE]), 'run -d').stdout.trim(),
    async (id) => ok(await run(['stop', id]), 'stop'),
    rm,
  );
  const fill: string[] = [];
  for (let i = 1; i < PS_CONTAINERS; i++) fill.push(ok(await run(['run', '-d', 'busybox', ...SLEEPER]), 'run -d').stdout.trim());
  const ps = await sample(async () => undefined, async () => ok(await run(['ps']), 'ps'));
  for (const id of [target, ...fill]) await rm(id);
  return { runDetachedMs: runDetached, execTrueMs: execTrue, [`ps${PS_CONTAINERS}Ms`]: ps, stopMs: stop };
}

const d = new TestDaemon('lifecycle-bench', { MINI_DOCKER_SHIM_TIMING: SHIM_TIMING });
const out: Record<string, unknown> = {
  bench: 'lifecycle',
  runs: RUNS,
  host: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', kernel: release(), node: process.version, loadavg1mAtStart: round(loadavg()[0]!) },
  reference: REFERENCE,
};
try {
  await d.start();
  const socket = d.socketPath;
  const daemonPid = d.pid!;
  const mini = (args: readonly string[]): Promise<RunResult> => d.cli(args);

  // The daemon just after its start (the default image made) and idle: nothing running, nothing
  // asked for 15 s (V8 gives back the young generation that start-up grew after a few idle seconds).
  await new Promise((r) => setTimeout(r, 2000));
  const startedDaemonRssKb = rssKb(daemonPid);
  await new Promise((r) => setTimeout(r, 13_000));
  const idleDaemonRssKb = rssKb(daemonPid);

  // The CLI's own start against node's, interleaved so both see the same machine. node -e 0 runs in
  // this environment as it is (with NODE_EXTRA_CA_CERTS when set, which node reads at start) and
  // without that variable: bin/mini-docker starts node without it (the CLI makes no TLS connection).
  const version: number[] = [];
  const nodeE0: number[] = [];
  const nodeE0NoCa: number[] = [];
  const noCaEnv = { ...process.env };
  delete noCaEnv.NODE_EXTRA_CA_CERTS;
  for (let i = 0; i <= RUNS; i++) {
    const [v] = await timed(async () => ok(await runCommand(CLI, ['--version'], { env: d.env }), 'mini-docker --version'));
    const [n] = await timed(async () => ok(await runCommand(process.execPath, ['-e', '0']), 'node -e 0'));
    const [m] = await timed(async () => ok(await runCommand(process.execPath, ['-e', '0'], { env: noCaEnv }), 'node -e 0 without NODE_EXTRA_CA_CERTS'));
    if (i > 0) {
      version.push(v);
      nodeE0.push(n);
      nodeE0NoCa.push(m);
    }
  }

  // The daemon's part of run -d: create + start over the API until the process runs (start returns
  // once the shim reported the execve), without the CLI.
  const create: number[] = [];
  const start: number[] = [];
  const both: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const [c, made] = await timed(() => apiJson<{ Id: string }>(socket, 'POST', '/containers/create', { Image: 'busybox', Cmd: SLEEPER }));
    const [s] = await timed(() => apiJson(socket, 'POST', `/containers/${made.Id}/start`));
    await apiJson(socket, 'DELETE', `/containers/${made.Id}?force=true`);
    if (i > 0) {
      create.push(c);
      start.push(s);
      both.push(c + s);
    }
  }

  // Against another build, pair by pair at the same moment (BENCH_BASELINE).
  const baselineRoots = (process.env.BENCH_BASELINE ?? '').split(',').filter((r) => r !== '');
  const rounds = baselineRoots.length > 0 ? await interleavedBaselines(baselineRoots, RUNS, d) : null;

  // The cost of the default seccomp filter: the same create + start with it, unconfined, and unconfined
  // again (the same work twice: how far two medians of identical runs fall apart on this machine at
  // this moment, which a difference must exceed to mean anything), in rotating order, so that each
  // takes each place in a round equally often (the first start after an idle moment pays the cgroup
  // join's RCU grace period, above).
  const variants = [
    { securityOpt: [] as string[], samples: [] as number[] },
    { securityOpt: ['seccomp=unconfined'], samples: [] as number[] },
    { securityOpt: ['seccomp=unconfined', 'no-new-privileges=false'], samples: [] as number[] },
  ] as const;
  for (let i = 0; i <= SECCOMP_ROUNDS; i++) {
    for (let k = 0; k < variants.length; k++) {
      const v = variants[(i + k) % variants.length]!;
      const [t, made] = await timed(async () => {
        const m = await apiJson<{ Id: string }>(socket, 'POST', '/containers/create', { Image: 'busybox', Cmd: SLEEPER, HostConfig: { SecurityOpt: v.securityOpt } });
        await apiJson(socket, 'POST', `/containers/${m.Id}/start`);
        return m;
      });
      await apiJson(socket, 'DELETE', `/containers/${made.Id}?force=true`);
      if (i > 0) v.samples.push(t);
    }
  }
  const [withFilter, unconfined, unconfinedAgain] = variants.map((v) => stats(v.samples)) as [Stats, Stats, Stats];
  const filterLoad = stats(shimStepMs('seccomp-load', 'seccomp-loaded'));

  const figures = await cliFigures(mini);

  // exec true through the API only: create, then start without an upgrade (the output streams back until the exit).
  const target = (await apiJson<{ Id: string }>(socket, 'POST', '/containers/create', { Image: 'busybox', Cmd: SLEEPER })).Id;
  await apiJson(socket, 'POST', `/containers/${target}/start`);
  const apiExec = await sample(async () => undefined, async () => {
    const x = await apiJson<{ Id: string }>(socket, 'POST', `/containers/${target}/exec`, { Cmd: ['true'], AttachStdout: true, AttachStderr: true });
    const r = await api(socket, 'POST', `/exec/${x.Id}/start`, { Detach: false, Tty: false });
    if (r.status !== 200) throw new Error(`exec start: ${r.status} ${r.text}`);
  });

  // 50 running containers: ps through the API, shim memory, the daemon's memory with them.
  const ids = [target];
  for (let i = 1; i < PS_CONTAINERS; i++) {
    const made = await apiJson<{ Id: string }>(socket, 'POST', '/containers/create', { Image: 'busybox', Cmd: SLEEPER });
    await apiJson(socket, 'POST', `/containers/${made.Id}/start`);
    ids.push(made.Id);
  }
  const apiPs = await sample(async () => undefined, async () => apiJson<unknown[]>(socket, 'GET', '/containers/json'));
  const shimRss: number[] = [];
  for (const id of ids) {
    const info = await apiJson<{ TinyDocker: { ShimPid: number } }>(socket, 'GET', `/containers/${id}/json`);
    shimRss.push(rssKb(info.TinyDocker.ShimPid));
  }
  const daemonRssWith50Kb = rssKb(daemonPid);
  for (const id of ids) await apiJson(socket, 'DELETE', `/containers/${id}?force=true`);

  const shim = stats(shimRss);
  const cliVersion = stats(version);
  const nodeStart = stats(nodeE0);
  const daemonRun = stats(both);
  const execTrue = figures.execTrueMs!;
  const runDetached = figures.runDetachedMs!;
  const others: Record<string, unknown> = {};
  for (const engine of ['docker', 'podman'] as const) {
    const found = await otherEngine(engine);
    if (!found.available) {
      others[engine] = { available: false, reason: found.reason };
      continue;
    }
    const env = { ...process.env };
    delete env.DOCKER_HOST;
    others[engine] = { available: true, ...(await cliFigures((args) => runCommand(engine, args, { env }))) };
  }
  const podman = others.podman as { available: boolean; runDetachedMs?: Stats };
  const podmanRunMs = podman.available && podman.runDetachedMs ? podman.runDetachedMs.medianMs : REFERENCE.podmanRunDetachedMs[1]!;

  Object.assign(out, {
    cli: { versionMs: cliVersion, nodeE0Ms: nodeStart, nodeE0WithoutExtraCaCertsMs: stats(nodeE0NoCa), extraCaCertsSet: process.env.NODE_EXTRA_CA_CERTS !== undefined, ratioOfMedians: round(cliVersion.medianMs / nodeStart.medianMs * 100) / 100 },
    runDetached: { cliMs: runDetached, daemonCreatePlusStartMs: daemonRun, daemonCreateMs: stats(create), daemonStartMs: stats(start) },
    seccomp: {
      rounds: SECCOMP_ROUNDS, defaultProfileMs: withFilter, unconfinedMs: unconfined, unconfinedAgainMs: unconfinedAgain,
      extraMs: round(withFilter.medianMs - unconfined.medianMs), sameWorkTwiceMs: round(Math.abs(unconfinedAgain.medianMs - unconfined.medianMs)),
      filterLoadInShimMs: filterLoad,
    },
    execTrue: { cliMs: execTrue, apiMs: apiExec },
    [`ps${PS_CONTAINERS}`]: { cliMs: figures[`ps${PS_CONTAINERS}Ms`], apiMs: apiPs },
    stop: { cliMs: figures.stopMs, note: 'PID 1 traps SIGTERM and exits (a PID 1 that ignores it makes stop wait the 10 s grace period, as in Docker)' },
    memory: { shimRssKb: { median: shim.medianMs, max: shim.maxMs, containers: shimRss.length }, daemonRssJustStartedKb: startedDaemonRssKb, idleDaemonRssKb, daemonRssWith50RunningKb: daemonRssWith50Kb },
    others,
    targets: [
      { name: 'daemon part of run -d (create + start over the API), median', target: '< 40 ms', value: daemonRun.medianMs, met: daemonRun.medianMs < 40 },
      { name: 'mini-docker run -d end to end, median', target: `<= podman (${podman.available ? 'measured' : 'reference'} ${podmanRunMs} ms)`, value: runDetached.medianMs, met: runDetached.medianMs <= podmanRunMs },
      { name: 'mini-docker exec true end to end, median', target: '< 150 ms', value: execTrue.medianMs, met: execTrue.medianMs < 150 },
      { name: 'mini-docker --version / node -e 0, medians', target: '<= 1.5', value: round(cliVersion.medianMs / nodeStart.medianMs * 100) / 100, met: cliVersion.medianMs <= 1.5 * nodeStart.medianMs },
      { name: 'run -d with the default seccomp profile against unconfined (daemon part, medians)', target: '<= +2 ms', value: round(withFilter.medianMs - unconfined.medianMs), met: withFilter.medianMs - unconfined.medianMs <= 2 },
      { name: 'shim RSS per running container, max', target: '< 2000 kB', value: shim.maxMs, met: shim.maxMs < 2000 },
      { name: 'idle daemon RSS (15 s after start)', target: '< 100000 kB', value: idleDaemonRssKb, met: idleDaemonRssKb < 100000 },
    ],
    ...(rounds ? {
      baseline: {
        rounds: RUNS,
        runDetachedDaemonMs: { ours: stats(rounds.ours.runDetachedMs), ...Object.fromEntries(baselineRoots.map((root, k) => [root, stats(rounds.baselines[k]!.runDetachedMs)])) },
        stopDaemonMs: { ours: stats(rounds.ours.stopMs), ...Object.fromEntries(baselineRoots.map((root, k) => [root, stats(rounds.baselines[k]!.stopMs)])) },
      },
    } : {}),
    loadavg1mAtEnd: round(loadavg()[0]!),
  });
} finally {
  await d.cleanup();
  rmSync(SHIM_TIMING, { force: true });
}
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
