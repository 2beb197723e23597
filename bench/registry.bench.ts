/**
 * Registry benchmark (not a test): a ~100 MB image of 5 layers (20 MB each, half random, half
 * text: it compresses about 2:1, like real layers) in a local registry (Debian's docker-registry on
 * 127.0.0.1). Measures `mini-docker pull` against a real daemon (wall time and the daemon's peak
 * RSS, sampled every 20 ms), `skopeo copy` of the same image to a local OCI layout, `mini-docker
 * push` and `skopeo copy` to a fresh registry each, and `docker pull` when a Docker engine answers.
 * Prints one JSON object. Run: `node dist/bench/registry.bench.js` (about 400 MB of scratch space
 * in TINY_DOCKER_BENCH_SCRATCH or the OS temp dir, removed afterwards).
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REGISTRY_TOOLS_MISSING, TestRegistry, skopeoPush, writeOciLayout } from '../test/fixtures/registry-server.js';
import { buildTar } from '../test/fixtures/tar-builder.js';
import { TestDaemon } from '../test/e2e/harness.js';

const run = promisify(execFile);
const LAYERS = 5;
const LAYER_BYTES = 20 << 20;

/** One layer: a file of half random bytes, half repeated text. */
async function layer(i: number): Promise<Buffer> {
  const text = Buffer.alloc(LAYER_BYTES / 2, `layer ${i}: the quick brown fox jumps over the lazy dog\n`);
  return buildTar([[{ path: `data/layer${i}.bin`, type: 'file', mode: 0o644 }, Buffer.concat([randomBytes(LAYER_BYTES / 2), text])]]);
}

async function rssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

/** Wall time of `work` in ms, with the peak RSS (MB) of `pid` sampled meanwhile. */
async function timed(work: () => Promise<unknown>, pid?: number): Promise<{ ms: number; peakRssMb?: number }> {
  let peak = 0;
  const sampler = pid === undefined ? undefined : setInterval(() => void rssKb(pid).then((kb) => { peak = Math.max(peak, kb); }), 20);
  const start = process.hrtime.bigint();
  try {
    await work();
  } finally {
    if (sampler) clearInterval(sampler);
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return pid === undefined ? { ms: Math.round(ms) } : { ms: Math.round(ms), peakRssMb: Math.round(peak / 102.4) / 10 };
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
  try {
    const source = await TestRegistry.start(join(scratch, 'source'));
    registries.push(source);
    const layers = await Promise.all(Array.from({ length: LAYERS }, (_, i) => layer(i)));
    const layout = join(scratch, 'layout');
    await writeOciLayout(layout, [{ platform: { os: 'linux', architecture: 'amd64' }, layers }], 'v1', false);
    await skopeoPush(layout, 'v1', `${source.host}/bench/image:v1`);
    const name = `${source.host}/bench/image:v1`;
    await daemon.start();

    const pull = await timed(async () => {
      const r = await daemon.cli(['pull', '-q', name], { timeoutMs: 600_000 });
      if (r.code !== 0) throw new Error(`mini-docker pull: ${r.stderr}`);
    }, daemon.pid);
    const idleRss = Math.round((await rssKb(daemon.pid!)) / 102.4) / 10;
    const skopeoPull = await timed(() => run('skopeo', ['--insecure-policy', 'copy', '--src-tls-verify=false', `docker://${name}`, `oci:${join(scratch, 'skopeo-pull')}:v1`], { timeout: 600_000 }));

    const pushTarget = await TestRegistry.start(join(scratch, 'push-ours'));
    registries.push(pushTarget);
    const ours = `${pushTarget.host}/bench/image:v1`;
    await daemon.cli(['tag', name, ours]);
    const push = await timed(async () => {
      const r = await daemon.cli(['push', '-q', ours], { timeoutMs: 600_000 });
      if (r.code !== 0) throw new Error(`mini-docker push: ${r.stderr}`);
    }, daemon.pid);
    const skopeoTarget = await TestRegistry.start(join(scratch, 'push-skopeo'));
    registries.push(skopeoTarget);
    const skopeoPushed = await timed(() => run('skopeo', ['--insecure-policy', 'copy', '--dest-tls-verify=false', `oci:${join(scratch, 'skopeo-pull')}:v1`, `docker://${skopeoTarget.host}/bench/image:v1`], { timeout: 600_000 }));

    const engine = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: '' } });
    let dockerPull: unknown = 'skipped: no Docker engine answers here';
    if (engine.status === 0) {
      dockerPull = await timed(() => run('docker', ['pull', '-q', name], { timeout: 600_000, env: { ...process.env, DOCKER_HOST: '' } })).catch((e: unknown) => `failed: ${String(e)}`);
      spawnSync('docker', ['rmi', name], { env: { ...process.env, DOCKER_HOST: '' } });
    }
    process.stdout.write(`${JSON.stringify({
      image: { layers: LAYERS, megabytes: Math.round((LAYERS * LAYER_BYTES) / (1 << 20)) },
      pull: { miniDocker: pull, skopeoCopy: skopeoPull, dockerPull, daemonIdleRssMbAfter: idleRss },
      push: { miniDocker: push, skopeoCopy: skopeoPushed },
    }, null, 2)}\n`);
  } finally {
    await daemon.cleanup().catch(() => undefined);
    for (const r of registries) await r.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
