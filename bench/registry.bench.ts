/**
 * Registry benchmark (not a test): a ~100 MB image of 5 layers (20 MB each, half random, half
 * text: it compresses about 2:1, like real layers) in a local registry (Debian's docker-registry on
 * 127.0.0.1). Pulls are measured in rounds, interleaved, so that the tools meet the same
 * load on a shared machine: in each round `mini-docker pull` against a real daemon, `skopeo copy`
 * of the same image to a fresh OCI layout (download only: it neither gunzips nor unpacks), `skopeo
 * copy` to a fresh containers-storage store under the bench's folder (download and unpack into
 * overlay layers: the like-for-like reference, what `podman pull` does) and, when Docker's engine
 * is installed (apt's docker.io),
 * `docker pull` against a dockerd the bench starts itself in a temporary root; the order turns
 * from round to round, and each pull is cold (the image and its layers are removed after it).
 * Pushes alternate the same way: `mini-docker push` and `skopeo copy` from the layout, each round
 * to a fresh registry. For each run: wall time, CPU time (the daemon's, or the tool's with its
 * children's) and, for ours, the daemon's peak RSS sampled every 20 ms. Prints one JSON object
 * with medians and the ratios ours/each (the median of the rounds' ratios).
 *
 * Run: `npm run bench -- registry` (TINY_DOCKER_BENCH_ROUNDS, default 5; about 600 MB of scratch
 * space in TINY_DOCKER_BENCH_SCRATCH or the OS temp dir, removed afterwards).
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REGISTRY_TOOLS_MISSING, TestRegistry, skopeoPush, writeOciLayout } from '../test/fixtures/registry-server.js';
import { buildTar } from '../test/fixtures/tar-builder.js';
import { TestDaemon } from '../test/e2e/harness.js';

const run = promisify(execFile);
const LAYERS = 5;
const LAYER_BYTES = 20 << 20;
const ROUNDS = Math.max(1, Number(process.env.TINY_DOCKER_BENCH_ROUNDS ?? 5));
const PUSH_ROUNDS = Math.max(1, Math.ceil(ROUNDS / 2) + 1);
const CLOCK_TICK_MS = 10; // USER_HZ is 100 on Linux

/** One layer: a file of half random bytes, half repeated text. */
async function layer(i: number): Promise<Buffer> {
  const text = Buffer.alloc(LAYER_BYTES / 2, `layer ${i}: the quick brown fox jumps over the lazy dog\n`);
  return buildTar([[{ path: `data/layer${i}.bin`, type: 'file', mode: 0o644 }, Buffer.concat([randomBytes(LAYER_BYTES / 2), text])]]);
}

async function rssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

/** CPU time of a process and of the children it waited for (utime, stime, cutime, cstime), in ms. */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) * CLOCK_TICK_MS;
}

interface Sample {
  readonly ms: number;
  readonly cpuMs: number;
  readonly peakRssMb?: number;
}

/** Times `work`; CPU from `cpuOf` (a long-running daemon's pid) or what `work` reports; RSS of `rssOf`. */
async function timed(work: () => Promise<number | void>, cpuOf?: number, rssOf?: number): Promise<Sample> {
  let peak = 0;
  const sampler = rssOf === undefined ? undefined : setInterval(() => void rssKb(rssOf).then((kb) => { peak = Math.max(peak, kb); }), 20);
  const cpuBefore = cpuOf === undefined ? 0 : await cpuMs(cpuOf);
  const start = process.hrtime.bigint();
  let reported: number | void;
  try {
    reported = await work();
  } finally {
    if (sampler) clearInterval(sampler);
  }
  const ms = Math.round(Number(process.hrtime.bigint() - start) / 1e6);
  const cpu = cpuOf === undefined ? (reported ?? 0) : (await cpuMs(cpuOf)) - cpuBefore;
  return rssOf === undefined ? { ms, cpuMs: cpu } : { ms, cpuMs: cpu, peakRssMb: Math.round(peak / 102.4) / 10 };
}

