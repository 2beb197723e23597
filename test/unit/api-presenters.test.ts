// Unit: pure parts of the API layer (presenters, parsing, framing, event mapping). The presenters'
// input is the state the real fold makes of given events.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCreateRequest } from '../../core/api/create-request.js';
import { DockerEventMapper, matchesEventFilters, serializeDockerEvent } from '../../core/api/event-presenter.js';
import { parseFilters, queryBool, splitVersion } from '../../core/api/http-params.js';
import {
  familiarRef, humanDuration, presentContainerInspect, presentContainerSummary, presentImageHistory, presentStats, statusText, withTag,
} from '../../core/api/presenters.js';
import { normaliseSignal } from '../../core/api/signals.js';
import { frame, parseFrames } from '../../core/api/stdcopy.js';
import { fromUnixNanos, parseDockerTime, toUnixNanos } from '../../core/api/time.js';
import { EngineError } from '../../core/engine/errors.js';
import { findContainer, findImage } from '../../core/state/lookup.js';
import type { EngineState } from '../../core/state/engine-state.js';
import { containerStream, imageStream, type ContainerConfig, type EngineEvent, type EventEnvelope, type ImageConfig } from '../../events/index.js';
import { given } from '../fixtures/event-envelopes.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;

describe('humanDuration (go-units HumanDuration)', () => {
  const cases: [number, string][] = [
    [0, 'Less than a second'], [999, 'Less than a second'], [-5 * S, 'Less than a second'],
    [S, '1 second'], [2 * S, '2 seconds'], [59 * S + 999, '59 seconds'],
    [M, 'About a minute'], [2 * M - 1, 'About a minute'], [2 * M, '2 minutes'], [3 * M, '3 minutes'], [59 * M, '59 minutes'],
    [60 * M, 'About an hour'], [89 * M, 'About an hour'], [90 * M, '2 hours'], [47 * H, '47 hours'],
    [48 * H, '2 days'], [13 * 24 * H, '13 days'], [14 * 24 * H, '2 weeks'], [59 * 24 * H, '8 weeks'],
    [60 * 24 * H, '2 months'], [729 * 24 * H, '24 months'], [730 * 24 * H, '2 years'], [3 * 365 * 24 * H, '3 years'],
  ];
  for (const [ms, text] of cases) {
    it(`${ms} ms → ${text}`, () => assert.equal(humanDuration(ms), text));
  }
});

describe('statusText (moby State.String)', () => {
  const now = new Date('2026-11-28T16:10:00Z');
  const base = { startedAt: '0001-01-01T00:00:00Z', finishedAt: '0001-01-01T00:00:00Z', exitCode: 0 };
  it('running: Up 3 minutes', () => {
    assert.equal(statusText({ ...base, status: 'running', startedAt: '2026-11-28T16:06:59.123456789Z' }, now), 'Up 3 minutes');
  });
  it('exited: Exited (137) 2 seconds ago', () => {
    assert.equal(statusText({ ...base, status: 'exited', exitCode: 137, startedAt: '2026-11-28T16:00:00Z', finishedAt: '2026-11-28T16:09:58Z' }, now), 'Exited (137) 2 seconds ago');
  });
  it('created, and a failed start (never started), read Created', () => {
    assert.equal(statusText({ ...base, status: 'created' }, now), 'Created');
    assert.equal(statusText({ ...base, status: 'exited', exitCode: 127, finishedAt: '2026-11-28T16:09:00Z' }, now), 'Created');
  });
  it('paused and dead', () => {
    assert.equal(statusText({ ...base, status: 'paused', startedAt: '2026-11-28T14:10:00Z' }, now), 'Up 2 hours (Paused)');
    assert.equal(statusText({ ...base, status: 'dead' }, now), 'Dead');
  });
});

const WEB_ID = 'a1'.repeat(32);
const OLD_ID = 'c3'.repeat(32);
const BUSYBOX_ID = `sha256:${'b'.repeat(64)}`;
const IMAGE_CONFIG: ImageConfig = { Env: ['PATH=/bin'], Cmd: ['sh'], Entrypoint: null, WorkingDir: '', User: '', Labels: {} };

