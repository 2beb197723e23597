/**
 * A small, deterministic in-memory Engine for testing the API layer only (unit). State is the
 * real fold of the events the fake appends, so presenters see what the daemon will show. Process
 * behaviour is scripted from the command: `echo a b` prints and exits 0, `sh -c 'exit N'` exits N,
 * `cat` echoes stdin until EOF, `sleep` runs until stopped, `nosuch` fails to start (127).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Observable, Subject } from 'rxjs';
import { createApiServer } from '../../core/api/api-server.js';
import { readTar, TarWriter } from '../../core/archive/index.js';
import { goFileMode, type ContainerPathStat } from '../../core/archive/path-stat.js';
import type { Engine, EngineInfo, EventQuery, OutputChunk, StreamSession, WaitCondition } from '../../core/engine/engine.js';
import { ConflictError, NotFoundError, NotModifiedError, StartFailedError } from '../../core/engine/errors.js';
import type { FileChange, LogEntry, ResourceStats } from '../../core/plugins/driver.js';
import type { ContainerState, EngineState, ExecState, ImageState } from '../../core/state/engine-state.js';
import { evolve, initialState } from '../../core/state/evolve.js';
import { findContainer, findImage, normaliseTag } from '../../core/state/lookup.js';
import {
  SCHEMA_VERSIONS, containerStream, imageStream, type ContainerConfig, type EngineEvent, type EventEnvelope, type ImageConfig,
} from '../../events/index.js';

export const BUSYBOX_ID = `sha256:${'b'.repeat(64)}`;
export const WEB_ID = 'a1'.repeat(32);
export const OLD_ID = 'c3'.repeat(32);
export const TERM_ID = 'd4'.repeat(32);

/** A StreamSession the test drives: emit output, finish with an exit code, read what stdin got. */
export class FakeSession implements StreamSession {
  readonly output = new Subject<OutputChunk>();
  readonly exitCode: Promise<number>;
  readonly stdin: Buffer[] = [];
  stdinClosed = false;
  detached = false;
  onStdin: ((data: Buffer) => void) | undefined;
  onStdinEnd: (() => void) | undefined;
  private resolveExit!: (code: number) => void;
  private finished = false;

  constructor(readonly tty: boolean) {
    this.exitCode = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
  }

  write(data: Buffer): void {
    this.stdin.push(data);
    this.onStdin?.(data);
  }

  closeStdin(): void {
    this.stdinClosed = true;
    this.onStdinEnd?.();
  }

  close(): void {
    this.detached = true;
  }

  emit(stream: 'stdout' | 'stderr', text: string): void {
    this.output.next({ stream, data: Buffer.from(text) });
  }

  finish(code: number): void {
    if (this.finished) return;
    this.finished = true;
    this.resolveExit(code);
    this.output.complete();
  }
}

interface Waiter {
  readonly id: string;
  readonly condition: WaitCondition;
  readonly resolve: (r: { exitCode: number }) => void;
}

const IMAGE_CONFIG: ImageConfig = { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], Entrypoint: null, WorkingDir: '', User: '', Labels: {} };

function config(cmd: string[], overrides: Partial<ContainerConfig> = {}): ContainerConfig {
  return {
    Cmd: cmd, Entrypoint: null, Env: IMAGE_CONFIG.Env, WorkingDir: '', User: '', Hostname: '', Tty: false, OpenStdin: false,
    StdinOnce: false, AttachStdin: false, AttachStdout: false, AttachStderr: false, Labels: {}, ...overrides,
  };
}

function iso(msAgo: number, now: number): string {
  return new Date(now - msAgo).toISOString();
}

export class FakeEngine implements Engine {
  readonly envelopes: EventEnvelope[] = [];
  readonly live = new Subject<EventEnvelope>();
  readonly sessions: FakeSession[] = [];
  readonly calls: string[] = [];
  readonly logEntries = new Map<string, LogEntry[]>();
  readonly logAppended = new Subject<{ id: string; entry: LogEntry }>();
  /** Files of each container (by id, then absolute path) for the archive routes: regular files in /, nothing else. */
  readonly files = new Map<string, Map<string, Buffer>>();
  abortedWaits = 0;
  private current: EngineState = initialState();
  private readonly versions = new Map<string, number>();
  private waiters: Waiter[] = [];
  private readonly attached = new Map<string, FakeSession[]>();
  private counter = 0;

