// Unit: bin/mini-docker against the real API server with the real engine on in-memory drivers
// behind it (no root, no kernel): the docker-compatible request sequences (recorded as the calls
// the server made to the engine), stream framing, exit codes and outputs.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { runCommand, type RunResult as Result } from '../e2e/harness.js';
import { Readable } from 'node:stream';
import { readTar } from '../../core/archive/index.js';
import type { ContainerEngine } from '../../core/engine/container-engine.js';
import { serveSeededRig, type EngineCall, type Harness } from './api-harness.js';
import { buildTar } from '../fixtures/tar-builder.js';
import type { EngineRig, Seeded } from './engine-rig.js';

const bin = fileURLToPath(new URL('../../../bin/mini-docker', import.meta.url));

/** The names of the calls, with the first argument: `startContainer hello`. */
const named = (calls: readonly EngineCall[]): string[] => calls.map((c) => `${c.method} ${typeof c.args[0] === 'string' ? c.args[0] : ''}`.trim());

/** The entries of a tar. */
async function tarPaths(data: Buffer): Promise<string[]> {
  const paths: string[] = [];
  for await (const { header, body } of readTar(Readable.from([data]))) {
    for await (const chunk of body) void chunk;
    paths.push(header.path);
  }
  return paths;
}

describe('mini-docker against the API server (the real engine on in-memory drivers)', () => {
  let rig: EngineRig & { readonly ids: Seeded };
  let calls: EngineCall[];
  let h: Harness<ContainerEngine>;
  let env: NodeJS.ProcessEnv;

  const cli = (args: string[], input?: string): Promise<Result> =>
    runCommand(bin, [...args], { env, timeoutMs: 15_000, ...(input !== undefined ? { input } : {}) });

  serveSeededRig((s) => {
    ({ rig, h, calls } = s);
    env = { PATH: process.env.PATH, HOME: h.dir, XDG_DATA_HOME: join(h.dir, 'xdg'), MINI_DOCKER_HOST: `unix://${h.socketPath}`, MINI_DOCKER_NO_AUTOSTART: '1' };
  }, { record: true });

  it('version prints the server block', async () => {
    const r = await cli(['version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Client:\n Version: +\d/);
    assert.match(r.stdout, /Server: mini-docker\n Engine:\n {2}Version: +0\.1\.0-test\n {2}API version: +1\.50 \(minimum version 1\.24\)/);
    const f = await cli(['version', '-f', '{{.Server.ApiVersion}}']);
    assert.equal(f.stdout, '1.50\n');
  });

  it('info shows counts and plugin statuses', async () => {
    const r = await cli(['info']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Containers: 3\n {2}Running: 2/);
    assert.match(r.stdout, /isolator\.v1\.scripted: ok/);
    assert.match(r.stdout, /limiter\.v1\.cgroups: ok/);
  });

  it('ps shows running containers, ps -a all, in docker order and columns', async () => {
    const r = await cli(['ps']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.deepEqual(lines[0]!.split(/\s{3,}/), ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES']);
    assert.equal(lines.length, 3);
    const ago = /^(Less than a second|\d+ seconds?) ago$/;
    const up = /^Up (Less than a second|\d+ seconds?)$/;
    const rows = lines.slice(1).map((l) => l.split(/\s{3,}/));
    assert.deepEqual(rows.map((r) => [r[0], r[1], r[2], r[5]]), [
      [rig.ids.term.slice(0, 12), 'busybox', '"sh"', 'term'],
      [rig.ids.web.slice(0, 12), 'busybox', '"sleep 1000"', 'web'],
    ]);
    for (const row of rows) {
      assert.match(row[3]!, ago);
      assert.match(row[4]!, up);
    }
    const all = await cli(['ps', '-a', '--format', '{{.Names}} {{.Status}}']);
    assert.match(all.stdout, /^term Up (Less than a second|\d+ seconds?)\nweb Up (Less than a second|\d+ seconds?)\nold Exited \(137\) (Less than a second|\d+ seconds?) ago\n$/);
    const q = await cli(['ps', '-aq']);
    assert.equal(q.stdout, `${rig.ids.term.slice(0, 12)}\n${rig.ids.web.slice(0, 12)}\n${rig.ids.old.slice(0, 12)}\n`);
    const json = await cli(['ps', '--json']);
    assert.equal((JSON.parse(json.stdout) as unknown[]).length, 2);
  });

  it('inspect prints a JSON array, -f templates, and fails for unknown names', async () => {
    const r = await cli(['inspect', 'web']);
    assert.equal(r.code, 0, r.stderr);
    const [doc] = JSON.parse(r.stdout) as { Id: string }[];
    assert.equal(doc!.Id, rig.ids.web);
    const f = await cli(['inspect', '-f', '{{.State.Running}} {{.Name}}', 'web', 'old']);
    assert.equal(f.stdout, 'true /web\nfalse /old\n');
    const img = await cli(['inspect', '-f', '{{json .RepoTags}}', 'busybox']);
    assert.equal(img.stdout, '["busybox:latest"]\n');
    const missing = await cli(['inspect', 'nosuch']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '[]\n');
    assert.equal(missing.stderr, 'Error: No such object: nosuch\n');
  });

  it('run attaches, splits stdout and stderr, and exits with the container status', async () => {
    const r = await cli(['run', '--name', 'hello', 'busybox', 'echo', 'hi']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
    assert.equal(r.stderr, '');
    const id = h.engine.container('hello').id;
    const asked = calls.filter((c) => c.args[0] === id || c.args[0] === 'hello');
    const attach = asked.findIndex((c) => c.method === 'attachContainer');
    const wait = asked.findIndex((c) => c.method === 'waitContainer' && c.args[1] === 'next-exit');
    const start = asked.findIndex((c) => c.method === 'startContainer');
    assert.ok(attach >= 0 && attach < wait && wait < start, `docker's order: attach, wait, start; got ${named(asked).join(', ')}`);
    const three = await cli(['run', 'busybox', '--', 'sh', '-c', 'exit 3']);
    assert.equal(three.code, 3);
  });

  it('run --rm waits for the removal; a missing command exits 127 with one line', async () => {
    const rm = await cli(['run', '--rm', '--name', 'gone', 'busybox', 'echo', 'x']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.ok(calls.some((c) => c.method === 'waitContainer' && c.args[1] === 'removed'), named(calls).join(', '));
    assert.equal(Object.values(h.engine.state().containers).some((c) => c.name === 'gone'), false);
    const bad = await cli(['run', '--rm', 'busybox', 'nosuch']);
    assert.equal(bad.code, 127);
    assert.match(bad.stderr, /^Error response from daemon: failed to start container [0-9a-f]{12}: exec: "nosuch": executable file not found in \$PATH\n$/);
  });

  it('run -d prints the full id; a taken name exits 125; a missing image exits 125', async () => {
    const r = await cli(['run', '-d', '--name', 'bg', '-e', 'A=1', '-m', '64m', 'busybox', 'sleep', '5']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
    const bg = h.engine.container('bg');
    assert.ok(bg.config.Env.includes('A=1'));
    assert.equal(bg.hostConfig.Memory, 64 * 1024 * 1024);
    assert.equal(bg.status, 'running');
    const dup = await cli(['run', '-d', '--name', 'bg', 'busybox']);
    assert.equal(dup.code, 125);
    assert.match(dup.stderr, /^Error response from daemon: Conflict\. The container name "\/bg" is already in use/);
    const noImage = await cli(['run', '--pull', 'never', 'nosuchimage']);
    assert.equal(noImage.code, 125);
    assert.match(noImage.stderr, /^Error response from daemon: No such image: nosuchimage/);
    // Without --pull never, run tries a pull first, as docker run does (this server has no distribution driver).
    const pulled = await cli(['run', 'nosuchimage']);
    assert.equal(pulled.code, 125);
    assert.equal(pulled.stderr, "Unable to find image 'nosuchimage:latest' locally\nError response from daemon: pulling images needs a distribution driver, and none is loaded: see `mini-docker info`\n");
  });

  it('create prints the id; start -a streams and exits with the status', async () => {
    const c = await cli(['create', '--name', 'later', 'busybox', 'echo', 'started']);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /^[0-9a-f]{64}\n$/);
    const s = await cli(['start', '-a', 'later']);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(s.stdout, 'started\n');
  });

  it('exec runs commands, pipes stdin with a half-close, and exits with the exec status', async () => {
    const echo = await cli(['exec', 'web', 'echo', 'in', 'web']);
    assert.equal(echo.code, 0, echo.stderr);
    assert.equal(echo.stdout, 'in web\n');
    const cat = await cli(['exec', '-i', 'web', 'cat'], 'data\n');
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout, 'data\n');
    const five = await cli(['exec', 'web', 'sh', '-c', 'exit 5']);
    assert.equal(five.code, 5);
    const detached = await cli(['exec', '-d', 'web', 'touch', '/x']);
    assert.equal(detached.code, 0, detached.stderr);
    const stopped = await cli(['exec', 'old', 'true']);
    assert.equal(stopped.code, 1);
    assert.equal(stopped.stderr, `Error response from daemon: container ${rig.ids.old} is not running\n`);
  });

  it('logs splits stdout and stderr, honours --tail and -t', async () => {
    const r = await cli(['logs', 'web']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'line 1\nline 2\nline 3\n');
    assert.equal(r.stderr, 'oops 1\n');
    const t = await cli(['logs', '-t', '--tail', '2', 'web']);
    assert.match(t.stdout, /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) line 2\n\1 line 3\n$/);
  });

  it('inspect -s adds SizeRw and SizeRootFs', async () => {
    // What the web container's process did, in the memory driver's files: 12 bytes added under /etc, /home deleted.
    const files = rig.storage.files(rig.ids.web);
    await files.write('etc/new', 'twelve bytes');
    await files.remove('home');
    const r = await cli(['inspect', '-s', '-f', '{{.SizeRw}} {{.SizeRootFs}}', 'web']);
    assert.equal(r.code, 0, r.stderr);
    const image = h.engine.image('busybox');
    assert.equal(r.stdout, `12 ${12 + image.layers.reduce((n, l) => n + l.size, 0)}\n`);
    assert.equal((await cli(['inspect', '-f', '{{.SizeRw}}', 'web'])).stdout, '<no value>\n', 'only when asked, as Docker');
  });

  it('diff prints C, A and D lines from the changes route; --json the list', async () => {
    const r = await cli(['diff', 'web']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'C /etc\nA /etc/new\nD /home\n');
    const json = await cli(['diff', '--json', 'web']);
    assert.deepEqual(JSON.parse(json.stdout), [{ Path: '/etc', Kind: 0 }, { Path: '/etc/new', Kind: 1 }, { Path: '/home', Kind: 2 }]);
    const missing = await cli(['diff', 'nosuch']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error response from daemon: No such container: nosuch\n$/);
  });

  it('top, stats --no-stream and images print docker tables', async () => {
    // The web container's cgroup (on the fake cgroupfs) holds a real process: this test's own.
    const [cgroup] = rig.engine.context.limiter()!.paths(rig.ids.web);
    await rig.cgroups.set(join(cgroup!, 'cgroup.procs'), `${process.pid}\n`);
    await rig.cgroups.set(join(cgroup!, 'memory.current'), `${1020 * 1024}\n`);
    await rig.cgroups.set(join(cgroup!, 'pids.current'), '1\n');
    const top = await cli(['top', 'web', '-o', 'pid,comm']);
    assert.equal(top.code, 0, top.stderr);
    assert.deepEqual(top.stdout.trimEnd().split('\n').map((l) => l.split(/\s+/)), [['PID', 'COMMAND'], [String(process.pid), 'node']]);
    assert.ok(calls.some((c) => c.method === 'topContainer' && c.args[1] === '-o pid,comm'), named(calls).join(', '));
    const stats = await cli(['stats', '--no-stream', 'web']);
    assert.equal(stats.code, 0, stats.stderr);
    const table = stats.stdout.trimEnd().split('\n').map((l) => l.split(/\s{3,}/));
    assert.deepEqual(table[0], ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS']);
    assert.deepEqual([table[1]![0], table[1]![1], table[1]![3], table[1]![4], table[1]![5], table[1]![7]], [rig.ids.web.slice(0, 12), 'web', '1020KiB / 32MiB', '3.11%', '0B / 0B', '1']);
    assert.match(table[1]![2]!, /^\d+\.\d\d%$/);
    const images = await cli(['images']);
    const rows = images.stdout.trimEnd().split('\n').map((l) => l.split(/\s{3,}/));
    assert.deepEqual(rows[0], ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']);
    assert.deepEqual([rows[1]![0], rows[1]![1], rows[1]![2]], ['busybox', 'latest', h.engine.image('busybox').id.slice(7, 19)]);
    assert.match(rows[1]![4]!, /^\d+(\.\d+)?MB$/);
    assert.equal(rows.length, 2);
  });

  it('events prints past events like docker and ends at --until', async () => {
    const r = await cli(['events', '--since', '1h', '--until', '0s', '--filter', 'container=web']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z container create ${rig.ids.web} \\(app=web, image=busybox, name=web\\)$`));
    assert.ok(lines.every((l) => l.includes(rig.ids.web)));
    const json = await cli(['events', '--since', '2h', '--until', '0s', '--format', 'json', '--filter', 'type=image']);
    assert.ok(json.stdout.trim() !== '', json.stderr);
    assert.ok(json.stdout.trim().split('\n').every((l) => (JSON.parse(l) as { Type: string }).Type === 'image'));
  });

  it('replay shows ps as of a log position', async () => {
    // Where web was created, and where it had started, in this log.
    const positions: Record<string, number> = {};
    for await (const e of rig.store.log.read()) {
      if (e.type === 'ContainerCreated' && e.data.id === rig.ids.web) positions.created = e.position;
      if (e.type === 'ContainerStarted' && e.data.id === rig.ids.web) positions.started = e.position;
    }
    const r = await cli(['replay', '--until', String(positions.created)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`^state as of position ${positions.created} `));
    const lines = r.stdout.trimEnd().split('\n');
    assert.deepEqual(lines.map((l) => l.split(/\s{3,}/).pop()), ['NAMES', 'web', 'old']);
    assert.match(lines[1]!, /Created {3,}web$/);
    const one = await cli(['replay', '--until', String(positions.started), '--container', 'web', '--format', 'json']);
    const report = JSON.parse(one.stdout) as { position: number; container: { State: { Running: boolean } } };
    assert.equal(report.position, positions.started);
    assert.equal(report.container.State.Running, true);
  });

  it('stop, kill, pause, rename, wait, rm follow docker\'s messages and exit codes', async () => {
    await cli(['run', '-d', '--name', 'victim', 'busybox', 'sleep', '100']);
    assert.deepEqual(await cli(['pause', 'victim']), { code: 0, stdout: 'victim\n', stderr: '' });
    assert.deepEqual(await cli(['unpause', 'victim']), { code: 0, stdout: 'victim\n', stderr: '' });
    assert.deepEqual(await cli(['rename', 'victim', 'prey']), { code: 0, stdout: '', stderr: '' });
    const running = await cli(['rm', 'prey']);
    assert.equal(running.code, 1);
    assert.equal(running.stderr, 'Error response from daemon: cannot remove container "/prey": container is running: stop the container before removing or force remove\n');
    assert.deepEqual(await cli(['stop', '-t', '1', 'prey']), { code: 0, stdout: 'prey\n', stderr: '' });
    assert.ok(calls.some((c) => c.method === 'stopContainer' && JSON.stringify(c.args[1]) === '{"timeoutSeconds":1}'), named(calls).join(', '));
    assert.deepEqual(await cli(['stop', 'prey']), { code: 0, stdout: 'prey\n', stderr: '' }, '304 counts as success');
    assert.deepEqual(await cli(['wait', 'prey']), { code: 0, stdout: '143\n', stderr: '' });
    const kill = await cli(['kill', 'prey']);
    assert.equal(kill.code, 1);
    assert.match(kill.stderr, /is not running\n$/);
    assert.deepEqual(await cli(['rm', 'prey', 'nosuch']), { code: 1, stdout: 'prey\n', stderr: 'Error response from daemon: No such container: nosuch\n' });
    assert.deepEqual(await cli(['rm', '-f', 'nosuch']), { code: 0, stdout: '', stderr: 'Error response from daemon: No such container: nosuch\n' });
  });

  it('update sends limits in HostConfig names', async () => {
    const r = await cli(['update', '-m', '128m', '--pids-limit', '50', '-c', '20000 100000', 'web']);
    assert.equal(r.code, 0, r.stderr);
    const limits = h.engine.state().containers[rig.ids.web]!.hostConfig;
    assert.equal(limits.Memory, 128 * 1024 * 1024);
    assert.equal(limits.PidsLimit, 50);
    assert.equal(limits.CpuQuota, 20000);
    assert.equal(limits.CpuPeriod, 100000);
    const none = await cli(['update', 'web']);
    assert.equal(none.code, 1);
  });

  it('import uploads a tarball, tag and commit name images, rmi untags and removes them', async () => {
    const tar = join(h.dir, 'rootfs.tar');
    writeFileSync(tar, await buildTar([[{ path: 'bin', type: 'directory' }], [{ path: 'bin/tool', type: 'file', mode: 0o755 }, 'tool']]));
    const imp = await cli(['import', '-m', 'hello', '-c', 'CMD ["sh"]', tar, 'imp:v1']);
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.ok(calls.some((c) => c.method === 'importImage' && JSON.stringify(c.args[1]).startsWith('{"repo":"imp:v1"')), named(calls).join(', '));
    assert.equal(h.engine.image('imp:v1').config.Cmd?.join(' '), 'sh');
    assert.deepEqual(await cli(['tag', 'imp:v1', 'imp:v2']), { code: 0, stdout: '', stderr: '' });
    const commit = await cli(['commit', '-m', 'msg', '-c', 'ENV A=1', '--no-pause', 'web', 'snap']);
    assert.equal(commit.code, 0, commit.stderr);
    assert.match(commit.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const committed = calls.find((c) => c.method === 'commitContainer');
    assert.equal(committed?.args[0], 'web');
    assert.match(JSON.stringify(committed?.args[1]), /"comment":"msg".*"pause":false|"pause":false.*"comment":"msg"/);
    assert.deepEqual(h.engine.image('snap').config.Env.filter((e) => e === 'A=1'), ['A=1']);
    const rmi = await cli(['rmi', 'imp:v1']);
    assert.equal(rmi.code, 0, rmi.stderr);
    assert.equal(rmi.stdout, 'Untagged: imp:v1\n', 'another tag keeps the image, as Docker');
    const last = await cli(['rmi', 'imp:v2']);
    assert.equal(last.code, 0, last.stderr);
    assert.match(last.stdout, /^Untagged: imp:v2\nDeleted: sha256:[0-9a-f]{64}\n$/);
  });

  it('export and save write archives to -o files; load reads one', async () => {
    await rig.storage.files(rig.ids.web).write('hello', 'from web');
    const out = join(h.dir, 'web.tar');
    assert.equal((await cli(['export', '-o', out, 'web'])).code, 0);
    assert.ok((await tarPaths(readFileSync(out))).includes('hello'), 'the container\'s file system as one tar');
    const saved = join(h.dir, 'images.tar');
    assert.equal((await cli(['save', '-o', saved, 'busybox'])).code, 0);
    assert.ok((await tarPaths(readFileSync(saved))).includes('manifest.json'), 'an image archive');
    const load = await cli(['load', '-i', saved]);
    assert.equal(load.code, 0, load.stderr);
    assert.match(load.stdout, /Loaded image: busybox:latest/);
  });

  it('container prune -f removes stopped containers', async () => {
    const r = await cli(['container', 'prune', '-f']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Deleted Containers:\n[0-9a-f]{64}\n/);
    assert.match(r.stdout, /Total reclaimed space: 0B\n$/);
  });

  it('image prune asks for dangling images, -a for every unused one', async () => {
    assert.equal((await cli(['image', 'prune', '-f'])).code, 0);
    assert.equal((await cli(['image', 'prune', '-a', '-f'])).code, 0);
    assert.deepEqual(calls.filter((c) => c.method === 'pruneImages').map((c) => c.args[0]), [false, true]);
  });
});
