// Unit: the real docker CLI (28.2.2, no engine needed) against the API server and the real engine on
// in-memory drivers.
// Catches shape mistakes the CLI would trip on. Skipped when there is no docker binary.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ContainerEngine } from '../../core/engine/container-engine.js';
import { buildTar } from '../fixtures/tar-builder.js';
import { serveSeededRig, type Harness } from './api-harness.js';
import type { EngineRig, Seeded } from './engine-rig.js';

const dockerBinary = spawnSync('docker', ['--version'], { stdio: 'ignore' }).status === 0 ? 'docker' : undefined;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe('docker CLI against the API server', { skip: dockerBinary === undefined ? 'no docker CLI on this machine' : false }, () => {
  let rig: EngineRig & { readonly ids: Seeded };
  let h: Harness<ContainerEngine>;
  let env: NodeJS.ProcessEnv;

  const docker = (args: string[], input?: string): Promise<Run> => new Promise((resolve, reject) => {
    const child = spawn(dockerBinary!, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`docker ${args.join(' ')} hung; stdout ${stdout} stderr ${stderr}`));
    }, 15_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });

  serveSeededRig(async (s) => {
    ({ rig, h } = s);
    const config = join(h.dir, 'docker-config');
    await mkdir(config);
    env = { PATH: process.env.PATH, HOME: h.dir, DOCKER_HOST: `unix://${h.socketPath}`, DOCKER_CONFIG: config };
  });

  it('docker version shows our server block at API 1.50', async () => {
    const r = await docker(['version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Server: mini-docker/);
    assert.match(r.stdout, /API version:\s+1\.50 \(minimum version 1\.24\)/);
    assert.match(r.stdout, /Version:\s+0\.1\.0-test/);
  });

  it('docker ps -a lists names and Docker status texts', async () => {
    const r = await docker(['ps', '-a', '--format', '{{.Names}}|{{.Status}}|{{.Command}}']);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.trim().split('\n');
    assert.deepEqual(rows.map((l) => l.split('|')[0]), ['term', 'web', 'old']);
    assert.match(rows[1]!, /^web\|Up (Less than a second|\d+ seconds?)\|"sleep 1000"$/);
    assert.match(rows[2]!, /^old\|Exited \(137\) (Less than a second|\d+ seconds?) ago\|/);
  });

  it('docker inspect --format reads State and Config', async () => {
    const r = await docker(['inspect', 'web', '--format', '{{.State.Running}} {{.Config.Tty}} {{.HostConfig.Memory}} {{.Name}}']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'true false 33554432 /web\n');
  });

  it('docker rm nosuch: exit 1 with the daemon message', async () => {
    const r = await docker(['rm', 'nosuch']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), 'Error response from daemon: No such container: nosuch');
  });

  it('docker inspect of an unknown object probes everything and prints []', async () => {
    const r = await docker(['inspect', 'nosuchthing']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout.trim(), '[]');
    assert.equal(r.stderr.trim(), 'Error: No such object: nosuchthing');
  });

  it('docker logs demuxes stdout and stderr', async () => {
    const r = await docker(['logs', 'web']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'line 1\nline 2\nline 3\n');
    assert.equal(r.stderr, 'oops 1\n');
  });

  it('docker run: attach (101), wait before start, framed output, exit codes', async () => {
    const hi = await docker(['run', 'busybox', 'echo', 'hi']);
    assert.equal(hi.code, 0, hi.stderr);
    assert.equal(hi.stdout, 'hi\n');
    assert.equal(hi.stderr, '');
    assert.equal((await docker(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3'])).code, 3);
    const missing = await docker(['run', '--rm', 'busybox', 'nosuch']);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /executable file not found/);
    const detached = await docker(['run', '-d', '--name', 'bg', 'busybox', 'sleep', '100']);
    assert.equal(detached.code, 0, detached.stderr);
    assert.match(detached.stdout.trim(), /^[0-9a-f]{64}$/);
  });

  it('docker run of an image we do not have tries a pull: without a distribution driver it says so, exit 125', async () => {
    const r = await docker(['run', 'alpine', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /Unable to find image 'alpine:latest' locally/);
    assert.match(r.stderr, /pulling images needs a distribution driver, and none is loaded/);
  });

  it('docker exec: exit code from exec json; piped stdin with half-close', async () => {
    assert.equal((await docker(['exec', 'web', 'sh', '-c', 'exit 5'])).code, 5);
    const cat = await docker(['exec', '-i', 'web', 'cat'], 'data\n');
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout, 'data\n');
    assert.equal((await docker(['exec', '-d', 'web', 'touch', '/x'])).code, 0);
  });

  it('docker events with until in the past ends, in Docker format', async () => {
    const until = String(Math.floor(Date.now() / 1000));
    const r = await docker(['events', '--since', '1700000000', '--until', until, '--filter', 'event=oom']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.trim(), new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z container oom ${rig.ids.old} \\(image=busybox, name=old\\)$`));
  });

  it('docker import, images, commit, stats --no-stream', async () => {
    const tar = join(h.dir, 'rootfs.tar');
    await writeFile(tar, await buildTar([[{ path: 'bin', type: 'directory' }], [{ path: 'bin/tool', type: 'file', mode: 0o755 }, 'tool']]));
    const imp = await docker(['import', tar, 'imp:v1']);
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
    const images = await docker(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    assert.deepEqual(images.stdout.trim().split('\n').sort(), ['busybox:latest', 'imp:v1']);
    const commit = await docker(['commit', 'web', 'snap:v1']);
    assert.equal(commit.code, 0, commit.stderr);
    assert.match(commit.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
    const [cgroup] = rig.engine.context.limiter()!.paths(rig.ids.web);
    await rig.cgroups.set(join(cgroup!, 'memory.current'), '1048576\n');
    await rig.cgroups.set(join(cgroup!, 'pids.current'), '1\n');
    const stats = await docker(['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}} {{.PIDs}}', 'web']);
    assert.equal(stats.code, 0, stats.stderr);
    assert.equal(stats.stdout.trim(), 'web 1MiB / 32MiB 1');
  });
});
