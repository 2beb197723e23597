import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestDaemon, until } from './harness.js';
import { apiGet, containerCgroupDirs, processAlive } from './kernel-agreement.js';

// End to end: the daemon killed at a failpoint (MINI_DOCKER_FAILPOINTS) in the middle of a command,
// then started again: the intent in the log is finished or undone, and what drivers hold on the
// host agrees with ps. (The walk over every failpoint is test/e2e/crash-*.test.ts.)

interface Inspected {
  Id: string;
  State: { Status: string; Running: boolean; Pid: number; ExitCode: number; Error: string };
  TinyDocker?: { ShimPid?: number };
}

describe('e2e: recovery from an intent the daemon did not finish (failpoints)', { skip: process.getuid?.() === 0 ? false : 'needs root' }, () => {
  const d = new TestDaemon('recovery');
  before(async () => { await d.start(); });
  after(async () => { await d.cleanup(); });

  /** Restarts the daemon armed at `point` (or unarmed): the next command that reaches it kills the daemon. */
  async function restart(point?: string): Promise<void> {
    // A daemon that killed itself at a failpoint is gone already (kill9 would wait for an exit that came).
    if (d.pid !== undefined && processAlive(d.pid)) await d.kill9();
    if (point) d.env['MINI_DOCKER_FAILPOINTS'] = point;
    else delete d.env['MINI_DOCKER_FAILPOINTS'];
    await d.start();
  }

  async function inspect(ref: string): Promise<Inspected> {
    const r = await d.cli(['inspect', ref]);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as Inspected[])[0]!;
  }

  async function idOf(name: string): Promise<string> {
    const r = await d.cli(['ps', '-aq', '--no-trunc', '--filter', `name=^${name}$`]);
    return r.stdout.trim();
  }

  const bundle = (id: string): string => join(d.execRoot, 'isolator.v1.namespaces', id);
  const layer = (id: string): string => join(d.dataRoot, 'storage.v1.overlayfs', 'containers', id);

  async function stepActions(id: string): Promise<string[]> {
    const r = await d.cli(['events', '--steps', '--since', '10m', '--until', new Date(Date.now() + 1000).toISOString(), '--filter', `container=${id}`, '--format', '{{.Action}} {{.Actor.Attributes.kind}}']);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim().split('\n').map((l) => l.replace(' <no value>', '').trim());
  }

  it('events --steps after a run shows the intent, each driver\'s step and the result; plain events do not', async () => {
    const r = await d.cli(['run', '-d', '--name', 'rec-steps', '-m', '32m', 'busybox', 'sleep', '1000']);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    const actions = await stepActions(id);
    const limited = containerCgroupDirs(id).length > 0;
    assert.deepEqual(actions, [
      'create', 'start-intent', 'start-step storage.v1', ...(limited ? ['start-step limiter.v1'] : []), 'start-step network.v1', 'start-step log.v1', 'start-step isolator.v1', 'start',
    ]);
    const plain = await d.cli(['events', '--since', '10m', '--until', new Date(Date.now() + 1000).toISOString(), '--filter', `container=${id}`, '--format', '{{.Action}}']);
    assert.deepEqual(plain.stdout.trim().split('\n'), ['create', 'start']);
    assert.equal((await d.cli(['rm', '-f', id])).code, 0);
  });

  it('start.after-limiter: the start is undone (no shim, no cgroup), the container is created with the reason', async () => {
    await restart('start.after-limiter');
    const r = await d.cli(['run', '-d', '--name', 'rec-start', '-m', '32m', 'busybox', 'sleep', '1000']);
    assert.notEqual(r.code, 0, 'the daemon died before answering');
    await restart();
    const id = await idOf('rec-start');
    assert.match(id, /^[0-9a-f]{64}$/);
    const c = await inspect(id);
    assert.equal(c.State.Status, 'created');
    assert.equal(c.State.Running, false);
    assert.match(c.State.Error, /daemon stopped while the container was starting/);
    assert.deepEqual(containerCgroupDirs(id), [], 'no cgroup is left');
    assert.equal(existsSync(bundle(id)), false, 'no bundle, no shim');
    const actions = await stepActions(id);
    assert.ok(actions.includes('start-step-undone storage.v1'), actions.join(', '));
    assert.equal(actions.at(-1), 'die');
    // It starts normally now.
    assert.equal((await d.cli(['start', id])).code, 0);
    assert.equal((await inspect(id)).State.Running, true);
    assert.equal((await d.cli(['rm', '-f', id])).code, 0);
  });

  it('start.after-isolator: the process runs, so the start is completed and the container reattached', async () => {
    await restart('start.after-isolator');
    const r = await d.cli(['run', '-d', '--name', 'rec-started', 'busybox', 'sleep', '1000']);
    assert.notEqual(r.code, 0);
    await restart();
    const id = await idOf('rec-started');
    const c = await inspect(id);
    assert.equal(c.State.Status, 'running');
    assert.ok(c.State.Pid > 0 && processAlive(c.State.Pid), 'the recorded pid is the live process');
    assert.equal((await d.cli(['stop', '-t', '1', id])).code, 0, 'the daemon is connected to it again');
    assert.equal((await inspect(id)).State.Running, false);
    assert.equal((await d.cli(['rm', id])).code, 0);
  });

  it('rm.after-storage: the removal is finished (cgroups, layer and bundle gone, the container too)', async () => {
    const r = await d.cli(['run', '-d', '--name', 'rec-rm', '-m', '32m', 'busybox', 'sleep', '1000']);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    await restart('rm.after-storage');
    assert.notEqual((await d.cli(['rm', '-f', id])).code, 0);
    await restart();
    assert.equal(await idOf('rec-rm'), '', 'gone from ps -a');
    assert.deepEqual(containerCgroupDirs(id), []);
    assert.equal(existsSync(layer(id)), false);
    assert.equal(existsSync(bundle(id)), false);
  });

  it('exec.after-intent: the exec ends as exited with the reason, never running', async () => {
    const r = await d.cli(['run', '-d', '--name', 'rec-exec', 'busybox', 'sleep', '1000']);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    await restart('exec.after-intent');
    assert.notEqual((await d.cli(['exec', id, 'sleep', '500'])).code, 0);
    await restart();
    const actions = await stepActions(id);
    const intent = actions.findLastIndex((a) => a.startsWith('exec-intent'));
    assert.ok(intent >= 0, actions.join(', '));
    assert.ok(actions.slice(intent).includes('exec_die'), actions.join(', '));
    assert.ok(!actions.slice(intent).some((a) => a.startsWith('exec_start')), 'it never ran');
    assert.equal((await inspect(id)).State.Running, true, 'the container itself runs on');
    assert.equal((await d.cli(['rm', '-f', id])).code, 0);
  });

  it('exec.after-start: the exec\'s shim and process, left running by the dead daemon, are ended', async () => {
    const r = await d.cli(['run', '-d', '--name', 'rec-exec-run', 'busybox', 'sleep', '1000']);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    await restart('exec.after-start');
    assert.notEqual((await d.cli(['exec', id, 'sleep', '777'])).code, 0);
    const leftovers = (): string[] => readdirSync('/proc').filter((n) => /^\d+$/.test(n)).flatMap((pid) => {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return cmd === 'sleep\x00777\x00' || (cmd.includes('mini-docker-shim\x00exec\x00') && cmd.includes(bundle(id))) ? [pid] : [];
      } catch {
        return [];
      }
    });
    assert.ok(leftovers().length > 0, 'the exec outlived its daemon');
    await restart();
    await until('no process of the exec left', () => (leftovers().length === 0 ? true : undefined));
    const actions = await stepActions(id);
    const intent = actions.findLastIndex((a) => a.startsWith('exec-intent'));
    assert.ok(actions.slice(intent).includes('exec_die'), actions.join(', '));
    assert.equal((await inspect(id)).State.Running, true);
    assert.equal((await d.cli(['rm', '-f', id])).code, 0);
  });

  it('an exec that ended while no daemon ran has its true exit code and is not running (the exec shim\'s exit record)', async () => {
    const r = await d.cli(['run', '-d', '--name', 'rec-exec-code', 'busybox', 'sleep', '1000']);
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    // The exec waits for a file the test makes after the kill: it is surely running when the daemon dies.
    const started = await d.cli(['exec', '-d', id, 'sh', '-c', 'while [ ! -e /go ]; do sleep 1; done; exit 7']);
    assert.equal(started.code, 0, started.stderr);
    const c = await inspect(id);
    const execId = (await apiGet<{ ExecIDs: string[] | null }>(d.socketPath, `/containers/${id}/json`)).body.ExecIDs?.at(-1);
    assert.ok(execId, 'the exec is in the container\'s ExecIDs');
    const shims = (): string[] => readdirSync('/proc').filter((n) => /^\d+$/.test(n)).filter((pid) => {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return cmd.includes('mini-docker-shim\x00exec\x00') && cmd.includes(bundle(id));
      } catch {
        return false;
      }
    });
    assert.equal(shims().length, 1, 'the exec runs');
    await d.kill9();
    writeFileSync(`/proc/${c.State.Pid}/root/go`, '');
    await until('the exec ended and its shim with it', () => (shims().length === 0 ? true : undefined));
    assert.ok(existsSync(join(bundle(id), `exec-${execId}.exit`)), 'the shim left its exit record');
    await restart();
    const x = await apiGet<{ ExitCode: number | null; Running: boolean }>(d.socketPath, `/exec/${execId}/json`);
    assert.equal(x.status, 200);
    assert.equal(x.body.Running, false);
    assert.equal(x.body.ExitCode, 7);
    assert.match(d.log(), new RegExp(`exec ${execId.slice(0, 12)} of ${id.slice(0, 12)} ended while no daemon ran: exit code 7`));
    assert.equal(existsSync(join(bundle(id), `exec-${execId}.exit`)), false, 'recovery removed the record');
    assert.equal((await d.cli(['rm', '-f', id])).code, 0);
  });

  it('what drivers hold for containers the log does not know is removed at start, with a warning naming it', async () => {
    const ghost = 'e'.repeat(64);
    mkdirSync(bundle(ghost), { recursive: true });
    writeFileSync(join(bundle(ghost), 'spec'), '');
    mkdirSync(join(layer(ghost), 'upper'), { recursive: true });
    await restart();
    await until('the orphans removed', () => (!existsSync(bundle(ghost)) && !existsSync(layer(ghost)) ? true : undefined));
    assert.match(d.log(), new RegExp(`holds a bundle for container ${ghost}, which the log does not know`));
    assert.match(d.log(), new RegExp(`holds a writable layer for container ${ghost}, which the log does not know`));
  });
});
