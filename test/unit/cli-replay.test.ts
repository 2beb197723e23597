// Unit: `replay` prints the same ps table online (the real engine over the log, GET /tiny/replay) and offline (a copied
// log read directly with the read-only file log), plus the pure helpers behind --events.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ContainerEngine } from '../../core/engine/container-engine.js';
import { EventStore } from '../../core/engine/event-store.js';
import type { ImageService } from '../../core/engine/image-service.js';
import { FileEventLog } from '../../core/eventlog/file-event-log.js';
import { initialState } from '../../core/state/evolve.js';
import { PluginRegistry } from '../../core/plugins/plugin-registry.js';
import { describeEffect, isPast, referenceTime } from '../../cli/lib/replay-view.js';
import { containerStream, imageStream, type EngineEvent, type EventEnvelope } from '../../events/index.js';
import { startHarness, type Harness } from './api-harness.js';

const bin = fileURLToPath(new URL('../../../bin/mini-docker', import.meta.url));
const IMAGE = `sha256:${'5d'.repeat(32)}`;
const WEB = 'ab'.repeat(32);
const JOB = 'cd'.repeat(32);

/** The real engine on the test's log (no drivers: replay and events only fold and read the log). */
async function engineOn(log: FileEventLog): Promise<ContainerEngine> {
  const store = new EventStore(log);
  await store.load();
  const images: ImageService = {
    resolveForCreate: async () => { throw new Error('not in this test'); },
    recover: async () => undefined,
    ensureBuiltins: async () => undefined,
    importImage: async () => { throw new Error('not in this test'); },
    tag: async () => undefined,
    remove: async () => [],
    commit: async () => { throw new Error('not in this test'); },
    exportContainer: async () => undefined,
    save: async () => undefined,
    load: async () => [],
    prune: async () => ({ deleted: [], spaceReclaimed: 0 }),
  };
  return new ContainerEngine(store, new PluginRegistry(), images, { info: () => undefined, warn: () => undefined, error: () => undefined }, {
    id: 'test', version: 'test', dataRoot: '', execRoot: '',
  });
}

const config = (cmd: string[]) => ({
  Cmd: cmd, Entrypoint: null, Env: [], WorkingDir: '', User: '', Hostname: '', Tty: false, OpenStdin: false, StdinOnce: false,
  AttachStdin: false, AttachStdout: true, AttachStderr: true, Labels: {},
});
const hostConfig = { AutoRemove: false, LogConfig: { Type: 'json-file', Config: {} } };