  constructor(now = Date.now()) {
    const t = (msAgo: number): string => iso(msAgo, now);
    this.append(imageStream(BUSYBOX_ID), { type: 'ImageCreated', data: { id: BUSYBOX_ID, origin: 'import', source: '/tmp/busybox.tar', parent: null, layers: [{ diffId: `sha256:${'e'.repeat(64)}`, size: 1_200_000 }], config: IMAGE_CONFIG, history: [{ created: '2026-01-01T00:00:00Z', created_by: 'mini-docker import /tmp/busybox.tar', comment: 'Imported from /tmp/busybox.tar' }], created: '2026-01-01T00:00:00Z', architecture: 'amd64', os: 'linux' } }, t(3_600_000));
    this.append(imageStream(BUSYBOX_ID), { type: 'ImageTagged', data: { id: BUSYBOX_ID, ref: 'busybox:latest' } }, t(3_600_000));
    const image = { ref: 'busybox', id: BUSYBOX_ID };
    const hostConfig = { AutoRemove: false, LogConfig: { Type: 'json-file', Config: {} }, Memory: 33554432, PidsLimit: 20 };
    this.append(containerStream(OLD_ID), { type: 'ContainerCreated', data: { id: OLD_ID, name: 'old', image, config: config(['sleep', '100']), hostConfig: { AutoRemove: false, LogConfig: { Type: 'json-file', Config: {} } } } }, t(600_000));
    this.append(containerStream(OLD_ID), { type: 'ContainerStarted', data: { id: OLD_ID, pid: 4000, shimPid: 3999, drivers: ['storage.v1.overlayfs'] } }, t(590_000));
    this.append(containerStream(OLD_ID), { type: 'ContainerExited', data: { id: OLD_ID, name: 'old', exitCode: 137, signal: 9, oomKilled: true, finishedAt: t(2_500) } }, t(2_500));
    this.append(containerStream(WEB_ID), { type: 'ContainerCreated', data: { id: WEB_ID, name: 'web', image, config: config(['sleep', '1000'], { Labels: { app: 'web' } }), hostConfig } }, t(300_000));
    this.append(containerStream(WEB_ID), { type: 'ContainerStarted', data: { id: WEB_ID, pid: 4242, shimPid: 4241, drivers: ['storage.v1.overlayfs', 'limiter.v1.cgroups', 'log.v1.json-file', 'isolator.v1.namespaces'] } }, t(190_000));
    this.append(containerStream(TERM_ID), { type: 'ContainerCreated', data: { id: TERM_ID, name: 'term', image, config: config(['sh'], { Tty: true, OpenStdin: true }), hostConfig: { AutoRemove: false, LogConfig: { Type: 'json-file', Config: {} } } } }, t(120_000));
    this.append(containerStream(TERM_ID), { type: 'ContainerStarted', data: { id: TERM_ID, pid: 5000, shimPid: 4999, drivers: [] } }, t(60_000));
    this.logEntries.set(WEB_ID, [
      { stream: 'stdout', time: '2026-11-28T16:00:00.000000001Z', data: Buffer.from('line 1\n') },
      { stream: 'stderr', time: '2026-11-28T16:00:01.000000002Z', data: Buffer.from('oops 1\n') },
      { stream: 'stdout', time: '2026-11-28T16:00:02.000000003Z', data: Buffer.from('line 2\nline 3\n') },
    ]);
    this.logEntries.set(TERM_ID, [{ stream: 'stdout', time: '2026-11-28T16:00:00.5Z', data: Buffer.from('$ ls\r\n') }]);
  }

  /** Appends an event (validated only by types), folds it and publishes it live. */
  append(streamId: string, event: EngineEvent, time = new Date().toISOString()): EventEnvelope {
    const version = (this.versions.get(streamId) ?? 0) + 1;
    this.versions.set(streamId, version);
    const envelope = {
      position: this.envelopes.length + 1, streamId, streamVersion: version, time, type: event.type,
      schemaVersion: SCHEMA_VERSIONS[event.type], data: event.data, metadata: {},
    } as EventEnvelope;
    this.envelopes.push(envelope);
    this.current = evolve(this.current, envelope);
    this.live.next(envelope);
    return envelope;
  }

