// Unit: bin/mini-docker against the real API server with the fake engine behind it (no root, no
// kernel): the docker-compatible request sequences, stream framing, exit codes and outputs.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { runCommand, type RunResult as Result } from '../e2e/harness.js';
import { OLD_ID, WEB_ID, startHarness, type Harness } from './fake-engine.js';

const bin = fileURLToPath(new URL('../../../bin/mini-docker', import.meta.url));

describe('mini-docker against the API server (fake engine)', () => {
  let h: Harness;
  let env: NodeJS.ProcessEnv;

  const cli = (args: string[], input?: string): Promise<Result> =>
    runCommand(bin, [...args], { env, timeoutMs: 15_000, ...(input !== undefined ? { input } : {}) });

  before(async () => {
    h = await startHarness();
    env = { PATH: process.env.PATH, HOME: h.dir, XDG_DATA_HOME: join(h.dir, 'xdg'), MINI_DOCKER_HOST: `unix://${h.socketPath}`, MINI_DOCKER_NO_AUTOSTART: '1' };
  });
  after(() => h.close());

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
    assert.match(r.stdout, /limiter\.v1\.cgroups: skipped \(no cgroup v2\)/);
  });

  it('ps shows running containers, ps -a all, in docker order and columns', async () => {
    const r = await cli(['ps']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'CONTAINER ID   IMAGE     COMMAND        CREATED         STATUS              PORTS     NAMES');
    assert.equal(lines.length, 3);
    assert.deepEqual(lines.slice(1).map((l) => l.split(/\s{3,}/)), [
      ['d4d4d4d4d4d4', 'busybox', '"sh"', '2 minutes ago', 'Up About a minute', 'term'],
      ['a1a1a1a1a1a1', 'busybox', '"sleep 1000"', '5 minutes ago', 'Up 3 minutes', 'web'],
    ]);
    const all = await cli(['ps', '-a', '--format', '{{.Names}} {{.Status}}']);
    assert.match(all.stdout, /^term Up About a minute\nweb Up 3 minutes\nold Exited \(137\) \d+ seconds ago\n$/);
    const q = await cli(['ps', '-aq']);
    assert.equal(q.stdout, `${'d4'.repeat(6)}\n${WEB_ID.slice(0, 12)}\n${OLD_ID.slice(0, 12)}\n`);
    const json = await cli(['ps', '--json']);
    assert.equal((JSON.parse(json.stdout) as unknown[]).length, 2);
  });

  it('inspect prints a JSON array, -f templates, and fails for unknown names', async () => {
    const r = await cli(['inspect', 'web']);
    assert.equal(r.code, 0, r.stderr);
    const [doc] = JSON.parse(r.stdout) as { Id: string }[];
    assert.equal(doc!.Id, WEB_ID);
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
    assert.equal(r.stderr, 'stderr line\n');
    const calls = h.engine.calls.filter((c) => /hello|attach|wait|start/.test(c));
    const attach = calls.findIndex((c) => c.startsWith('attach hello'));
    const wait = calls.findIndex((c) => c === 'wait hello next-exit');
    const start = calls.findIndex((c) => c === 'start hello');
    assert.ok(attach >= 0 && attach < wait && wait < start, `docker's order: attach, wait, start; got ${calls.join(', ')}`);
    const three = await cli(['run', 'busybox', '--', 'sh', '-c', 'exit 3']);
    assert.equal(three.code, 3);
  });

  it('run --rm waits for the removal; a missing command exits 127 with one line', async () => {
    const rm = await cli(['run', '--rm', '--name', 'gone', 'busybox', 'echo', 'x']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.ok(h.engine.calls.includes('wait gone removed'));
    assert.equal(Object.values(h.engine.state().containers).some((c) => c.name === 'gone'), false);
    const bad = await cli(['run', '--rm', 'busybox', 'nosuch']);
    assert.equal(bad.code, 127);
    assert.equal(bad.stderr, 'Error: failed to create task for container: exec: "nosuch": executable file not found in $PATH\n');
  });

  it('run -d prints the full id; a taken name exits 125; a missing image exits 125', async () => {
    const r = await cli(['run', '-d', '--name', 'bg', '-e', 'A=1', '-m', '64m', 'busybox', 'sleep', '5']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^[0-9a-f]{64}\n$/);
    const created = JSON.parse(h.engine.calls.find((c) => c.startsWith('create') && c.includes('"bg"'))!.slice('create '.length)) as { config: { Env: string[] }; hostConfig: { Memory: number } };
    assert.deepEqual(created.config.Env, ['A=1']);
    assert.equal(created.hostConfig.Memory, 64 * 1024 * 1024);
    const dup = await cli(['run', '-d', '--name', 'bg', 'busybox']);
    assert.equal(dup.code, 125);
    assert.match(dup.stderr, /^Error: Conflict\. The container name "\/bg" is already in use/);
    const noImage = await cli(['run', '--pull', 'never', 'nosuchimage']);
    assert.equal(noImage.code, 125);
    assert.match(noImage.stderr, /^Error: No such image: nosuchimage/);
    // Without --pull never, run tries a pull first, as docker run does (this server has no distribution driver).
    const pulled = await cli(['run', 'nosuchimage']);
    assert.equal(pulled.code, 125);
    assert.equal(pulled.stderr, "Unable to find image 'nosuchimage:latest' locally\nError: pulling images needs a distribution driver, and none is loaded: see `mini-docker info`\n");
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
    assert.equal(cat.stdout, 'data\nafter eof\n');
    const five = await cli(['exec', 'web', 'sh', '-c', 'exit 5']);
    assert.equal(five.code, 5);
    const detached = await cli(['exec', '-d', 'web', 'touch', '/x']);
    assert.equal(detached.code, 0, detached.stderr);
    const stopped = await cli(['exec', 'old', 'true']);
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, /^Error: container c3c3c3c3.* is not running\n$/);
  });

  it('logs splits stdout and stderr, honours --tail and -t', async () => {
    const r = await cli(['logs', 'web']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'line 1\nline 2\nline 3\n');
    assert.equal(r.stderr, 'oops 1\n');
    const t = await cli(['logs', '-t', '--tail', '1', 'web']);
    assert.equal(t.stdout, '2026-11-28T16:00:02.000000003Z line 2\n2026-11-28T16:00:02.000000003Z line 3\n');
  });

  it('inspect -s adds SizeRw and SizeRootFs', async () => {
    const r = await cli(['inspect', '-s', '-f', '{{.SizeRw}} {{.SizeRootFs}}', 'web']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '12 2000012\n');
    assert.equal((await cli(['inspect', '-f', '{{.SizeRw}}', 'web'])).stdout, '<no value>\n', 'only when asked, as Docker');
  });

  it('diff prints C, A and D lines from the changes route; --json the list', async () => {
    const r = await cli(['diff', 'web']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'C /etc\nA /etc/new\nD /gone\n');
    const json = await cli(['diff', '--json', 'web']);
    assert.deepEqual(JSON.parse(json.stdout), [{ Path: '/etc', Kind: 0 }, { Path: '/etc/new', Kind: 1 }, { Path: '/gone', Kind: 2 }]);
    const missing = await cli(['diff', 'nosuch']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error: No such container: nosuch\n$/);
  });

  it('top, stats --no-stream and images print docker tables', async () => {
    const top = await cli(['top', 'web', '-o', 'pid']);
    assert.equal(top.code, 0, top.stderr);
    assert.equal(top.stdout, 'PID       CMD\n4242      sleep 1000\n');
    assert.ok(h.engine.calls.includes('top web -o pid'));
    const stats = await cli(['stats', '--no-stream', 'web']);
    assert.equal(stats.code, 0, stats.stderr);
    assert.deepEqual(stats.stdout.trimEnd().split('\n').map((l) => l.split(/\s{3,}/)), [
      ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'],
      ['a1a1a1a1a1a1', 'web', '20.00%', '1020KiB / 32MiB', '3.11%', '0B / 0B', '10B / 20B', '1'],
    ]);
    const images = await cli(['images']);
    const rows = images.stdout.trimEnd().split('\n').map((l) => l.split(/\s{3,}/));
    assert.deepEqual(rows[0], ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']);
    assert.deepEqual([rows[1]![0], rows[1]![1], rows[1]![2], rows[1]![4]], ['busybox', 'latest', 'bbbbbbbbbbbb', '1.2MB']);
    assert.equal(rows.length, 2);
  });

  it('events prints past events like docker and ends at --until', async () => {
    const r = await cli(['events', '--since', '1h', '--until', '0s', '--filter', 'container=web']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z container create ${WEB_ID} \\(app=web, image=busybox, name=web\\)$`));
    assert.ok(lines.every((l) => l.includes(WEB_ID)));
    const json = await cli(['events', '--since', '2h', '--until', '0s', '--format', 'json', '--filter', 'type=image']);
    assert.ok(json.stdout.trim() !== '', json.stderr);
    assert.ok(json.stdout.trim().split('\n').every((l) => (JSON.parse(l) as { Type: string }).Type === 'image'));
  });

  it('replay shows ps as of a log position', async () => {
    const r = await cli(['replay', '--until', '6']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^state as of position 6 /);
    const lines = r.stdout.trimEnd().split('\n');
    assert.deepEqual(lines.map((l) => l.split(/\s{3,}/).pop()), ['NAMES', 'web', 'old']);
    assert.match(lines[1]!, /Created {3,}web$/);
    const one = await cli(['replay', '--until', '7', '--container', 'web', '--format', 'json']);
    const report = JSON.parse(one.stdout) as { position: number; container: { State: { Running: boolean } } };
    assert.equal(report.position, 7);
    assert.equal(report.container.State.Running, true);
  });

  it('stop, kill, pause, rename, wait, rm follow docker\'s messages and exit codes', async () => {
    await cli(['run', '-d', '--name', 'victim', 'busybox', 'sleep', '100']);
    assert.deepEqual(await cli(['pause', 'victim']), { code: 0, stdout: 'victim\n', stderr: '' });
    assert.deepEqual(await cli(['unpause', 'victim']), { code: 0, stdout: 'victim\n', stderr: '' });
    assert.deepEqual(await cli(['rename', 'victim', 'prey']), { code: 0, stdout: '', stderr: '' });
    const running = await cli(['rm', 'prey']);
    assert.equal(running.code, 1);
    assert.equal(running.stderr, 'Error: cannot remove container "/prey": container is running: stop the container before removing or force remove\n');
    assert.deepEqual(await cli(['stop', '-t', '1', 'prey']), { code: 0, stdout: 'prey\n', stderr: '' });
    assert.ok(h.engine.calls.includes('stop prey 1 -'));
    assert.deepEqual(await cli(['stop', 'prey']), { code: 0, stdout: 'prey\n', stderr: '' }, '304 counts as success');
    assert.deepEqual(await cli(['wait', 'prey']), { code: 0, stdout: '143\n', stderr: '' });
    const kill = await cli(['kill', 'prey']);
    assert.equal(kill.code, 1);
    assert.match(kill.stderr, /is not running\n$/);
    assert.deepEqual(await cli(['rm', 'prey', 'nosuch']), { code: 1, stdout: 'prey\n', stderr: 'Error: No such container: nosuch\n' });
    assert.deepEqual(await cli(['rm', '-f', 'nosuch']), { code: 0, stdout: '', stderr: 'Error: No such container: nosuch\n' });
  });

  it('update sends limits in HostConfig names', async () => {
    const r = await cli(['update', '-m', '128m', '--pids-limit', '50', '-c', '20000 100000', 'web']);
    assert.equal(r.code, 0, r.stderr);
    const limits = h.engine.state().containers[WEB_ID]!.hostConfig;
    assert.equal(limits.Memory, 128 * 1024 * 1024);
    assert.equal(limits.PidsLimit, 50);
    assert.equal(limits.CpuQuota, 20000);
    assert.equal(limits.CpuPeriod, 100000);
    const none = await cli(['update', 'web']);
    assert.equal(none.code, 1);
  });

  it('import uploads a tarball, tag and commit name images, rmi removes them', async () => {
    const tar = join(h.dir, 'rootfs.tar');
    writeFileSync(tar, Buffer.alloc(10240));
    const imp = await cli(['import', '-m', 'hello', '-c', 'CMD ["sh"]', tar, 'imp:v1']);
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.ok(h.engine.calls.some((c) => c.startsWith('import {"repo":"imp:v1"') && c.endsWith(' 10240')), h.engine.calls.join('\n'));
    assert.deepEqual(await cli(['tag', 'imp:v1', 'imp:v2']), { code: 0, stdout: '', stderr: '' });
    const commit = await cli(['commit', '-m', 'msg', '-c', 'ENV A=1', '--no-pause', 'web', 'snap']);
    assert.equal(commit.code, 0, commit.stderr);
    assert.match(commit.stdout, /^sha256:[0-9a-f]{64}\n$/);
    assert.ok(h.engine.calls.some((c) => c.startsWith('commit web') && c.includes('"repo":"snap"') && c.includes('"tag":"latest"') && c.includes('"comment":"msg"') && c.includes('"pause":false')), h.engine.calls.join('\n'));
    const rmi = await cli(['rmi', 'imp:v1']);
    assert.equal(rmi.code, 0, rmi.stderr);
    assert.match(rmi.stdout, /^Untagged: imp:v1\nUntagged: imp:v2\nDeleted: sha256:[0-9a-f]{64}\n$/);
  });

  it('export and save write archives to -o files; load reads one', async () => {
    const out = join(h.dir, 'web.tar');
    assert.equal((await cli(['export', '-o', out, 'web'])).code, 0);
    assert.equal(readFileSync(out, 'utf8'), 'fake tar of the container');
    const saved = join(h.dir, 'images.tar');
    assert.equal((await cli(['save', '-o', saved, 'busybox'])).code, 0);
    assert.equal(readFileSync(saved, 'utf8'), 'fake tar of busybox');
    const piped = await cli(['export', 'web']);
    assert.equal(piped.stdout, 'fake tar of the container');
    const load = await cli(['load', '-i', saved]);
    assert.equal(load.code, 0, load.stderr);
    assert.match(load.stdout, /Loaded image: loaded:v1/);
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
    assert.deepEqual(h.engine.calls.filter((c) => c.startsWith('prune images')).slice(-2), ['prune images all=false', 'prune images all=true']);
  });
});
