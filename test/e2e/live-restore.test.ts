import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestDaemon, until } from './harness.js';
import { processAlive } from './kernel-agreement.js';

interface Inspected {
  State: { Status: string; Running: boolean; Pid: number; ExitCode: number; StartedAt: string; FinishedAt: string };
}

describe('e2e: live restore (the daemon dies or restarts, containers do not)', () => {
  const d = new TestDaemon('live-restore');
  // Before the first daemon starts: its DaemonStarted is in the window however slow the machine is.
  const since = new Date(Date.now() - 1000).toISOString();
  before(async () => { await d.start(); });
  after(async () => { await d.cleanup(); });

  async function inspect(ref: string): Promise<Inspected> {
    const r = await d.cli(['inspect', ref]);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as Inspected[])[0]!;
  }

  async function runDetached(name: string, script: string): Promise<string> {
    const r = await d.cli(['run', '-d', '--name', name, 'busybox', 'sh', '-c', script]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  }

  it('kill -9: the container that exited meanwhile gets its true code and time, the running one is reattached', async () => {
    // Numbered lines, so the log shows that nothing was lost or doubled across the crash.
    const counter = await runDetached('lr-counter', 'trap "exit 0" TERM; i=0; while true; do echo "n=$i"; i=$((i+1)); sleep 0.1; done');
    const dying = await runDetached('lr-dying', 'echo hello; sleep 2; echo "bye $((40+2))" >&2; exit 42');
    const before = await inspect(counter);
    assert.equal(before.State.Running, true);

    await d.kill9();
    // The dying container exits while no daemon runs: its shim records the exit in its bundle.
    const exitFile = join(d.execRoot, 'isolator.v1.namespaces', dying, 'exit');
    const recorded = await until('the exit file of lr-dying', () => (existsSync(exitFile) ? readFileSync(exitFile, 'utf8').trim() : undefined));
    const [code, signal, finishedAt] = recorded.split(' ');
    assert.equal(code, '42');
    assert.equal(signal, '0');
    assert.ok(processAlive(before.State.Pid), 'the running container outlives the daemon');
    await new Promise((r) => setTimeout(r, 300)); // the counter writes a few lines into its shim's buffer meanwhile

    const restartedAt = new Date().toISOString();
    await d.start();

    const died = await inspect(dying);
    assert.equal(died.State.Status, 'exited');
    assert.equal(died.State.ExitCode, 42);
    assert.equal(died.State.FinishedAt, finishedAt, 'the finish time is the one the shim saw, not the restart');
    assert.ok(died.State.FinishedAt < restartedAt, `${died.State.FinishedAt} is before the restart at ${restartedAt}`);
    assert.ok(died.State.FinishedAt > died.State.StartedAt);
    const psa = await d.cli(['ps', '-a']);
    assert.match(psa.stdout, /Exited \(42\) .*ago\s+lr-dying/);
    // What it wrote while no daemon was there is in its log too, once.
    const dyingLogs = await d.cli(['logs', 'lr-dying']);
    assert.equal(dyingLogs.stdout, 'hello\n');
    assert.equal(dyingLogs.stderr, 'bye 42\n');

    const reattached = await inspect(counter);
    assert.equal(reattached.State.Running, true);
    assert.equal(reattached.State.Pid, before.State.Pid);
    assert.match((await d.cli(['ps'])).stdout, /Up .*lr-counter/);

    const exec = await d.cli(['exec', 'lr-counter', 'sh', '-c', 'echo exec-ok; cat /proc/1/comm']);
    assert.equal(exec.code, 0, exec.stderr);
    assert.equal(exec.stdout, 'exec-ok\nsh\n');

    // Lines written before the crash, while the daemon was down and after the restart: in order, none missing or doubled.
    await until('new output after the restart', async () => {
      const n = (await d.cli(['logs', 'lr-counter'])).stdout.split('\n').filter((l) => l !== '').length;
      return n > 30 ? n : undefined;
    });
    const stop = await d.cli(['stop', '-t', '5', 'lr-counter']);
    assert.equal(stop.code, 0, stop.stderr);
    const logs = await d.cli(['logs', 'lr-counter']);
    assert.equal(logs.code, 0, logs.stderr);
    const numbers = logs.stdout.split('\n').filter((l) => l !== '').map((l) => Number(/^n=(\d+)$/.exec(l)?.[1] ?? NaN));
    assert.ok(numbers.length > 30, `${numbers.length} lines`);
    assert.deepEqual(numbers, numbers.map((_, i) => i), 'the lines are 0, 1, 2, ... without gaps or repeats');
    const stopped = await inspect(counter);
    assert.equal(stopped.State.Status, 'exited');
    assert.equal(stopped.State.ExitCode, 0);

    const events = await d.cli(['events', '--since', since, '--until', '0s']);
    assert.equal(events.code, 0, events.stderr);
    assert.match(events.stdout, new RegExp(`container die ${dying} \\(.*exitCode=42`));
    assert.match(events.stdout, new RegExp(`container die ${counter} \\(.*exitCode=0`));
    assert.equal(events.stdout.match(/ daemon start /g)?.length, 2, 'both daemon starts are in the log');
    assert.equal(events.stdout.match(new RegExp(`container die ${dying}`, 'g'))?.length, 1, 'one die for the container that exited while the daemon was down');

    assert.equal((await d.cli(['rm', 'lr-counter', 'lr-dying'])).code, 0);
  });

  it('SIGTERM: a clean shutdown leaves containers running, and the next daemon takes them back', async () => {
    const id = await runDetached('lr-term', 'trap "exit 3" TERM; while true; do sleep 0.1; done');
    const before = await inspect(id);
    assert.equal(await d.stop(), 0, d.log());
    assert.ok(processAlive(before.State.Pid), 'the container outlives a clean daemon shutdown');
    await d.start();
    const after = await inspect(id);
    assert.equal(after.State.Running, true);
    assert.equal(after.State.Pid, before.State.Pid);
    const exec = await d.cli(['exec', 'lr-term', 'hostname']);
    assert.equal(exec.code, 0, exec.stderr);
    assert.equal(exec.stdout.trim(), id.slice(0, 12));
    assert.equal((await d.cli(['stop', 'lr-term'])).code, 0);
    assert.equal((await inspect(id)).State.ExitCode, 3);
    assert.equal((await d.cli(['rm', 'lr-term'])).code, 0);
  });
});