  state(): EngineState {
    return this.current;
  }

  info(): EngineInfo {
    return {
      id: 'FAKE:ENGINE', version: '0.0.0-test', dataRoot: '/var/lib/mini-docker', execRoot: '/run/mini-docker',
      plugins: [
        { id: 'storage.v1.overlayfs', package: '@tiny-docker/storage-overlayfs', status: 'ok' },
        { id: 'log.v1.json-file', package: '@tiny-docker/log-json-file', status: 'ok' },
        { id: 'limiter.v1.cgroups', package: '@tiny-docker/limiter-cgroups', status: 'skipped', reason: 'no cgroup v2' },
      ],
      storageDriver: 'storage.v1.overlayfs', cgroupVersion: '1', lastPosition: this.envelopes.length,
    };
  }

  container(ref: string): ContainerState {
    return findContainer(this.current, ref);
  }

  image(ref: string): ImageState {
    return findImage(this.current, ref);
  }

  exec(execId: string): ExecState {
    const x = this.current.execs[execId];
    if (!x) throw new NotFoundError(`No such exec instance: ${execId}`);
    return x;
  }

  private nextId(): string {
    return createHash('sha256').update(`fake-${++this.counter}`).digest('hex');
  }

  async createContainer(request: Parameters<Engine['createContainer']>[0]): Promise<{ id: string; warnings: readonly string[] }> {
    this.calls.push(`create ${JSON.stringify(request)}`);
    const img = this.image(request.image);
    const name = request.name ?? `fake_${this.counter + 1}`;
    if (Object.values(this.current.containers).some((c) => c.name === name)) {
      const taken = Object.values(this.current.containers).find((c) => c.name === name)!;
      throw new ConflictError(`Conflict. The container name "/${name}" is already in use by container "${taken.id}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
    const id = this.nextId();
    this.append(containerStream(id), {
      type: 'ContainerCreated',
      data: {
        id, name, image: { ref: request.image, id: img.id },
        config: { ...config(img.config.Cmd ? [...img.config.Cmd] : []), ...request.config },
        hostConfig: { AutoRemove: false, LogConfig: { Type: 'json-file', Config: {} }, ...request.hostConfig },
      },
    });
    return { id, warnings: [] };
  }

  private exited(id: string, exitCode: number, signal: number | null = null): void {
    this.append(containerStream(id), { type: 'ContainerExited', data: { id, name: this.state().containers[id]?.name ?? '', exitCode, signal, oomKilled: false, finishedAt: new Date().toISOString() } });
    for (const s of this.attached.get(id) ?? []) s.finish(exitCode);
    this.attached.delete(id);
    this.settle(id, exitCode, ['not-running', 'next-exit']);
    if (this.current.containers[id]?.hostConfig.AutoRemove) this.removed(id, exitCode);
  }

  private removed(id: string, exitCode: number): void {
    this.append(containerStream(id), { type: 'ContainerRemoved', data: { id } });
    this.settle(id, exitCode, ['removed', 'not-running']);
  }

  private settle(id: string, exitCode: number, conditions: WaitCondition[]): void {
    const [done, rest] = [this.waiters.filter((w) => w.id === id && conditions.includes(w.condition)), this.waiters.filter((w) => w.id !== id || !conditions.includes(w.condition))];
    this.waiters = rest;
    for (const w of done) w.resolve({ exitCode });
  }

  async startContainer(ref: string): Promise<void> {
    const c = this.container(ref);
    this.calls.push(`start ${c.name}`);
    if (c.status === 'running') throw new NotModifiedError('container already started');
    const cmd = [...(c.config.Entrypoint ?? []), ...c.config.Cmd];
    if (cmd[0] === 'nosuch') {
      this.append(containerStream(c.id), { type: 'ContainerStartFailed', data: { id: c.id, driver: 'isolator.v1.namespaces', message: 'exec: "nosuch": executable file not found in $PATH', exitCode: 127 } });
      this.settle(c.id, 127, ['not-running', 'next-exit']);
      if (c.hostConfig.AutoRemove) this.removed(c.id, 127);
      throw new StartFailedError('failed to create task for container: exec: "nosuch": executable file not found in $PATH', 127);
    }
    this.append(containerStream(c.id), { type: 'ContainerStarted', data: { id: c.id, pid: 7000 + this.counter, shimPid: 6999, drivers: [] } });
    const sessions = (): FakeSession[] => this.attached.get(c.id) ?? [];
    if (cmd[0] === 'echo') {
      setTimeout(() => {
        for (const s of sessions()) {
          s.emit('stdout', `${cmd.slice(1).join(' ')}\n`);
          if (!c.config.Tty) s.emit('stderr', 'stderr line\n');
        }
        this.exited(c.id, 0);
      }, 20);
    } else if (cmd[0] === 'sh' && cmd[1] === '-c' && /^exit \d+$/.test(cmd[2] ?? '')) {
      setTimeout(() => this.exited(c.id, Number(cmd[2]!.slice(5))), 20);
    }
  }

  async stopContainer(ref: string, options: { timeoutSeconds?: number; signal?: string }): Promise<void> {
    const c = this.container(ref);
    this.calls.push(`stop ${c.name} ${options.timeoutSeconds ?? '-'} ${options.signal ?? '-'}`);
    if (c.status !== 'running') throw new NotModifiedError('container already stopped');
    this.exited(c.id, 143, 15);
  }

  async restartContainer(ref: string): Promise<void> {
    const c = this.container(ref);
    if (c.status === 'running') this.exited(c.id, 143, 15);
    await this.startContainer(c.id);
  }

  async killContainer(ref: string, signal: string): Promise<void> {
    const c = this.container(ref);
    this.calls.push(`kill ${c.name} ${signal}`);
    if (c.status !== 'running') throw new ConflictError(`container ${c.id} is not running`);
    this.append(containerStream(c.id), { type: 'ContainerKillRequested', data: { id: c.id, signal } });
    this.exited(c.id, signal === 'SIGKILL' ? 137 : 143, signal === 'SIGKILL' ? 9 : 15);
  }

  async removeContainer(ref: string, options: { force: boolean }): Promise<void> {
    const c = this.container(ref);
    if (c.status === 'running' && !options.force) {
      throw new ConflictError(`cannot remove container "/${c.name}": container is running: stop the container before removing or force remove`);
    }
    if (c.status === 'running') this.exited(c.id, 137, 9);
    if (this.current.containers[c.id]) this.removed(c.id, this.current.containers[c.id]!.exitCode);
  }

  async renameContainer(ref: string, newName: string): Promise<void> {
    const c = this.container(ref);
    this.append(containerStream(c.id), { type: 'ContainerRenamed', data: { id: c.id, oldName: c.name, newName } });
  }

  /** The fake has no networks: connecting to one is a 404, as a daemon without it would say. */
  async connectContainer(networkRef: string): Promise<void> {
    throw new NotFoundError(`network ${networkRef} not found`);
  }

  async disconnectContainer(networkRef: string): Promise<void> {
    throw new NotFoundError(`network ${networkRef} not found`);
  }

  async updateContainer(ref: string, limits: Parameters<Engine['updateContainer']>[1]): Promise<void> {
    const c = this.container(ref);
    this.append(containerStream(c.id), { type: 'ContainerLimitsUpdated', data: { id: c.id, limits } });
  }

  waitContainer(ref: string, condition: WaitCondition, signal?: AbortSignal): Promise<{ exitCode: number; error?: string }> {
    const c = this.container(ref);
    this.calls.push(`wait ${c.name} ${condition}`);
    if (condition === 'not-running' && c.status !== 'running' && c.status !== 'paused') return Promise.resolve({ exitCode: c.exitCode });
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { id: c.id, condition, resolve };
      this.waiters.push(waiter);
      signal?.addEventListener('abort', () => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        this.abortedWaits++;
        reject(new Error('wait aborted'));
      }, { once: true });
    });
  }

  async attachContainer(ref: string, options: { stdin: boolean; stdout: boolean; stderr: boolean; logs: boolean }): Promise<StreamSession> {
    const c = this.container(ref);
    this.calls.push(`attach ${c.name} ${JSON.stringify(options)}`);
    const session = new FakeSession(c.config.Tty);
    this.sessions.push(session);
    this.attached.set(c.id, [...(this.attached.get(c.id) ?? []), session]);
    return session;
  }

  async resizeContainer(ref: string, rows: number, cols: number): Promise<void> {
    this.calls.push(`resize ${this.container(ref).name} ${rows} ${cols}`);
  }

  async topContainer(ref: string, psArgs?: string): Promise<{ titles: readonly string[]; processes: readonly (readonly string[])[] }> {
    const c = this.container(ref);
    this.calls.push(`top ${c.name} ${psArgs ?? '-'}`);
    return { titles: ['PID', 'CMD'], processes: [[String(c.pid), c.config.Cmd.join(' ')]] };
  }

  async containerSize(ref: string): Promise<{ sizeRw: number; sizeRootFs: number }> {
    this.container(ref);
    return { sizeRw: 12, sizeRootFs: 2_000_012 };
  }

  /** A fixed set of changes, one of each kind, so the route and the CLI can be checked. */
  async containerChanges(ref: string): Promise<readonly FileChange[]> {
    this.calls.push(`changes ${this.container(ref).name}`);
    return [{ path: '/etc', kind: 'modified' }, { path: '/etc/new', kind: 'added' }, { path: '/gone', kind: 'deleted' }];
  }

  private fileOf(ref: string, path: string): { id: string; content: Buffer; name: string } {
    const c = this.container(ref);
    const name = path.replace(/^\/+/, '');
    const content = this.files.get(c.id)?.get(`/${name}`);
    if (content === undefined) throw new NotFoundError(`Could not find the file ${path} in container ${ref}`);
    return { id: c.id, content, name };
  }

  async statContainerPath(ref: string, path: string): Promise<ContainerPathStat> {
    const { content, name } = this.fileOf(ref, path);
    this.calls.push(`stat ${this.container(ref).name} ${path}`);
    return { name, size: content.length, mode: goFileMode(0o100644), mtime: '2026-01-01T00:00:00Z', linkTarget: '' };
  }

  async archiveContainerPath(ref: string, path: string, open: (stat: ContainerPathStat) => NodeJS.WritableStream): Promise<void> {
    const stat = await this.statContainerPath(ref, path);
    const { content, name } = this.fileOf(ref, path);
    const out = open(stat);
    const writer = new TarWriter(out);
    await writer.add({ path: name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 1_767_225_600, size: content.length }, content);
    await writer.finish();
    out.end();
  }

  async extractToContainer(ref: string, path: string, tar: Readable, options: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean }): Promise<void> {
    const c = this.container(ref);
    if (path !== '/') throw new NotFoundError(`Could not find the file ${path} in container ${ref}`);
    this.calls.push(`extract ${c.name} ${path} ${options.noOverwriteDirNonDir} ${options.copyUIDGID}`);
    const files = this.files.get(c.id) ?? new Map<string, Buffer>();
    this.files.set(c.id, files);
    for await (const { header, body } of readTar(tar)) {
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(Buffer.from(chunk));
      if (header.type === 'file') files.set(`/${header.path.replace(/^\/+/, '')}`, Buffer.concat(chunks));
    }
  }

  logs(ref: string, options: Parameters<Engine['logs']>[1]): AsyncIterable<LogEntry> {
    const c = this.container(ref);
    const all = (this.logEntries.get(c.id) ?? []).filter((e) => (e.stream === 'stdout' ? options.stdout : options.stderr));
    const backlog = options.tail === undefined ? all : options.tail === 0 ? [] : all.slice(-options.tail);
    const live = this.logAppended;
    return {
      async *[Symbol.asyncIterator](): AsyncGenerator<LogEntry> {
        yield* backlog;
        if (!options.follow) return;
        const queue: LogEntry[] = [];
        let wake: (() => void) | undefined;
        const sub = live.subscribe(({ id, entry }) => {
          if (id === c.id) {
            queue.push(entry);
            wake?.();
          }
        });
        const onAbort = (): void => wake?.();
        options.signal?.addEventListener('abort', onAbort);
        try {
          while (!options.signal?.aborted) {
            const next = queue.shift();
            if (next) {
              yield next;
              continue;
            }
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
          }
        } finally {
          sub.unsubscribe();
          options.signal?.removeEventListener('abort', onAbort);
        }
      },
    };
  }

  async stats(ref: string): Promise<ResourceStats> {
    const c = this.container(ref);
    this.counter++;
    return {
      read: new Date().toISOString(), cpuUsageNanos: 1_000_000 * this.counter, systemCpuNanos: 10_000_000 * this.counter, onlineCpus: 2,
      memoryUsage: 1_048_576, memoryLimit: c.hostConfig.Memory ?? 8_000_000_000, memoryCache: 4096, pids: 1, pidsLimit: c.hostConfig.PidsLimit ?? 0,
      blkioReadBytes: 10, blkioWriteBytes: 20,
    };
  }

  async pauseContainer(ref: string): Promise<void> {
    const c = this.container(ref);
    this.append(containerStream(c.id), { type: 'ContainerPaused', data: { id: c.id } });
  }

  async unpauseContainer(ref: string): Promise<void> {
    const c = this.container(ref);
    this.append(containerStream(c.id), { type: 'ContainerUnpaused', data: { id: c.id } });
  }

  async createExec(ref: string, request: Parameters<Engine['createExec']>[1]): Promise<string> {
    const c = this.container(ref);
    if (c.status !== 'running') throw new ConflictError(`container ${c.id} is not running`);
    const execId = this.nextId();
    this.append(containerStream(c.id), {
      type: 'ExecCreated',
      data: {
        id: c.id, execId, cmd: request.cmd, env: request.env ?? [], workingDir: request.workingDir ?? '', user: request.user ?? '',
        tty: request.tty, attachStdin: request.attachStdin, attachStdout: request.attachStdout, attachStderr: request.attachStderr,
      },
    });
    return execId;
  }

  async startExec(execId: string, options: Parameters<Engine['startExec']>[1]): Promise<StreamSession> {
    const x = this.exec(execId);
    this.calls.push(`exec-start ${x.cmd.join(' ')} ${JSON.stringify(options)}`);
    if (x.running || x.exitCode !== null) throw new ConflictError(`exec ${execId} has already been started`);
    this.append(containerStream(x.containerId), { type: 'ExecStarted', data: { id: x.containerId, execId, pid: 9000 } });
    const session = new FakeSession(x.tty);
    this.sessions.push(session);
    const exit = (code: number): void => {
      this.append(containerStream(x.containerId), { type: 'ExecExited', data: { id: x.containerId, execId, exitCode: code } });
      session.finish(code);
    };
    const [cmd, ...args] = x.cmd;
    if (options.detach) {
      setTimeout(() => exit(0), 5);
    } else if (cmd === 'cat') {
      session.onStdin = (d) => session.emit('stdout', d.toString());
      session.onStdinEnd = () => setTimeout(() => {
        session.emit('stdout', 'after eof\n');
        exit(0);
      }, 20);
    } else if (cmd === 'echo') {
      setTimeout(() => {
        session.emit('stdout', `${args.join(' ')}\n`);
        exit(0);
      }, 20);
    } else if (cmd === 'sh' && args[0] === '-c' && /^exit \d+$/.test(args[1] ?? '')) {
      setTimeout(() => exit(Number(args[1]!.slice(5))), 20);
    }
    return session;
  }

  async resizeExec(execId: string, rows: number, cols: number): Promise<void> {
    this.exec(execId);
    this.calls.push(`exec-resize ${rows} ${cols}`);
  }

  async importImage(source: NodeJS.ReadableStream | string, request: Parameters<Engine['importImage']>[1], progress?: Parameters<Engine['importImage']>[2]): Promise<string> {
    const hash = createHash('sha256');
    let size = 0;
    if (typeof source !== 'string') {
      for await (const chunk of source as Readable) {
        const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
        hash.update(b);
        size += b.length;
        progress?.({ phase: 'Reading', current: size });
      }
    }
    const id = `sha256:${hash.digest('hex')}`;
    this.calls.push(`import ${JSON.stringify(request)} ${size}`);
    this.append(imageStream(id), { type: 'ImageCreated', data: { id, origin: 'import', source: '-', parent: null, layers: [{ diffId: id, size }], config: IMAGE_CONFIG, history: [{ created: new Date().toISOString(), created_by: 'import', comment: request.message ?? '' }], created: new Date().toISOString(), architecture: 'amd64', os: 'linux' } });
    if (request.repo) this.append(imageStream(id), { type: 'ImageTagged', data: { id, ref: normaliseTag(request.tag ? `${request.repo}:${request.tag}` : request.repo) } });
    return id;
  }

  async tagImage(ref: string, repo: string, tag?: string): Promise<void> {
    const img = this.image(ref);
    this.append(imageStream(img.id), { type: 'ImageTagged', data: { id: img.id, ref: `${repo}:${tag ?? 'latest'}` } });
  }

  async removeImage(ref: string, options: { force: boolean }): Promise<readonly { Untagged?: string; Deleted?: string }[]> {
    const img = this.image(ref);
    if (!options.force && Object.values(this.current.containers).some((c) => c.image.id === img.id)) {
      throw new ConflictError(`conflict: unable to remove repository reference "${ref}" (must force) - container is using its referenced image ${img.id.slice(7, 19)}`);
    }
    this.append(imageStream(img.id), { type: 'ImageRemoved', data: { id: img.id } });
    return [...img.tags.map((t) => ({ Untagged: t })), { Deleted: img.id }];
  }

  async commitContainer(ref: string, request: Parameters<Engine['commitContainer']>[1]): Promise<string> {
    const c = this.container(ref);
    this.calls.push(`commit ${c.name} ${JSON.stringify(request)}`);
    const id = `sha256:${this.nextId()}`;
    this.append(containerStream(c.id), { type: 'ContainerCommitted', data: { id: c.id, imageId: id, ref: request.repo ? `${request.repo}:${request.tag ?? 'latest'}` : null } });
    return id;
  }

  async exportContainer(ref: string, out: NodeJS.WritableStream): Promise<void> {
    this.container(ref);
    out.write(Buffer.from('fake tar of the container'));
  }

  async saveImages(refs: readonly string[], out: NodeJS.WritableStream): Promise<void> {
    out.write(Buffer.from(`fake tar of ${refs.join(',')}`));
  }

  async loadImages(source: NodeJS.ReadableStream): Promise<readonly string[]> {
    for await (const chunk of source as Readable) void chunk;
    return ['loaded:v1', BUSYBOX_ID];
  }

  imageConfigOf(ref: string): ImageConfig {
    return this.image(ref).config;
  }

  events(query: EventQuery): Observable<EventEnvelope> {
    const after = (e: EventEnvelope): boolean => {
      if (query.since?.position !== undefined) return e.position > query.since.position;
      if (query.since?.time !== undefined) return e.time > query.since.time;
      return false;
    };
    const beyond = (e: EventEnvelope): boolean => {
      if (query.until?.position !== undefined) return e.position > query.until.position;
      if (query.until?.time !== undefined) return e.time > query.until.time;
      return false;
    };
    // Like the real engine: the backlog is read asynchronously, then live events follow.
    return new Observable<EventEnvelope>((subscriber) => {
      const backlog = this.envelopes.filter(after);
      const buffered: EventEnvelope[] = [];
      let replaying = true;
      const sub = this.live.subscribe((e) => {
        if (replaying) buffered.push(e);
        else if (beyond(e)) subscriber.complete();
        else subscriber.next(e);
      });
      const timer = setTimeout(() => {
        for (const e of backlog) {
          if (beyond(e)) {
            subscriber.complete();
            return;
          }
          subscriber.next(e);
        }
        replaying = false;
        for (const e of buffered.splice(0)) {
          if (beyond(e)) subscriber.complete();
          else subscriber.next(e);
        }
        const untilPast = query.until?.time !== undefined ? query.until.time <= new Date().toISOString() : query.until?.position !== undefined && query.until.position <= this.envelopes.length;
        if (untilPast) subscriber.complete();
      }, 5);
      return () => {
        clearTimeout(timer);
        sub.unsubscribe();
      };
    });
  }

  async replay(until: { position?: number; time?: string }): Promise<EngineState> {
    let s = initialState();
    for (const e of this.envelopes) {
      if (until.position !== undefined && e.position > until.position) break;
      if (until.time !== undefined && e.time > until.time) break;
      s = evolve(s, e);
    }
    return s;
  }

  async pruneImages(all: boolean): Promise<{ deleted: readonly { Untagged?: string; Deleted?: string }[]; spaceReclaimed: number }> {
    this.calls.push(`prune images all=${all}`);
    return { deleted: [], spaceReclaimed: 0 };
  }

  async pruneContainers(): Promise<{ deleted: readonly string[]; spaceReclaimed: number }> {
    const gone = Object.values(this.current.containers).filter((c) => c.status === 'exited' || c.status === 'created');
    for (const c of gone) this.removed(c.id, c.exitCode);
    return { deleted: gone.map((c) => c.id), spaceReclaimed: 0 };
  }

  /** Test helper: the container's output appears in its log (for logs --follow). */
  appendLog(id: string, entry: LogEntry): void {
    this.logEntries.set(id, [...(this.logEntries.get(id) ?? []), entry]);
    this.logAppended.next({ id, entry });
  }

  /** Test helper: the container's process exits now. */
  exit(ref: string, code: number): void {
    this.exited(this.container(ref).id, code);
  }

  /** Test helper: the sessions attached to a container that are still open. */
  attachedTo(ref: string): FakeSession[] {
    return this.attached.get(this.container(ref).id) ?? [];
  }
}

// ---------------------------------------------------------------------------------------------
// Harness: the API server over a real unix socket in a temp dir, with the fake behind it.
// ---------------------------------------------------------------------------------------------

export interface HttpReply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface Harness<E extends Engine = FakeEngine> {
  readonly engine: E;
  readonly socketPath: string;
  readonly dir: string;
  request(method: string, path: string, options?: { headers?: Record<string, string>; body?: string | Buffer }): Promise<HttpReply>;
  /** Sends a request and resolves with the response as soon as its headers arrive (the body keeps streaming). */
  open(method: string, path: string, options?: { headers?: Record<string, string>; body?: string | Buffer }): Promise<{ res: http.IncomingMessage; req: http.ClientRequest }>;
  /** A raw connection (half-close capable) for hijack tests. */
  connect(): Promise<RawClient>;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness>;
export async function startHarness<E extends Engine>(engine: E): Promise<Harness<E>>;
export async function startHarness(engine: Engine = new FakeEngine()): Promise<Harness<Engine>> {
  const dir = await mkdtemp(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'api-'));
  const socketPath = join(dir, 'api.sock');
  const server = createApiServer(engine, { version: '0.1.0-test' });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));

  const open: Harness['open'] = (method, path, options = {}) => new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path, headers: options.headers ?? {}, agent: false }, (res) => resolve({ res, req }));
    req.on('error', reject);
    req.end(options.body);
  });

  return {
    engine,
    socketPath,
    dir,
    open,
    async request(method, path, options) {
      const { res } = await open(method, path, options);
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
    },
    connect() {
      return new Promise((resolve, reject) => {
        const s = net.connect({ path: socketPath, allowHalfOpen: true }, () => resolve(new RawClient(s)));
        s.on('error', reject);
      });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A raw connection that keeps everything it received, for hijack tests. */
export class RawClient {
  data = Buffer.alloc(0);
  ended = false;
  closed = false;
  private readonly listeners = new Set<() => void>();

  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.data = Buffer.concat([this.data, chunk]);
      this.notify();
    });
    socket.on('end', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  /** Resolves with all bytes so far once `done` holds; rejects on timeout or when the socket ended first. */
  waitFor(done: (data: Buffer) => boolean, timeoutMs = 3000): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (done(this.data)) {
          cleanup();
          resolve(this.data);
        } else if (this.ended || this.closed) {
          cleanup();
          reject(new Error(`connection ended; got ${JSON.stringify(this.data.toString('latin1'))}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out; got ${JSON.stringify(this.data.toString('latin1'))}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Resolves with all bytes once the server closed its side. */
  waitEnd(timeoutMs = 3000): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.ended || this.closed) {
          cleanup();
          resolve(this.data);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no end; got ${JSON.stringify(this.data.toString('latin1'))}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }
}