function config(cmd: string[], labels: Record<string, string> = {}): ContainerConfig {
  return {
    Cmd: cmd, Entrypoint: null, Env: IMAGE_CONFIG.Env, WorkingDir: '', User: '', Hostname: '', Tty: false, OpenStdin: false,
    StdinOnce: false, AttachStdin: false, AttachStdout: false, AttachStderr: false, Labels: labels,
  };
}

/** Given events (stream, event, time), the state the real fold makes of them: the presenters' input. */
function givenAt(events: readonly (readonly [string, EngineEvent, string])[]): EngineState {
  return given(events.map(([, event]) => event), { stream: (_, i) => events[i]![0], time: (i) => events[i]![2] });
}

/** busybox; old: run, then OOM-killed at 16:09:57.5; web: created at 16:05, running since 16:06:59 with limits and a label. */
const fixture = givenAt([
  [imageStream(BUSYBOX_ID), { type: 'ImageCreated', data: { id: BUSYBOX_ID, origin: 'import', source: '/tmp/busybox.tar', parent: null, layers: [{ diffId: `sha256:${'e'.repeat(64)}`, size: 1_200_000 }], config: IMAGE_CONFIG, history: [{ created: '2026-01-01T00:00:00Z', created_by: 'mini-docker import /tmp/busybox.tar', comment: 'Imported from /tmp/busybox.tar' }], created: '2026-01-01T00:00:00Z', architecture: 'amd64', os: 'linux' } }, '2026-11-28T15:10:00Z'],
  [imageStream(BUSYBOX_ID), { type: 'ImageTagged', data: { id: BUSYBOX_ID, ref: 'busybox:latest' } }, '2026-11-28T15:10:00Z'],
  [containerStream(OLD_ID), { type: 'ContainerCreated', data: { id: OLD_ID, name: 'old', image: { ref: 'busybox', id: BUSYBOX_ID }, config: config(['sleep', '100']), hostConfig: { AutoRemove: false, LogConfig: { Type: 'json-file', Config: {} } } } }, '2026-11-28T16:00:00Z'],
  [containerStream(OLD_ID), { type: 'ContainerStarted', data: { id: OLD_ID, pid: 4000, shimPid: 3999, drivers: ['storage.v1.overlayfs'] } }, '2026-11-28T16:00:10Z'],
  [containerStream(OLD_ID), { type: 'ContainerExited', data: { id: OLD_ID, name: 'old', exitCode: 137, signal: 9, oomKilled: true, finishedAt: '2026-11-28T16:09:57.5Z' } }, '2026-11-28T16:09:57.5Z'],
  [containerStream(WEB_ID), { type: 'ContainerCreated', data: { id: WEB_ID, name: 'web', image: { ref: 'busybox', id: BUSYBOX_ID }, config: config(['sleep', '1000'], { app: 'web' }), hostConfig: { AutoRemove: false, LogConfig: { Type: 'json-file', Config: {} }, Memory: 33554432, PidsLimit: 20 } } }, '2026-11-28T16:05:00Z'],
  [containerStream(WEB_ID), { type: 'ContainerStarted', data: { id: WEB_ID, pid: 4242, shimPid: 4241, drivers: ['storage.v1.overlayfs', 'limiter.v1.cgroups', 'log.v1.json-file', 'isolator.v1.namespaces'] } }, '2026-11-28T16:06:59.123Z'],
]);

