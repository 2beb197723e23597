import type { EventEnvelope } from '../../events/index.js';
import type { ContainerState, EngineState, ExecState, ImageState } from './engine-state.js';
import { ZERO_TIME } from './engine-state.js';

/** Bumped whenever the shape of EngineState changes, so older snapshots are ignored. */
export const FOLD_VERSION = 1;

export function initialState(): EngineState {
  return { containers: {}, images: {}, execs: {}, position: 0, time: ZERO_TIME };
}

function withContainer(state: EngineState, id: string, e: EventEnvelope, change: (c: ContainerState) => Partial<ContainerState>): EngineState {
  const c = state.containers[id];
  if (!c) return state;
  return {
    ...state,
    containers: { ...state.containers, [id]: { ...c, ...change(c), version: e.streamVersion, position: e.position } },
  };
}

function withImage(state: EngineState, id: string, e: EventEnvelope, change: (i: ImageState) => Partial<ImageState>): EngineState {
  const i = state.images[id];
  if (!i) return state;
  return { ...state, images: { ...state.images, [id]: { ...i, ...change(i), version: e.streamVersion } } };
}

function withExec(state: EngineState, execId: string, change: (x: ExecState) => Partial<ExecState>): EngineState {
  const x = state.execs[execId];
  if (!x) return state;
  return { ...state, execs: { ...state.execs, [execId]: { ...x, ...change(x) } } };
}

function without<T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> {
  const copy = { ...record };
  delete copy[key];
  return copy;
}

/**
 * The fold: the state after one more event. Pure: no I/O, no clock, no drivers. Replay and the
 * live daemon both call only this, so what ps shows is exactly what the log says.
 */
export function evolve(state: EngineState, e: EventEnvelope): EngineState {
  const next = applyEvent(state, e);
  return { ...next, position: e.position, time: e.time };
}

function applyEvent(state: EngineState, e: EventEnvelope): EngineState {
  switch (e.type) {
    case 'ContainerCreated': {
      const d = e.data;
      const c: ContainerState = {
        id: d.id, name: d.name, image: d.image, config: d.config, hostConfig: d.hostConfig, created: e.time,
        status: 'created', pid: 0, shimPid: 0, exitCode: 0, signal: null, oomKilled: false, error: '',
        startedAt: ZERO_TIME, finishedAt: ZERO_TIME, restartCount: 0, drivers: [], execIds: [],
        version: e.streamVersion, position: e.position,
      };
      return { ...state, containers: { ...state.containers, [d.id]: c } };
    }
    case 'ContainerStarted':
      return withContainer(state, e.data.id, e, (c) => ({
        status: 'running', pid: e.data.pid, shimPid: e.data.shimPid, drivers: e.data.drivers, startedAt: e.time,
        exitCode: 0, signal: null, oomKilled: false, error: '',
        restartCount: c.startedAt === ZERO_TIME ? c.restartCount : c.restartCount + 1,
      }));
    case 'ContainerStartFailed':
      return withContainer(state, e.data.id, e, () => ({
        status: 'exited', pid: 0, shimPid: 0, exitCode: e.data.exitCode, error: e.data.message, finishedAt: e.time,
      }));
    case 'ContainerExited':
      return withContainer(state, e.data.id, e, () => ({
        status: 'exited', pid: 0, shimPid: 0, exitCode: e.data.exitCode, signal: e.data.signal,
        oomKilled: e.data.oomKilled, finishedAt: e.data.finishedAt,
      }));
    case 'ContainerStopRequested':
    case 'ContainerKillRequested':
    case 'ContainerCommitted':
      return withContainer(state, e.data.id, e, () => ({}));
    case 'ContainerPaused':
      return withContainer(state, e.data.id, e, () => ({ status: 'paused' }));
    case 'ContainerUnpaused':
      return withContainer(state, e.data.id, e, () => ({ status: 'running' }));
    case 'ContainerRemoved': {
      const c = state.containers[e.data.id];
      if (!c) return state;
      let execs = state.execs;
      for (const x of c.execIds) execs = without(execs, x);
      return { ...state, containers: without(state.containers, e.data.id), execs };
    }
    case 'ContainerRenamed':
      return withContainer(state, e.data.id, e, () => ({ name: e.data.newName }));
    case 'ContainerLimitsUpdated':
      return withContainer(state, e.data.id, e, (c) => ({ hostConfig: { ...c.hostConfig, ...e.data.limits } }));
    case 'ExecCreated': {
      const d = e.data;
      const x: ExecState = {
        execId: d.execId, containerId: d.id, cmd: d.cmd, env: d.env, workingDir: d.workingDir, user: d.user, tty: d.tty,
        attachStdin: d.attachStdin, attachStdout: d.attachStdout, attachStderr: d.attachStderr, running: false, pid: 0,
        exitCode: null,
      };
      const withC = withContainer(state, d.id, e, (c) => ({ execIds: [...c.execIds, d.execId] }));
      return { ...withC, execs: { ...withC.execs, [d.execId]: x } };
    }
    case 'ExecStarted':
      return withExec(withContainer(state, e.data.id, e, () => ({})), e.data.execId, () => ({ running: true, pid: e.data.pid }));
    case 'ExecExited':
      return withExec(withContainer(state, e.data.id, e, () => ({})), e.data.execId, () => ({ running: false, exitCode: e.data.exitCode }));
    case 'ImageCreated': {
      const d = e.data;
      const existing = state.images[d.id];
      const img: ImageState = {
        id: d.id, origin: d.origin, source: d.source, parent: d.parent, layers: d.layers, config: d.config,
        history: d.history, created: d.created, architecture: d.architecture, os: d.os, tags: existing?.tags ?? [],
        size: d.layers.reduce((n, l) => n + l.size, 0), version: e.streamVersion,
      };
      return { ...state, images: { ...state.images, [d.id]: img } };
    }
    case 'ImageTagged': {
      // A tag names one image: moving it takes it off the image that had it.
      let images = state.images;
      for (const img of Object.values(images)) {
        if (img.id !== e.data.id && img.tags.includes(e.data.ref)) {
          images = { ...images, [img.id]: { ...img, tags: img.tags.filter((t) => t !== e.data.ref) } };
        }
      }
      const s = { ...state, images };
      return withImage(s, e.data.id, e, (i) => ({ tags: i.tags.includes(e.data.ref) ? i.tags : [...i.tags, e.data.ref] }));
    }
    case 'ImageUntagged':
      return withImage(state, e.data.id, e, (i) => ({ tags: i.tags.filter((t) => t !== e.data.ref) }));
    case 'ImageRemoved':
      return { ...state, images: without(state.images, e.data.id) };
    case 'DaemonStarted':
    case 'DaemonStopped':
    case 'DaemonReconciled':
      return state;
  }
}

/** Folds a whole sequence (replay). */
export function foldAll(events: Iterable<EventEnvelope>, from: EngineState = initialState()): EngineState {
  let s = from;
  for (const e of events) s = evolve(s, e);
  return s;
}