/** Runs a command under sh and returns the CPU time its children used (sh's `times`), in ms. */
async function withChildCpu(command: readonly string[], env?: NodeJS.ProcessEnv): Promise<number> {
  const quoted = command.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const { stdout } = await run('sh', ['-c', `${quoted} >/dev/null || exit 1; times`], { timeout: 600_000, ...(env ? { env } : {}) });
  // `times`: the shell's user and system time, then its children's: "0m0.150000s 0m0.020000s".
  const children = stdout.trim().split('\n').pop() ?? '';
  return Math.round([...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0) * 1000);
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : Math.round(((sorted[mid - 1]! + sorted[mid]!) / 2) * 10) / 10;
};

function summary(samples: readonly Sample[]): Record<string, number> {
  const peaks = samples.flatMap((s) => (s.peakRssMb === undefined ? [] : [s.peakRssMb]));
  return {
    runs: samples.length, medianMs: median(samples.map((s) => s.ms)), medianCpuMs: median(samples.map((s) => s.cpuMs)),
    ...(peaks.length > 0 ? { maxPeakRssMb: Math.max(...peaks) } : {}),
  };
}

/** ours/theirs per round, median; and of the CPU times. */
function ratio(ours: readonly Sample[], theirs: readonly Sample[]): { wall: number; cpu: number } {
  const r = (pick: (s: Sample) => number): number => Math.round(median(ours.map((s, i) => pick(s) / Math.max(1, pick(theirs[i]!)))) * 100) / 100;
  return { wall: r((s) => s.ms), cpu: r((s) => s.cpuMs) };
}

/**
 * A containers/storage store (Podman's and CRI-O's image store, overlay driver) under a folder of
 * the bench's own, for `skopeo copy docker://… containers-storage:…`: the download AND the unpack
 * into overlay layers, what `podman pull` does. Its own storage.conf (CONTAINERS_STORAGE_CONF) and
 * the store named in the reference keep /etc/containers and /var/lib/containers out of it; what
 * the driver mounted under the folder is unmounted before the folder is removed.
 */
class ScratchContainersStorage {
  private readonly conf: string;

  constructor(private readonly root: string) {
    this.conf = join(root, 'storage.conf');
  }

  /** Why skopeo cannot write to containers-storage here, or false. */
  static unavailable(): string | false {
    const help = spawnSync('skopeo', ['copy', '--help'], { encoding: 'utf8' });
    if (help.error) return 'skopeo is not installed';
    if (!`${help.stdout}${help.stderr}`.includes('containers-storage')) return 'this skopeo was built without the containers-storage transport';
    return false;
  }

  async create(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await writeFile(this.conf, `[storage]\ndriver = "overlay"\ngraphroot = "${join(this.root, 'storage')}"\nrunroot = "${join(this.root, 'run')}"\n`);
  }

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, CONTAINERS_STORAGE_CONF: this.conf, TMPDIR: this.root };
  }

  reference(image: string): string {
    return `containers-storage:[overlay@${join(this.root, 'storage')}+${join(this.root, 'run')}]${image}`;
  }

  /**
   * Unmounts what skopeo left mounted under the root (read from /proc/self/mountinfo, deepest
   * first) and deletes the folder, even when reading the mounts or an unmount failed; then throws
   * the first of those failures, if any.
   */
  async remove(): Promise<void> {
    const failures: unknown[] = [];
    try {
      const targets = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n')
        .map((line) => line.split(' ')[4])
        .filter((field): field is string => field !== undefined)
        .map((field) => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))));
      for (const target of targets.reverse()) {
        if (target === this.root || target.startsWith(`${this.root}/`)) await run('umount', ['-l', target]).catch((error: unknown) => failures.push(error));
      }
    } catch (error) {
      failures.push(error);
    }
    await rm(this.root, { recursive: true, force: true });
    if (failures.length > 0) throw new Error(`cleaning ${this.root}: ${failures.map((f) => (f instanceof Error ? f.message : String(f))).join('; ')}`);
  }
}

/** Docker's engine (apt's docker.io), started in a temporary root and stopped by its pid. */
class ScratchDockerd {
  private child: ChildProcess | undefined;
  readonly socket: string;

  constructor(private readonly root: string) {
    this.socket = join(root, 'docker.sock');
  }