describe('container presenters', () => {
  const engine = { container: (ref: string) => findContainer(fixture, ref) };
  it('summary has a leading slash on names, a command string and unix Created', () => {
    const s = presentContainerSummary(engine.container('web'), new Date('2026-11-28T16:10:00Z'));
    assert.deepEqual(s.Names, ['/web']);
    assert.equal(s.Id, WEB_ID);
    assert.equal(s.Command, 'sleep 1000');
    assert.equal(s.State, 'running');
    assert.equal(s.Status, 'Up 3 minutes');
    assert.equal(s.Created, Math.floor(Date.parse('2026-11-28T16:05:00Z') / 1000));
    assert.deepEqual(s.Labels, { app: 'web' });
  });
  it('inspect has Id, a non-null Config with Tty, State, limits in HostConfig and TinyDocker', () => {
    const i = presentContainerInspect(engine.container('web'), { storageDriver: 'storage.v1.overlayfs' });
    assert.equal(i.Id, WEB_ID);
    assert.equal(i.Name, '/web');
    assert.equal(i.Path, 'sleep');
    assert.deepEqual(i.Args, ['1000']);
    const config = i.Config as Record<string, unknown>;
    assert.equal(config.Tty, false);
    assert.deepEqual(config.Cmd, ['sleep', '1000']);
    assert.equal(config.Image, 'busybox');
    const state = i.State as Record<string, unknown>;
    assert.equal(state.Running, true);
    assert.equal(state.Pid, 4242);
    const hc = i.HostConfig as Record<string, unknown>;
    assert.equal(hc.Memory, 33554432);
    assert.equal(hc.PidsLimit, 20);
    assert.equal(hc.NanoCpus, 0);
    assert.equal(i.Driver, 'overlayfs');
    assert.deepEqual((i.TinyDocker as Record<string, unknown>).ShimPid, 4241);
  });
  it('an exited container that was OOM-killed says so', () => {
    const i = presentContainerInspect(engine.container(OLD_ID), { storageDriver: 'storage.v1.overlayfs' });
    const state = i.State as Record<string, unknown>;
    assert.equal(state.OOMKilled, true);
    assert.equal(state.ExitCode, 137);
    assert.equal(state.Running, false);
  });
  it('stats: Docker field names, precpu from the previous reading, zeros for a stopped container', () => {
    const reading = { read: '2026-11-28T16:00:01Z', cpuUsageNanos: 20, systemCpuNanos: 200, onlineCpus: 2, memoryUsage: 100, memoryLimit: 1000, memoryCache: 10, pids: 3, pidsLimit: 20, blkioReadBytes: 1, blkioWriteBytes: 2 };
    const s = presentStats({ id: 'x', name: 'web' }, reading, { ...reading, cpuUsageNanos: 10, systemCpuNanos: 100 });
    assert.deepEqual((s.cpu_stats as { cpu_usage: unknown }).cpu_usage, { total_usage: 20, usage_in_kernelmode: 0, usage_in_usermode: 0 });
    assert.equal((s.precpu_stats as { system_cpu_usage: number }).system_cpu_usage, 100);
    assert.deepEqual(s.memory_stats, { usage: 100, limit: 1000, stats: { cache: 10 } });
    assert.deepEqual(s.pids_stats, { current: 3, limit: 20 });
    assert.equal(s.name, '/web');
    assert.deepEqual(s.networks, {});
    assert.equal(presentStats({ id: 'x', name: 'web' }, undefined).read, '0001-01-01T00:00:00Z');
    assert.equal('psi' in (s.cpu_stats as object), false, 'no psi where the kernel keeps none');
  });
  it('stats: PSI as psi {some, full} under cpu_stats, memory_stats and blkio_stats where the limiter read it', () => {
    const some = { avg10: 1.5, avg60: 0.5, avg300: 0.1, total: 12345 };
    const full = { avg10: 0, avg60: 0, avg300: 0, total: 10 };
    const reading = {
      read: '2026-11-28T16:00:01Z', cpuUsageNanos: 20, systemCpuNanos: 200, onlineCpus: 2, memoryUsage: 100, memoryLimit: 1000, memoryCache: 10,
      pids: 3, pidsLimit: 20, blkioReadBytes: 1, blkioWriteBytes: 2, pressure: { cpu: { some }, memory: { some, full }, io: { some, full } },
    };
    const s = presentStats({ id: 'x', name: 'web' }, reading);
    assert.deepEqual((s.cpu_stats as { psi: unknown }).psi, { some });
    assert.deepEqual((s.memory_stats as { psi: unknown }).psi, { some, full });
    assert.deepEqual((s.blkio_stats as { psi: unknown }).psi, { some, full });
    assert.equal('psi' in (s.precpu_stats as object), false);
  });
});

