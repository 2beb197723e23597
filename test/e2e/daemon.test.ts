import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT, TestDaemon, runCommand, DAEMON } from './harness.js';
import { processAlive } from './kernel-agreement.js';

async function waitFor(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  for (let waited = 0; waited < ms; waited += 50) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('e2e: the daemon, its files, plugins and replay', () => {
  const daemons: TestDaemon[] = [];
  after(async () => {
    for (const d of daemons) await d.cleanup();
  });

  it('the CLI starts the daemon itself; pid file and socket are in the exec root; a second daemon is refused', async () => {
    const d = new TestDaemon('autostart');
    daemons.push(d);
    const ps = await d.cli(['ps'], { env: { MINI_DOCKER_NO_AUTOSTART: '' } });
    assert.equal(ps.code, 0, ps.stderr);
    assert.match(ps.stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES/);
    const pidFile = join(d.execRoot, 'mini-dockerd.pid');
    assert.ok(existsSync(pidFile), 'pid file');
    assert.equal(statSync(d.socketPath).mode & 0o777, 0o660, 'socket mode 0660');
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    assert.ok(processAlive(pid));
    const info = await d.cli(['info', '--json']);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /storage\.v1\.overlayfs/);

    const second = await runCommand(process.execPath, [DAEMON], { env: d.env, timeoutMs: 20_000 });
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, /another mini-dockerd/);

    process.kill(pid, 'SIGTERM');
    await waitFor(() => !processAlive(pid), 'the daemon to exit on SIGTERM');
    assert.ok(!existsSync(pidFile), 'pid file removed on clean shutdown');
  });

  it('a linked third-party plugin receives events after a daemon restart', async () => {
    const d = new TestDaemon('plugins');
    daemons.push(d);
    const audit = join(d.root, 'audit.log');
    const link = await d.cli(['plugins', 'link', join(REPO_ROOT, 'examples', 'audit-plugin')]);
    assert.equal(link.code, 0, link.stderr);
    const list = await d.cli(['plugins']);
    assert.match(list.stdout, /tiny-docker-audit-plugin/);
    Object.assign(d.env, { AUDIT_FILE: audit });
    await d.start();
    const info = await d.cli(['info', '--json']);
    assert.match(info.stdout, /reactor\.v1\.audit/);
    assert.equal((await d.cli(['run', '--rm', 'busybox', 'true'])).code, 0);
    await waitFor(() => existsSync(audit) && readFileSync(audit, 'utf8').includes('ContainerRemoved'), 'the audit plugin to see ContainerRemoved');
    const lines = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; position: number });
    assert.ok(lines.some((l) => l.type === 'ContainerCreated'));
    assert.ok(lines.some((l) => l.type === 'ContainerStarted'));
    const positions = lines.map((l) => l.position);
    assert.deepEqual(positions, [...positions].sort((a, b) => a - b), 'in log order');
    const cmd = await d.cli(['audit', '--file', audit]);
    assert.equal(cmd.code, 0, cmd.stderr);
    assert.match(cmd.stdout, /ContainerRemoved/);
  });

  it('replay --log of a copied log, with no daemon, prints the same ps as the live daemon; events and replay --until', async () => {
    const d = new TestDaemon('replay');
    daemons.push(d);
    await d.start();
    assert.equal((await d.cli(['run', '--name', 'done', 'busybox', 'sh', '-c', 'exit 4'])).code, 4);
    assert.equal((await d.cli(['run', '-d', '--name', 'up', 'busybox', 'sleep', '1000'])).code, 0);
    assert.equal((await d.cli(['create', '--name', 'fresh', 'busybox', 'true'])).code, 0);
    const live = await d.cli(['ps', '-a']);
    const copy = join(d.root, 'copy');
    mkdirSync(copy);
    copyFileSync(join(d.dataRoot, 'events', 'events.log'), join(copy, 'events.log'));
    const offline = await d.cli(['replay', '--log', join(copy, 'events.log')], { env: { MINI_DOCKER_EXEC_ROOT: join(d.root, 'nowhere') } });
    assert.equal(offline.code, 0, offline.stderr);
    // Relative times ("Up 1 second" vs "Up Less than a second") depend on when each was printed.
    const strip = (s: string): string[] => s.trim().split('\n').map((l) =>
      l.replace(/(Less than a second|About an? \w+|\d+ (second|minute|hour)s?)/g, 'T').replace(/\s+/g, ' '));
    assert.deepEqual(strip(offline.stdout), strip(live.stdout));
    for (const name of ['done', 'up', 'fresh']) assert.match(offline.stdout, new RegExp(name));

    const events = await d.cli(['events', '--since', '10m', '--until', '0s', '--filter', 'container=done']);
    assert.equal(events.code, 0, events.stderr);
    assert.match(events.stdout, /container create [0-9a-f]{64} .*name=done/);
    assert.match(events.stdout, /container die [0-9a-f]{64} .*exitCode=4/);

    const early = await d.cli(['replay', '--until', '3', '--json']);
    assert.equal(early.code, 0, early.stderr);
    assert.doesNotMatch(early.stdout, /"fresh"|\/fresh/);
  });
});
