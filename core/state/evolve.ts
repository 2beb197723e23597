import { restartPolicyAllows } from './restart-policy.js';
import type { EventEnvelope, NetworkEvent } from '../../events/index.js';
import { evolveNetworks, type NetworkState, type PredefinedNetwork, type PublishedPorts } from '../network/network-state.js';
import type { ContainerState, EngineState, ExecState, ImageState, VolumeState } from './engine-state.js';
import { ZERO_TIME } from './engine-state.js';

/** Bumped whenever the shape of EngineState or what the fold makes of an event changes, so older snapshots are ignored (2: restart policies, manuallyStopped, RestartCount as Docker counts it; 3: intents and start steps; 4: volumes; 5: networks and published ports; 6: a volume's copy-up at its first mount; 7: the pre-defined host and none networks, addresses released at exit; 8: a container's removed networks, a connect of a stopped container recorded without an address held; 9: a start's first step failure, kept for recovery; an exec's startTime). */
export const FOLD_VERSION = 9;

export function initialState(): EngineState {
  return { containers: {}, images: {}, volumes: {}, execs: {}, networks: {}, published: {}, predefined: {}, position: 0, time: ZERO_TIME };
}

/** The fold's working copy: the records are mutable, the entities in them are never mutated. */
interface Draft {
  containers: Record<string, ContainerState>;
  images: Record<string, ImageState>;
  volumes: Record<string, VolumeState>;
  execs: Record<string, ExecState>;
  networks: Readonly<Record<string, NetworkState>>;
  published: Readonly<Record<string, PublishedPorts>>;
  predefined: Readonly<Record<string, PredefinedNetwork>>;
  position: number;
  time: string;
}

function draftOf(state: EngineState): Draft {
  return {
    containers: { ...state.containers }, images: { ...state.images }, volumes: { ...state.volumes }, execs: { ...state.execs },
    networks: state.networks, published: state.published, predefined: state.predefined, position: state.position, time: state.time,
  };
}

/** Networks and published ports: the network fold (core/network/network-state.ts), with the event's place in the log. */
function applyNetworkEvent(d: Draft, e: EventEnvelope, event: NetworkEvent): void {
  const next = evolveNetworks(d, event, { streamVersion: e.streamVersion, time: e.time });
  d.networks = next.networks;
  d.published = next.published;
  d.predefined = next.predefined;
}

function setContainer(d: Draft, id: string, e: EventEnvelope, change: (c: ContainerState) => Partial<ContainerState>): void {
  const c = d.containers[id];
  if (c) d.containers[id] = { ...c, ...change(c), version: e.streamVersion, position: e.position };
}

function setImage(d: Draft, id: string, e: EventEnvelope, change: (i: ImageState) => Partial<ImageState>): void {
  const i = d.images[id];
  if (i) d.images[id] = { ...i, ...change(i), version: e.streamVersion };
}

function setExec(d: Draft, execId: string, change: (x: ExecState) => Partial<ExecState>): void {
  const x = d.execs[execId];
  if (x) d.execs[execId] = { ...x, ...change(x) };
}

/**
 * The fold: the state after one more event. Pure: no I/O, no clock, no drivers; the state given is
 * not changed. Replay and the live daemon both call only the fold, so what ps shows is exactly
 * what the log says.
 */
export function evolve(state: EngineState, e: EventEnvelope): EngineState {
  const d = draftOf(state);
  applyInPlace(d, e);
  return d;
}

/**
 * The same fold for a caller that owns its state and never shows the states in between (a replay
 * of many events, rebuild from a snapshot): it updates the records in place instead of copying
 * them per event, so folding N events costs O(N) rather than O(N x containers). Entities are still
 * replaced, never mutated, so one handed out earlier never changes.
 */
export function evolveOwned(state: EngineState, e: EventEnvelope): EngineState {
  const d = state as Draft;
  applyInPlace(d, e);
  return d;
}