describe('image presenters and references', () => {
  it('familiar forms', () => {
    assert.equal(familiarRef('docker.io/library/snap'), 'snap');
    assert.equal(familiarRef('docker.io/library/alpine:3.19'), 'alpine:3.19');
    assert.equal(familiarRef('docker.io/user/app:1'), 'user/app:1');
    assert.equal(familiarRef('quay.io/x/y'), 'quay.io/x/y');
    assert.equal(withTag('docker.io/library/alpine', '3.19'), 'alpine:3.19');
    assert.equal(withTag('busybox'), 'busybox:latest');
    assert.equal(withTag('localhost:5000/app'), 'localhost:5000/app:latest');
  });
  it('history is newest first with the id and tags on top', () => {
    const image = findImage(fixture, 'busybox');
    const rows = presentImageHistory(image);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.Id, BUSYBOX_ID);
    assert.deepEqual(rows[0]!.Tags, ['busybox:latest']);
    assert.equal(rows[0]!.Size, 1_200_000);
  });
});

describe('request parsing', () => {
  it('moby booleans', () => {
    const q = new URLSearchParams('a=1&b=true&c=0&d=false&e=no&f=none&g=&h=yes');
    assert.deepEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((k) => queryBool(q, k)), [true, true, false, false, false, false, false, true]);
    assert.equal(queryBool(q, 'absent', true), true);
  });
  it('filters in map and legacy list forms', () => {
    assert.deepEqual([...parseFilters('{"status":{"exited":true},"name":{"web":true}}')], [['status', ['exited']], ['name', ['web']]]);
    assert.deepEqual([...parseFilters('{"container":["abc"],"type":["container"]}')], [['container', ['abc']], ['type', ['container']]]);
    assert.equal(parseFilters('').size, 0);
    assert.throws(() => parseFilters('{nope'), (e: unknown) => e instanceof EngineError && e.status === 400);
  });
  it('version prefixes', () => {
    assert.deepEqual(splitVersion('/v1.50/containers/json'), { version: '1.50', path: '/containers/json' });
    assert.deepEqual(splitVersion('/v1.24/version'), { version: '1.24', path: '/version' });
    assert.deepEqual(splitVersion('/containers/json'), { version: '1.50', path: '/containers/json' });
    assert.throws(() => splitVersion('/v1.12/version'), /client version 1.12 is too old. Minimum supported API version is 1.24/);
    assert.throws(() => splitVersion('/v1.51/version'), /client version 1.51 is too new. Maximum supported API version is 1.50/);
  });
  it('signals in all the forms clients send', () => {
    assert.equal(normaliseSignal('TERM'), 'SIGTERM');
    assert.equal(normaliseSignal('SIGTERM'), 'SIGTERM');
    assert.equal(normaliseSignal('15'), 'SIGTERM');
    assert.equal(normaliseSignal('sigkill'), 'SIGKILL');
    assert.throws(() => normaliseSignal('SIGNOPE'), /Invalid signal: SIGNOPE/);
  });
  it('create body: Config fields, HostConfig limits, binds and ports, and warnings for what we ignore', () => {
    const { request, warnings } = parseCreateRequest({
      Image: 'busybox', Cmd: ['sh', '-c', 'exit 3'], Entrypoint: null, Env: ['A=1'], Tty: true, OpenStdin: true, Labels: { a: 'b' },
      HostConfig: {
        Memory: 33554432, MemorySwap: -1, MemoryReservation: 1000, NanoCpus: 500000000, CpuQuota: 50000, CpuPeriod: 100000,
        CpuShares: 512, CpusetCpus: '0', CpusetMems: '', PidsLimit: 20, BlkioWeight: 300,
        BlkioDeviceReadBps: [{ Path: '/dev/sda', Rate: 1048576 }], BlkioDeviceWriteBps: null, AutoRemove: true,
        LogConfig: { Type: 'json-file', Config: { 'max-size': '1m' } }, ConsoleSize: [40, 120], NetworkMode: 'default',
        Binds: ['/a:/b'], Mounts: [{ Type: 'bind', Source: '/c', Target: '/d', ReadOnly: true, BindOptions: {} }],
        RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, PortBindings: { '80/tcp': [{ HostPort: '8080' }] },
      },
    }, '/job');
    assert.equal(request.name, 'job');
    assert.equal(request.image, 'busybox');
    assert.deepEqual(request.config.Cmd, ['sh', '-c', 'exit 3']);
    assert.equal(request.config.Entrypoint, undefined);
    assert.equal(request.config.Tty, true);
    assert.deepEqual(request.hostConfig, {
      Memory: 33554432, MemorySwap: -1, MemoryReservation: 1000, NanoCpus: 500000000, CpuQuota: 50000, CpuPeriod: 100000,
      CpuShares: 512, CpusetCpus: '0', PidsLimit: 20, BlkioWeight: 300, BlkioDeviceReadBps: [{ Path: '/dev/sda', Rate: 1048576 }],
      AutoRemove: true, LogConfig: { Type: 'json-file', Config: { 'max-size': '1m' } }, ConsoleSize: [40, 120],
      Binds: ['/a:/b'], Mounts: [{ Type: 'bind', Source: '/c', Target: '/d', ReadOnly: true }],
      NetworkMode: 'default', PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] },
    });
    assert.deepEqual(warnings, []);
  });
  it('create body: --log-opt without --log-driver keeps the options for the default driver', () => {
    const withOpts = parseCreateRequest({ Image: 'x', HostConfig: { LogConfig: { Type: '', Config: { 'max-size': '1m' } } } }, undefined);
    assert.deepEqual(withOpts.request.hostConfig.LogConfig, { Type: '', Config: { 'max-size': '1m' } });
    const bare = parseCreateRequest({ Image: 'x', HostConfig: { LogConfig: { Type: '', Config: {} } } }, undefined);
    assert.equal(bare.request.hostConfig.LogConfig, undefined);
  });
  it('create body: a hostname that is no host name (a line break, a space, a label over 63 characters) is a 400, before it reaches /etc/hosts', () => {
    for (const bad of ['web\n1.2.3.4 bank.example', 'two words', 'x'.repeat(65)]) {
      assert.throws(() => parseCreateRequest({ Image: 'x', Hostname: bad }, undefined), (err: unknown) => err instanceof EngineError && err.status === 400 && /^invalid hostname format: /.test(err.message), bad);
    }
    assert.equal(parseCreateRequest({ Image: 'x', Hostname: 'db-1.internal-a' }, undefined).request.config.Hostname, 'db-1.internal-a');
  });
  it('create body: wrong types are a 400 naming the field', () => {
    assert.throws(() => parseCreateRequest({ Image: 'x', HostConfig: { Memory: '1g' } }, undefined), /invalid value for Memory/);
    assert.throws(() => parseCreateRequest({ Cmd: ['x'] }, undefined), /Image is required/);
  });
});

