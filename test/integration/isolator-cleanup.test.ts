// Integration: the namespace isolator's cleanup (what `rm` runs) ends a shim that outlived its
// container even when the caller no longer knows the shim's pid: the fold sets shimPid to 0 once
// a container exited, while its shim may still wait for a daemon to take its output.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NamespaceIsolator } from '../../plugins/isolator-namespaces/namespace-isolator.js';
import { alive, processStartTime } from '../fixtures/proc-stat.js';

const isRoot = process.getuid?.() === 0;
const quiet = { info() {}, warn() {}, error() {} };


async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('integration: isolator cleanup', { skip: isRoot ? false : 'needs root' }, () => {
  let scratch = '';
  let rootfs = '';
  const isolator = new NamespaceIsolator();
  const started: number[] = [];

  before(async () => {
    scratch = mkdtempSync(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'isolator-cleanup-'));
    rootfs = join(scratch, 'rootfs');
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
    chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
    symlinkSync('busybox', join(rootfs, 'bin', 'sh'));
    const status = await isolator.init({ dataRoot: scratch, execRoot: scratch, stateDir: join(scratch, 'state'), runDir: join(scratch, 'run'), logger: quiet });
    assert.equal(status.status, 'ok', JSON.stringify(status));
  });

  after(() => {
    for (const pid of started) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch { /* gone */ }
    }
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('kills a shim that waits with unacknowledged output after its container exited, given shimPid 0', async () => {
    const id = 'c'.repeat(64);
    const { shimPid } = await isolator.start({
      containerId: id, args: ['sh', '-c', 'echo never read'], env: ['PATH=/bin'], cwd: '/', user: '', hostname: 'box',
      tty: false, stdin: false, mounts: [], rootfs, cgroups: [],
    });
    started.push(shimPid);
    // No daemon connects: the container exits, its shim records it and keeps the output.
    await until('the exit file', () => existsSync(join(isolator.bundle(id), 'exit')));
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(alive(shimPid), 'the shim waits for a daemon to take the output');
    assert.deepEqual(await isolator.held(), [{ containerId: id, shimPid }], 'held() lists the bundle with its live shim');

    await isolator.cleanup(id, 0);
    assert.deepEqual(await isolator.held(), []);
    await until('the shim to end', () => !alive(shimPid));
    assert.equal(existsSync(isolator.bundle(id)), false, 'the bundle is gone');
  });

  it('endExec kills a lost exec\'s process that outlived its shim only while it is in the container\'s PID namespace', async () => {
    const id = 'e'.repeat(64);
    const { pid: initPid, shimPid } = await isolator.start({
      containerId: id, args: ['sh', '-c', 'sleep 1000 & sleep 1000'], env: ['PATH=/bin'], cwd: '/', user: '', hostname: 'box',
      tty: false, stdin: false, mounts: [], rootfs, cgroups: [],
    });
    started.push(shimPid);
    const children = `/proc/${initPid}/task/${initPid}/children`;
    await until('the container\'s child', () => readFileSync(children, 'utf8').trim() !== '');
    const inside = Number(readFileSync(children, 'utf8').trim().split(' ')[0]);
    // A pid the log recorded for an exec, reused since by a host process: never signalled.
    const host = spawn('sleep', ['1000'], { stdio: 'ignore' });
    try {
      assert.deepEqual(await isolator.endExec(id, 'reused', { pid: host.pid!, initPid }), { ended: 'gone' });
      assert.ok(alive(host.pid!), 'the host process is left alone');
      // The recorded exec ended while no daemon ran and a process of the container got its pid: another start time, left alone.
      const startTime = processStartTime(inside);
      assert.deepEqual(await isolator.endExec(id, 'ended', { pid: inside, initPid, startTime: startTime + 1 }), { ended: 'gone' });
      assert.ok(alive(inside), 'a process of the container on a recorded pid that started at another time is left alone');
      assert.deepEqual(await isolator.endExec(id, 'lost', { pid: inside, initPid, startTime }), { ended: 'killed' });
      await until('the lost process to end', () => !alive(inside));
      assert.ok(alive(initPid), 'only the process named');
    } finally {
      host.kill('SIGKILL');
    }
    await isolator.cleanup(id, shimPid);
    await until('the shim to end', () => !alive(shimPid));
  });

  it('does not touch another process when shim.pid names one that is not this container\'s shim', async () => {
    const id = 'd'.repeat(64);
    mkdirSync(isolator.bundle(id), { recursive: true });
    writeFileSync(join(isolator.bundle(id), 'shim.pid'), `${process.pid}\n`);
    assert.deepEqual(await isolator.held(), [{ containerId: id, shimPid: 0 }], 'a pid that is not this bundle\'s shim is no live shim');
    await isolator.cleanup(id, 0);
    assert.ok(alive(process.pid));
    assert.equal(existsSync(isolator.bundle(id)), false);
  });
});