/** Kill signals that stop a container for good: the restart policy leaves it stopped (as Docker). */
const STOPPING_SIGNALS: ReadonlySet<string> = new Set(['SIGKILL', 'KILL', '9', 'SIGTERM', 'TERM', '15']);

function applyInPlace(d: Draft, e: EventEnvelope): void {
  applyEvent(d, e);
  d.position = e.position;
  d.time = e.time;
}

function applyEvent(d: Draft, e: EventEnvelope): void {
  switch (e.type) {
    case 'ContainerCreated': {
      const x = e.data;
      d.containers[x.id] = {
        id: x.id, name: x.name, image: x.image, config: x.config, hostConfig: x.hostConfig, ...(x.endpointsConfig ? { endpointsConfig: x.endpointsConfig } : {}), created: e.time,
        status: 'created', pid: 0, shimPid: 0, exitCode: 0, signal: null, oomKilled: false, error: '',
        startedAt: ZERO_TIME, finishedAt: ZERO_TIME, restartCount: 0, manuallyStopped: false, starting: false, startSteps: [], startFailure: null,
        stopping: null, committing: null, drivers: [], execIds: [], volumes: x.volumes ?? [], removeVolumes: false,
        version: e.streamVersion, position: e.position,
      };
      // Its first mount: a volume it lists is never filled from an image again (Docker's copy-up).
      for (const v of x.volumes ?? []) {
        const volume = d.volumes[v.name];
        if (volume?.copyUp === 'pending') d.volumes[v.name] = { ...volume, copyUp: 'done' };
      }
      return;
    }
    case 'ContainerStarting':
      return setContainer(d, e.data.id, e, () => ({ starting: true, startSteps: [], startFailure: null }));
    case 'ContainerStartStepDone':
      return setContainer(d, e.data.id, e, (c) => ({ startSteps: [...c.startSteps, { kind: e.data.kind, driverId: e.data.driverId, output: e.data.output }] }));
    case 'ContainerStartStepFailed':
      // The first failure names the start's failure (StartStepError is the first driver that failed).
      return setContainer(d, e.data.id, e, (c) => (c.startFailure ? {} : { startFailure: { driverId: e.data.driverId, message: e.data.message, processStartCode: e.data.processStartCode ?? null } }));
    case 'ContainerStartStepUndone':
      return setContainer(d, e.data.id, e, (c) => ({ startSteps: c.startSteps.filter((s) => s.driverId !== e.data.driverId) }));
    case 'ContainerStarted':
      return setContainer(d, e.data.id, e, (c) => ({
        starting: false, stopping: null,
        status: 'running', pid: e.data.pid, shimPid: e.data.shimPid, drivers: e.data.drivers, startedAt: e.time,
        exitCode: 0, signal: null, oomKilled: false, error: '', manuallyStopped: false,
        restartCount: e.data.restart === true ? c.restartCount + 1 : 0,
      }));
    case 'ContainerStartFailed':
      // As Docker: a container that never ran stays "created" (with the exit code and the error).
      return setContainer(d, e.data.id, e, (c) => ({
        starting: false, startSteps: [], startFailure: null,
        status: c.startedAt === ZERO_TIME ? 'created' : 'exited', pid: 0, shimPid: 0, exitCode: e.data.exitCode, error: e.data.message, finishedAt: e.time,
      }));
    case 'ContainerExited':
      return setContainer(d, e.data.id, e, (c) => ({
        stopping: null,
        status: restartPolicyAllows(c, e.data.exitCode) ? 'restarting' : 'exited', pid: 0, shimPid: 0, exitCode: e.data.exitCode,
        signal: e.data.signal, oomKilled: e.data.oomKilled, finishedAt: e.data.finishedAt,
      }));
    case 'ContainerStopRequested':
      // A stop ends a pending restart too.
      return setContainer(d, e.data.id, e, (c) => ({
        manuallyStopped: true, ...(c.status === 'restarting' ? { status: 'exited' as const } : { stopping: c.status === 'running' || c.status === 'paused' ? { signal: e.data.signal, timeoutSeconds: e.data.timeoutSeconds } : null }),
      }));
    case 'ContainerKillRequested':
      return setContainer(d, e.data.id, e, () => (STOPPING_SIGNALS.has(e.data.signal.toUpperCase()) ? { manuallyStopped: true } : {}));
    case 'ContainerCommitting':
      return setContainer(d, e.data.id, e, () => ({ committing: { paused: e.data.paused, since: e.time } }));
    case 'ContainerCommitted':
    case 'ContainerCommitFailed':
      return setContainer(d, e.data.id, e, () => ({ committing: null }));
    case 'ContainerRemoving':
      return setContainer(d, e.data.id, e, () => ({ status: 'removing', removeVolumes: e.data.removeVolumes === true }));
    case 'ContainerRemoveStepDone':
      return setContainer(d, e.data.id, e, () => ({}));
    case 'ContainerPaused':
      return setContainer(d, e.data.id, e, () => ({ status: 'paused' }));
    case 'ContainerUnpaused':
      return setContainer(d, e.data.id, e, () => ({ status: 'running' }));
    case 'ContainerRemoved': {
      const c = d.containers[e.data.id];
      if (!c) return;
      for (const x of c.execIds) delete d.execs[x];
      delete d.containers[e.data.id];
      return;
    }
    case 'ContainerRenamed':
      return setContainer(d, e.data.id, e, () => ({ name: e.data.newName }));
    case 'ContainerLimitsUpdated':
      return setContainer(d, e.data.id, e, (c) => {
        const { RestartPolicy: old, ...rest } = c.hostConfig;
        const policy = e.data.restartPolicy === undefined ? old : e.data.restartPolicy ?? undefined;
        return { hostConfig: { ...rest, ...e.data.limits, ...(policy ? { RestartPolicy: policy } : {}) } };
      });
    case 'ExecCreated': {
      const x = e.data;
      setContainer(d, x.id, e, (c) => ({ execIds: [...c.execIds, x.execId] }));
      d.execs[x.execId] = {
        execId: x.execId, containerId: x.id, cmd: x.cmd, env: x.env, workingDir: x.workingDir, user: x.user, tty: x.tty,
        attachStdin: x.attachStdin, attachStdout: x.attachStdout, attachStderr: x.attachStderr, starting: false, running: false,
        pid: 0, startTime: null, exitCode: null, exitReason: '',
      };
      return;
    }
    case 'ExecStarting':
      setContainer(d, e.data.id, e, () => ({}));
      return setExec(d, e.data.execId, () => ({ starting: true }));
    case 'ExecStarted':
      setContainer(d, e.data.id, e, () => ({}));
      return setExec(d, e.data.execId, () => ({ starting: false, running: true, pid: e.data.pid, startTime: e.data.startTime ?? null }));
    case 'ExecExited':
      setContainer(d, e.data.id, e, () => ({}));
      return setExec(d, e.data.execId, () => ({ starting: false, running: false, exitCode: e.data.exitCode, exitReason: e.data.reason ?? '' }));
    case 'ImageCreated': {
      const x = e.data;
      d.images[x.id] = {
        id: x.id, origin: x.origin, source: x.source, parent: x.parent, layers: x.layers, config: x.config,
        history: x.history, created: x.created, architecture: x.architecture, os: x.os, tags: d.images[x.id]?.tags ?? [],
        ...(d.images[x.id]?.repoDigests ? { repoDigests: d.images[x.id]!.repoDigests } : {}),
        size: x.layers.reduce((n, l) => n + l.size, 0), version: e.streamVersion,
      };
      return;
    }
    case 'ImageTagged': {
      // A tag names one image: moving it takes it off the image that had it.
      for (const img of Object.values(d.images)) {
        if (img.id !== e.data.id && img.tags.includes(e.data.ref)) d.images[img.id] = { ...img, tags: img.tags.filter((t) => t !== e.data.ref) };
      }
      return setImage(d, e.data.id, e, (i) => ({ tags: i.tags.includes(e.data.ref) ? i.tags : [...i.tags, e.data.ref] }));
    }
    case 'ImageUntagged':
      return setImage(d, e.data.id, e, (i) => ({ tags: i.tags.filter((t) => t !== e.data.ref) }));
    case 'ImageRemoved':
      delete d.images[e.data.id];
      return;
    case 'ImagePulled':
    case 'ImagePushed': {
      const repoDigest = `${e.data.name}@${e.data.digest}`;
      // A name@digest names one image: keep the newest, as Docker does.
      return setImage(d, e.data.id, e, (i) => ({ repoDigests: [...(i.repoDigests ?? []).filter((r) => r !== repoDigest), repoDigest] }));
    }
    case 'VolumeCreating': {
      const x = e.data;
      d.volumes[x.name] = {
        name: x.name, driver: x.driver, labels: x.labels, options: x.options, anonymous: x.anonymous,
        ...(x.container !== undefined ? { container: x.container } : {}), createdAt: e.time, mountpoint: '', status: 'creating',
        copyUp: x.container !== undefined ? 'done' : 'pending',
      };
      return;
    }
    case 'VolumeCreated': {
      const v = d.volumes[e.data.name];
      if (v) d.volumes[e.data.name] = { ...v, mountpoint: e.data.mountpoint, status: 'created' };
      return;
    }
    case 'VolumeRemoving': {
      const v = d.volumes[e.data.name];
      if (v) d.volumes[e.data.name] = { ...v, status: 'removing' };
      return;
    }
    case 'VolumeRemoved':
      delete d.volumes[e.data.name];
      return;
    case 'VolumeCopyUpStarting': {
      const v = d.volumes[e.data.name];
      if (v) d.volumes[e.data.name] = { ...v, copyUp: 'copying', copyUpRoot: e.data.root };
      return;
    }
    case 'VolumeCopiedUp':
    case 'VolumeCopyUpUndone': {
      const v = d.volumes[e.data.name];
      if (!v) return;
      const { copyUpRoot: _root, ...rest } = v;
      d.volumes[e.data.name] = { ...rest, copyUp: e.type === 'VolumeCopiedUp' ? 'done' : 'pending' };
      return;
    }
    case 'NetworkRemoved': {
      // The stopped containers still connected keep the network as removed (a running one would have refused the removal).
      const gone = d.networks[e.data.id];
      applyNetworkEvent(d, e, e);
      for (const id of Object.keys(gone?.endpoints ?? {})) {
        const c = d.containers[id];
        if (c && gone) d.containers[id] = { ...c, removedNetworks: [...(c.removedNetworks ?? []), { id: gone.id, name: gone.name }] };
      }
      return;
    }
    case 'ContainerNetworkDisconnected': {
      const c = d.containers[e.data.id];
      const left = c?.removedNetworks?.filter((n) => n.id !== e.data.network);
      if (c && left && left.length !== c.removedNetworks?.length) {
        const { removedNetworks: _removed, ...rest } = c;
        d.containers[c.id] = left.length > 0 ? { ...rest, removedNetworks: left } : rest;
      }
      return applyNetworkEvent(d, e, e);
    }
    case 'NetworkCreated':
    case 'PredefinedNetworkCreated':
    case 'ContainerNetworkConnected':
    case 'ContainerNetworkReleased':
      return applyNetworkEvent(d, e, e);
    case 'ContainerPortsPublished':
    case 'ContainerPortsUnpublished':
      // On the container's stream: its version moves too.
      applyNetworkEvent(d, e, e);
      return setContainer(d, e.data.id, e, () => ({}));
    case 'DaemonStarted':
    case 'DaemonStopped':
    case 'DaemonReconciled':
      return;
  }
}

/** Folds a whole sequence (replay). */
export function foldAll(events: Iterable<EventEnvelope>, from: EngineState = initialState()): EngineState {
  const d = draftOf(from);
  for (const e of events) applyInPlace(d, e);
  return d;
}