  static unavailable(): string | false {
    if (spawnSync('dockerd', ['--version'], { stdio: 'ignore' }).error) return 'dockerd is not installed (apt-get install docker.io)';
    if (spawnSync('docker', ['--version'], { stdio: 'ignore' }).error) return 'no docker client';
    return false;
  }

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, DOCKER_HOST: `unix://${this.socket}`, DOCKER_CONFIG: join(this.root, 'client') };
  }

  get pid(): number {
    if (this.child?.pid === undefined) throw new Error('dockerd is not running');
    return this.child.pid;
  }

  async start(): Promise<void> {
    await mkdir(join(this.root, 'client'), { recursive: true });
    const config = join(this.root, 'daemon.json');
    await writeFile(config, '{}\n');
    this.child = spawn('dockerd', [
      '--config-file', config, '--iptables=false', '--bridge=none', '--data-root', join(this.root, 'data'),
      '--exec-root', join(this.root, 'exec'), '--pidfile', join(this.root, 'docker.pid'), '-H', `unix://${this.socket}`,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    this.child.stderr?.on('data', (chunk: Buffer) => { log = (log + chunk.toString()).slice(-4000); });
    for (let i = 0; i < 300; i++) {
      if (this.child.exitCode !== null) throw new Error(`dockerd exited with ${this.child.exitCode}: ${log}`);
      if (existsSync(this.socket) && spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { env: this.env, stdio: 'ignore' }).status === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`dockerd did not answer within 30 s: ${log}`);
  }

  docker(args: readonly string[]): Promise<{ stdout: string }> {
    return run('docker', [...args], { env: this.env, timeout: 600_000 });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(this.root, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (REGISTRY_TOOLS_MISSING) {
    process.stdout.write(`${JSON.stringify({ skipped: REGISTRY_TOOLS_MISSING })}\n`);
    return;
  }
  const base = process.env.TINY_DOCKER_BENCH_SCRATCH ?? tmpdir();
  await mkdir(base, { recursive: true });
  const scratch = await mkdtemp(join(base, 'tiny-docker-bench-registry-'));
  process.env.TINY_DOCKER_TEST_SCRATCH = scratch;
  const registries: TestRegistry[] = [];
  const daemon = new TestDaemon('bench-registry');
  const dockerMissing = ScratchDockerd.unavailable();
  const storageMissing = ScratchContainersStorage.unavailable();
  const dockerd = dockerMissing ? undefined : new ScratchDockerd(join(scratch, 'dockerd'));
  try {
    const source = await TestRegistry.start(join(scratch, 'source'));
    registries.push(source);
    const layers = await Promise.all(Array.from({ length: LAYERS }, (_, i) => layer(i)));
    const layout = join(scratch, 'layout');
    await writeOciLayout(layout, [{ platform: { os: 'linux', architecture: 'amd64' }, layers }], 'v1', false);
    const name = `${source.host}/bench/image:v1`;
    await skopeoPush(layout, 'v1', name);
    await daemon.start();
    const pid = daemon.pid!;
    let dockerError: string | undefined;
    await dockerd?.start().catch((error: unknown) => { dockerError = `dockerd did not start: ${String(error).split('\n')[0]}`; });

    const tools: Record<string, () => Promise<Sample>> = {
      miniDocker: async () => {
        const sample = await timed(async () => {
          const r = await daemon.cli(['pull', '-q', name], { timeoutMs: 600_000 });
          if (r.code !== 0) throw new Error(`mini-docker pull: ${r.stderr}`);
        }, pid, pid);
        const rmi = await daemon.cli(['rmi', name]); // its layers go with it (garbage collection): the next pull is cold
        if (rmi.code !== 0) throw new Error(`mini-docker rmi: ${rmi.stderr}`);
        return sample;
      },
      skopeoCopy: async () => {
        const dir = join(scratch, `skopeo-pull-${randomBytes(4).toString('hex')}`);
        try {
          return await timed(() => withChildCpu(['skopeo', '--insecure-policy', 'copy', '--src-tls-verify=false', `docker://${name}`, `oci:${dir}:v1`]));
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
      ...(storageMissing ? {} : {
        skopeoToStorage: async () => {
          const store = new ScratchContainersStorage(join(scratch, `containers-storage-${randomBytes(4).toString('hex')}`));
          let sample: Sample;
          try {
            await store.create();
            sample = await timed(() => withChildCpu(['skopeo', '--insecure-policy', 'copy', '--src-tls-verify=false', `docker://${name}`, store.reference('bench/image:v1')], store.env));
          } catch (error) {
            // The pull's own error is the one to see; a failed clean-up after it is only reported.
            await store.remove().catch((cleanup: unknown) => console.error(`registry bench: ${cleanup instanceof Error ? cleanup.message : String(cleanup)}`));
            throw error;
          }
          await store.remove();
          return sample;
        },
      }),
      ...(dockerd && dockerError === undefined ? {
        dockerPull: async () => {
          const sample = await timed(async () => { await dockerd.docker(['pull', '-q', name]); }, dockerd.pid);
          await dockerd.docker(['rmi', name]);
          return sample;
        },
      } : {}),
    };
    const names = Object.keys(tools);
    const pulls: Record<string, Sample[]> = Object.fromEntries(names.map((n) => [n, []]));
    const idleBefore = Math.round((await rssKb(pid)) / 102.4) / 10;
    for (let round = 0; round < ROUNDS; round++) {
      // The order turns each round: no tool always runs first (or right after another's disk writes).
      for (let k = 0; k < names.length; k++) {
        const tool = names[(round + k) % names.length]!;
        pulls[tool]!.push(await tools[tool]!());
      }
    }
    const idleAfter = Math.round((await rssKb(pid)) / 102.4) / 10;

    // Pushes: the image pulled once more, then each round to a fresh registry (nothing to skip or mount).
    const pulled = await daemon.cli(['pull', '-q', name], { timeoutMs: 600_000 });
    if (pulled.code !== 0) throw new Error(`mini-docker pull: ${pulled.stderr}`);
    const pushes: { miniDocker: Sample[]; skopeoCopy: Sample[] } = { miniDocker: [], skopeoCopy: [] };
    for (let round = 0; round < PUSH_ROUNDS; round++) {
      const target = await TestRegistry.start(join(scratch, `push-${round}`));
      registries.push(target);
      const ours = async (): Promise<void> => {
        const ref = `${target.host}/bench/ours:v1`;
        await daemon.cli(['tag', name, ref]);
        pushes.miniDocker.push(await timed(async () => {
          const r = await daemon.cli(['push', '-q', ref], { timeoutMs: 600_000 });
          if (r.code !== 0) throw new Error(`mini-docker push: ${r.stderr}`);
        }, pid, pid));
      };
      const theirs = async (): Promise<void> => {
        pushes.skopeoCopy.push(await timed(() => withChildCpu(['skopeo', '--insecure-policy', 'copy', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${target.host}/bench/skopeo:v1`])));
      };
      if (round % 2 === 0) {
        await ours();
        await theirs();
      } else {
        await theirs();
        await ours();
      }
      await target.stop();
      registries.splice(registries.indexOf(target), 1);
    }

    const load = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
    process.stdout.write(`${JSON.stringify({
      image: { layers: LAYERS, megabytes: Math.round((LAYERS * LAYER_BYTES) / (1 << 20)), rounds: ROUNDS, loadAverage: load },
      pull: {
        miniDocker: summary(pulls.miniDocker!),
        skopeoCopy: { transport: 'oci: (download only: neither gunzips nor unpacks)', ...summary(pulls.skopeoCopy!) },
        skopeoToStorage: pulls.skopeoToStorage
          ? { available: true, transport: 'containers-storage: (download and unpack into overlay layers, as podman pull)', ...summary(pulls.skopeoToStorage) }
          : { available: false, reason: storageMissing },
        dockerPull: pulls.dockerPull ? { available: true, ...summary(pulls.dockerPull) } : { available: false, reason: dockerMissing || dockerError },
        ratioToSkopeo: ratio(pulls.miniDocker!, pulls.skopeoCopy!),
        ...(pulls.skopeoToStorage ? { ratioToSkopeoStorage: ratio(pulls.miniDocker!, pulls.skopeoToStorage) } : {}),
        ...(pulls.dockerPull ? { ratioToDocker: ratio(pulls.miniDocker!, pulls.dockerPull) } : {}),
        daemonIdleRssMb: { before: idleBefore, after: idleAfter },
        rounds: pulls,
      },
      push: {
        miniDocker: summary(pushes.miniDocker), skopeoCopy: summary(pushes.skopeoCopy),
        ratioToSkopeo: ratio(pushes.miniDocker, pushes.skopeoCopy),
        rounds: pushes,
      },
    }, null, 2)}\n`);
  } finally {
    await daemon.cleanup().catch(() => undefined);
    await dockerd?.stop().catch(() => undefined);
    for (const r of registries) await r.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