describe('replay online and offline', () => {
  let dir: string;
  let logged: EventEnvelope[];
  let h: Harness<ContainerEngine>;
  let served: FileEventLog;
  let env: NodeJS.ProcessEnv;

  const cli = (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> => new Promise((resolve) => {
    const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

  before(async () => {
    dir = mkdtempSync(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'cli-replay-'));
    const log = new FileEventLog(join(dir, 'data', 'events'));
    await log.open();
    const append = async (stream: string, event: EngineEvent) => {
      await log.append(stream, [event], 'any');
      await new Promise((r) => setTimeout(r, 15));
    };
    await append(imageStream(IMAGE), { type: 'ImageCreated', data: { id: IMAGE, origin: 'import', source: '/tmp/busybox.tar', parent: null, layers: [{ diffId: IMAGE, size: 2_000_000 }], config: { Env: [], Cmd: ['sh'], Entrypoint: null, WorkingDir: '', User: '', Labels: {} }, history: [], created: '2026-11-28T16:00:00Z', architecture: 'amd64', os: 'linux' } });
    await append(imageStream(IMAGE), { type: 'ImageTagged', data: { id: IMAGE, ref: 'busybox:latest' } });
    await append(containerStream(WEB), { type: 'ContainerCreated', data: { id: WEB, name: 'web', image: { ref: 'busybox', id: IMAGE }, config: config(['httpd', '-f']), hostConfig } });
    await append(containerStream(WEB), { type: 'ContainerStarted', data: { id: WEB, pid: 100, shimPid: 99, drivers: ['storage.v1.overlayfs'] } });
    await append(containerStream(JOB), { type: 'ContainerCreated', data: { id: JOB, name: 'job', image: { ref: '/tmp/busybox.tar', id: IMAGE }, config: config(['sh', '-c', 'exit 3']), hostConfig } });
    await append(containerStream(JOB), { type: 'ContainerStarted', data: { id: JOB, pid: 200, shimPid: 199, drivers: [] } });
    await append(containerStream(JOB), { type: 'ContainerExited', data: { id: JOB, name: 'job', exitCode: 3, signal: null, oomKilled: false, finishedAt: new Date().toISOString() } });
    await append(containerStream(WEB), { type: 'ContainerRenamed', data: { id: WEB, oldName: 'web', newName: 'site' } });
    await append(containerStream(WEB), { type: 'ContainerPaused', data: { id: WEB } });
    await append(containerStream(JOB), { type: 'ContainerRemoved', data: { id: JOB } });
    logged = [];
    for await (const e of log.read()) logged.push(e);
    await log.close();
    served = new FileEventLog(join(dir, 'data', 'events'));
    await served.open();
    h = await startHarness(await engineOn(served));
    env = { PATH: process.env.PATH, HOME: dir, XDG_DATA_HOME: join(dir, 'xdg'), MINI_DOCKER_HOST: `unix://${h.socketPath}`, MINI_DOCKER_NO_AUTOSTART: '1' };
  });

  after(async () => {
    await h.close();
    await served.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const points = ['3', '6', '7', '9', '10'];

  for (const until of points) {
    it(`prints the same ps table for --until ${until}`, async () => {
      const online = await cli(['replay', '--until', until]);
      const offline = await cli(['replay', '--log', join(dir, 'data'), '--until', until]);
      assert.equal(online.code, 0, online.stderr);
      assert.equal(offline.code, 0, offline.stderr);
      assert.equal(offline.stdout, online.stdout);
      assert.equal(offline.stderr, online.stderr);
      assert.match(online.stdout, /^CONTAINER ID {3}IMAGE /);
    });
  }

  it('shows the state as of then: names, statuses, removed containers gone', async () => {
    const at7 = (await cli(['replay', '--log', join(dir, 'data', 'events', 'events.log'), '--until', '7'])).stdout.trimEnd().split('\n').map((l) => l.split(/\s{3,}/));
    assert.deepEqual(at7.map((r) => r[r.length - 1]), ['NAMES', 'job', 'web']);
    assert.match(at7[1]![4]!, /^Exited \(3\) Less than a second ago$/);
    assert.match(at7[2]![4]!, /^Up Less than a second$/);
    const at9 = (await cli(['replay', '--until', '9'])).stdout;
    assert.match(at9, /\(Paused\)\s+site\n/);
    const at10 = (await cli(['replay', '--until', '10'])).stdout.trimEnd().split('\n');
    assert.equal(at10.length, 2, 'job was removed');
  });

  it('says when the asked position is past the end of the log, online and offline, instead of showing the last state', async () => {
    const online = await cli(['replay', '--until', '9999']);
    const offline = await cli(['replay', '--log', join(dir, 'data'), '--until', '9999']);
    // the same message; online it is the daemon's answer, printed as the docker client prints one
    for (const [r, prefix] of [[online, 'Error response from daemon: '], [offline, 'Error: ']] as const) {
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, `${prefix}position 9999 is past the end of the event log: its last position is 10\n`);
    }
  });

  it('notes a time after the last event that is still to come', async () => {
    const r = await cli(['replay', '--log', join(dir, 'data'), '--until', '2999-01-01T00:00:00Z']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^note: 2999-01-01T00:00:00(\.0+)?Z is after the last event of the log \(position 10 at \S+\): showing the state at its end\n/);
  });

  it('replays up to a time as well as a position', async () => {
    const t = logged[5]!.time;
    const online = await cli(['replay', '--until', t]);
    const offline = await cli(['replay', '--log', join(dir, 'data'), '--until', t]);
    assert.equal(offline.stdout, online.stdout);
    assert.match(online.stderr, /^state as of position 6 /);
  });

  it('prints the same events and effects online and offline', async () => {
    const online = await cli(['replay', '--until', '8', '--events']);
    const offline = await cli(['replay', '--log', join(dir, 'data'), '--until', '8', '--events']);
    assert.equal(online.code, 0, online.stderr);
    assert.equal(offline.stdout, online.stdout);
    assert.match(online.stdout, /^#1 \S+ ImageCreated image-5d5d5d5d5d5d\n {4}image 5d5d5d5d5d5d: added \(origin=import\)\n/);
    assert.match(online.stdout, /#8 \S+ ContainerRenamed container-abababababab\n {4}container abababababab: name: web → site\n/);
    const job = await cli(['replay', '--log', join(dir, 'data'), '--events', '--container', 'job']);
    assert.deepEqual(job.stdout.split('\n').filter((l) => l.startsWith('#')).map((l) => l.split(' ')[2]), ['ContainerCreated', 'ContainerStarted', 'ContainerExited', 'ContainerRemoved']);
    assert.equal(job.code, 1, 'job no longer exists at the end');
    assert.match(job.stderr, /Error: No such container: job \(as of position 10\)\n$/);
  });

  it('prints the container\'s inspect document as of then, the same online and offline', async () => {
    const online = await cli(['replay', '--until', '7', '--container', 'job', '--format', 'json']);
    const offline = await cli(['replay', '--log', join(dir, 'data'), '--until', '7', '--container', 'job', '--format', 'json']);
    assert.equal(offline.stdout, online.stdout);
    const report = JSON.parse(online.stdout) as { position: number; container: { Name: string; State: { ExitCode: number; Running: boolean } } };
    assert.equal(report.position, 7);
    assert.equal(report.container.Name, '/job');
    assert.equal(report.container.State.ExitCode, 3);
    assert.equal(report.container.State.Running, false);
  });

  it('needs no daemon for --log', async () => {
    const r = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(bin, ['replay', '--log', join(dir, 'data'), '--until', '4'], { env: { ...env, MINI_DOCKER_HOST: `unix://${join(dir, 'none.sock')}` }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.on('close', (code) => resolve({ code, stdout }));
    });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Up Less than a second\s+web\n$/);
  });

  it('explains a missing log', async () => {
    const r = await cli(['replay', '--log', join(dir, 'nope')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: no event log at .*nope\n$/);
  });
});

describe('replay helpers', () => {
  const e = (position: number, time: string) => ({ position, time }) as EventEnvelope;

  it('stops after a position or a time', () => {
    assert.equal(isPast(e(5, '2026-11-28T16:00:00Z'), { position: 5 }), false);
    assert.equal(isPast(e(6, '2026-11-28T16:00:00Z'), { position: 5 }), true);
    assert.equal(isPast(e(6, '2026-11-28T16:00:00.000000001Z'), { time: '2026-11-28T16:00:00.000000000Z' }), true);
    assert.equal(isPast(e(6, '2026-11-28T16:00:00Z'), { time: '2026-11-28T16:00:00.000000000Z' }), false);
    assert.equal(isPast(e(6, '2026-11-28T16:00:00Z'), undefined), false);
  });

  it('takes "now" from --until, else from the last event for a position, else the clock', () => {
    const state = { ...initialState(), time: '2026-11-28T16:00:00.5Z' };
    assert.equal(referenceTime(state, { time: '2026-11-28T17:00:00Z' }, 1), Date.parse('2026-11-28T17:00:00Z'));
    assert.equal(referenceTime(state, { position: 3 }, 1), Date.parse('2026-11-28T16:00:00.5Z'));
    assert.equal(referenceTime(state, undefined, 42), 42);
  });

  it('describes what an event changed', () => {
    const base = initialState();
    assert.deepEqual(describeEffect(base, base), ['no change to ps or inspect']);
  });
});