describe('stdcopy and time', () => {
  it('frames: 8-byte header, type, big-endian length', () => {
    assert.deepEqual([...frame(1, 'hi\n')], [1, 0, 0, 0, 0, 0, 0, 3, 0x68, 0x69, 0x0a]);
    assert.equal(frame(2, '').length, 0);
    const { frames, rest } = parseFrames(Buffer.concat([frame(1, 'a'), frame(2, 'bc'), Buffer.from([1, 0, 0])]));
    assert.deepEqual(frames.map((f) => [f.stream, f.payload.toString()]), [[1, 'a'], [2, 'bc']]);
    assert.equal(rest.length, 3);
  });
  it('exact nanoseconds', () => {
    assert.equal(toUnixNanos('2026-11-28T16:04:51.592270080Z'), 1795881891592270080n);
    assert.equal(fromUnixNanos(1795881891592270080n), '2026-11-28T16:04:51.592270080Z');
    assert.equal(parseDockerTime('1700000000.5', 'since'), 1700000000500000000n);
    assert.equal(parseDockerTime('1700000000', 'since'), 1700000000000000000n);
  });
});

describe('Docker events from envelopes', () => {
  const envelope = (position: number, type: EventEnvelope['type'], data: unknown, time = '2026-11-28T16:04:51.592270080Z'): EventEnvelope =>
    ({ position, streamId: containerStream(WEB_ID), streamVersion: position, time, type, schemaVersion: 1, data, metadata: {} }) as EventEnvelope;

  it('create carries image and name; die carries exitCode; an OOM exit emits oom before die', () => {
    const mapper = new DockerEventMapper();
    const [create] = mapper.map(envelope(1, 'ContainerCreated', {
      id: WEB_ID, name: 'web', image: { ref: 'busybox', id: 'sha256:' + 'b'.repeat(64) },
      config: { Cmd: ['true'], Entrypoint: null, Env: [], WorkingDir: '', User: '', Hostname: '', Tty: false, OpenStdin: false, StdinOnce: false, AttachStdin: false, AttachStdout: false, AttachStderr: false, Labels: { app: 'web' } },
      hostConfig: { AutoRemove: false, LogConfig: { Type: 'json-file', Config: {} } },
    }));
    assert.equal(serializeDockerEvent(create!), `{"status":"create","id":"${WEB_ID}","from":"busybox","Type":"container","Action":"create","Actor":{"ID":"${WEB_ID}","Attributes":{"app":"web","image":"busybox","name":"web"}},"scope":"local","time":1795881891,"Position":1,"timeNano":1795881891592270080}`);
    mapper.map(envelope(2, 'ContainerStarted', { id: WEB_ID, pid: 1, shimPid: 2, drivers: [] }, '2026-11-28T16:04:41Z'));
    const events = mapper.map(envelope(3, 'ContainerExited', { id: WEB_ID, exitCode: 137, signal: 9, oomKilled: true, finishedAt: '2026-11-28T16:04:51Z' }));
    assert.deepEqual(events.map((e) => e.Action), ['oom', 'die']);
    assert.equal(events[1]!.Actor.Attributes.exitCode, '137');
    assert.equal(events[1]!.Actor.Attributes.execDuration, '10');
    assert.equal(events[1]!.Actor.Attributes.name, 'web');
  });
  it('a failed start is a die without exitCode (its process never ran: State.ExitCode is no exit of it); with the steps, its error', () => {
    const data = { id: WEB_ID, driver: 'isolator.v1.namespaces', message: 'exec: "nosuch": executable file not found in $PATH', exitCode: 127 };
    const lookup = { container: () => ({ name: 'web', image: 'busybox', labels: {} }) };
    const plain = new DockerEventMapper(lookup).map(envelope(1, 'ContainerStartFailed', data));
    assert.deepEqual(plain.map((e) => [e.Action, e.Actor.Attributes]), [['die', { image: 'busybox', name: 'web' }]]);
    const steps = new DockerEventMapper(lookup, '', true).map(envelope(1, 'ContainerStartFailed', data));
    assert.deepEqual(steps.map((e) => [e.Action, e.Actor.Attributes]), [['die', { image: 'busybox', name: 'web', error: data.message }]]);
  });
  it('kill carries the signal number; exec actions carry the command; names of removed containers are remembered', () => {
    const mapper = new DockerEventMapper({ container: () => ({ name: 'web', image: 'busybox', labels: {} }) });
    assert.equal(mapper.map(envelope(1, 'ContainerKillRequested', { id: WEB_ID, signal: 'SIGTERM' }))[0]!.Actor.Attributes.signal, '15');
    const [created] = mapper.map(envelope(2, 'ExecCreated', { id: WEB_ID, execId: 'e1', cmd: ['sh', '-c', 'exit 5'], env: [], workingDir: '', user: '', tty: false, attachStdin: false, attachStdout: true, attachStderr: true }));
    assert.equal(created!.Action, 'exec_create: sh -c exit 5');
    assert.equal(mapper.map(envelope(3, 'ExecStarted', { id: WEB_ID, execId: 'e1', pid: 3 }))[0]!.Action, 'exec_start: sh -c exit 5');
    const [died] = mapper.map(envelope(4, 'ExecExited', { id: WEB_ID, execId: 'e1', exitCode: 5 }));
    assert.equal(died!.Action, 'exec_die');
    assert.equal(died!.Actor.Attributes.exitCode, '5');
    const [destroy] = mapper.map(envelope(5, 'ContainerRemoved', { id: WEB_ID }));
    assert.equal(destroy!.Actor.Attributes.name, 'web');
  });
  it('network events: the network is the actor, the container an attribute; the port events are steps', () => {
    const NET = 'c'.repeat(64);
    const mapper = new DockerEventMapper();
    const [created] = mapper.map(envelope(1, 'NetworkCreated', {
      id: NET, name: 'app', driver: 'bridge', subnet: '172.18.0.0/16', gateway: '172.18.0.1', internal: false, labels: {}, bridge: 'mdbr-cccccccc', mtu: 1500, dns: true,
    }));
    assert.deepEqual([created!.Type, created!.Action, created!.Actor.ID, created!.Actor.Attributes], ['network', 'create', NET, { name: 'app', type: 'bridge' }]);
    const [connected] = mapper.map(envelope(2, 'ContainerNetworkConnected', { network: NET, id: WEB_ID, ip: '172.18.0.2', mac: '02:42:ac:12:00:02', aliases: [], interface: 'eth0' }));
    assert.deepEqual([connected!.Action, connected!.Actor.ID, connected!.Actor.Attributes], ['connect', NET, { container: WEB_ID, name: 'app', type: 'bridge' }]);
    assert.deepEqual(mapper.map(envelope(3, 'ContainerPortsPublished', { id: WEB_ID, network: NET, ports: [] })), []);
    assert.ok(matchesEventFilters(connected!, parseFilters('{"type":{"network":true}}')));
    const [destroyed] = mapper.map(envelope(4, 'NetworkRemoved', { id: NET }));
    assert.deepEqual([destroyed!.Action, destroyed!.Actor.Attributes.name], ['destroy', 'app']);
    const withSteps = new DockerEventMapper({ container: () => ({ name: 'web', image: 'busybox', labels: {} }) }, '', true);
    assert.equal(withSteps.map(envelope(5, 'ContainerPortsUnpublished', { id: WEB_ID }))[0]!.Action, 'ports-unpublish');
  });
  it('network events moby does not log: a stopped container connected (held: false), and let go of a network removed while it was stopped; steps only', () => {
    const NET = 'd'.repeat(64);
    const stopped = { network: NET, id: WEB_ID, ip: '172.18.0.2', mac: '02:42:ac:12:00:02', aliases: [], interface: 'eth0', held: false };
    const gone = { network: NET, id: WEB_ID, removed: true };
    const mapper = new DockerEventMapper();
    assert.deepEqual(mapper.map(envelope(1, 'ContainerNetworkConnected', stopped)), []);
    assert.deepEqual(mapper.map(envelope(2, 'ContainerNetworkDisconnected', gone)), []);
    assert.equal(mapper.map(envelope(3, 'ContainerNetworkDisconnected', { network: NET, id: WEB_ID }))[0]!.Action, 'disconnect', 'an ordinary disconnect is shown');
    const withSteps = new DockerEventMapper({}, '', true);
    assert.deepEqual(withSteps.map(envelope(1, 'ContainerNetworkConnected', stopped)).map((e) => e.Action), ['connect']);
    assert.deepEqual(withSteps.map(envelope(2, 'ContainerNetworkDisconnected', gone)).map((e) => e.Action), ['disconnect']);
  });
  it('filters: type, container by name or id prefix, event (exec actions by prefix), image', () => {
    const mapper = new DockerEventMapper({ container: () => ({ name: 'web', image: 'busybox', labels: {} }) });
    const [ev] = mapper.map(envelope(1, 'ExecCreated', { id: WEB_ID, execId: 'e1', cmd: ['ls'], env: [], workingDir: '', user: '', tty: false, attachStdin: false, attachStdout: true, attachStderr: true }));
    assert.ok(matchesEventFilters(ev!, parseFilters('{"type":{"container":true},"container":{"web":true},"event":{"exec_create":true}}')));
    assert.ok(matchesEventFilters(ev!, parseFilters(`{"container":["${WEB_ID.slice(0, 12)}"]}`)));
    assert.ok(matchesEventFilters(ev!, parseFilters('{"image":{"busybox:latest":true}}')));
    assert.ok(!matchesEventFilters(ev!, parseFilters('{"event":{"die":true}}')));
    assert.ok(!matchesEventFilters(ev!, parseFilters('{"type":{"image":true}}')));
  });
});
