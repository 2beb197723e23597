/**
 * Maps the engine's event envelopes to Docker's event messages (docs/docker-api-compat.md,
 * "Events: engine facts → Docker messages") and filters
 * them like moby. The mapper remembers what it saw (names, images, exec commands, start times)
 * so events of containers that are gone still carry their name; a lookup into the current state
 * fills in what the stream did not show.
 */
import { DOCKER_ACTIONS, type ContainerVolume, type EventEnvelope } from '../../events/index.js';
import { familiarRef, withTag } from './image-presenters.js';
import type { Filters } from './http-params.js';
import { signalNumber } from './signals.js';
import { toUnixNanos } from './time.js';

/** One Docker event as `GET /events` streams it. */
export interface DockerEvent {
  /** Deprecated copies kept for old clients (container and image events only). */
  status?: string;
  id?: string;
  from?: string;
  Type: 'container' | 'image' | 'volume' | 'daemon' | 'network';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  /** Exact: a JS number cannot hold nanoseconds since 1970; see serializeDockerEvent. */
  timeNano: bigint;
  /** tiny-docker's addition: the event's position in the log (what `replay --until` takes). */
  Position: number;
}

/** What the mapper can ask about things it did not see created in the stream. */
export interface EventLookup {
  container?(id: string): { name: string; image: string; labels: Readonly<Record<string, string>>; volumes?: readonly ContainerVolume[] } | undefined;
  /** A volume's driver name, for volumes whose VolumeCreating the stream did not show. */
  volumeDriver?(name: string): string | undefined;
  exec?(execId: string): { cmd: readonly string[] } | undefined;
  network?(id: string): { name: string; driver: string } | undefined;
}

interface KnownContainer {
  name: string;
  image: string;
  labels: Readonly<Record<string, string>>;
  volumes: readonly ContainerVolume[];
  startedAt?: bigint;
}

const NANOS_PER_SECOND = 1_000_000_000n;

/** A stateful mapper for one event stream. */
export class DockerEventMapper {
  private readonly containers = new Map<string, KnownContainer>();
  private readonly execs = new Map<string, readonly string[]>();
  private readonly networks = new Map<string, { name: string; driver: string }>();
  private readonly volumeDrivers = new Map<string, string>();

  /** `steps`: also the intents and driver steps (not Docker events: only a client that asks gets them). */
  constructor(private readonly lookup: EventLookup = {}, private readonly daemonId = '', private readonly steps = false) {}

  private container(id: string): KnownContainer {
    let known = this.containers.get(id);
    if (!known) {
      const found = this.lookup.container?.(id);
      known = found ? { name: found.name, image: found.image, labels: found.labels, volumes: found.volumes ?? [] } : { name: '', image: '', labels: {}, volumes: [] };
      this.containers.set(id, known);
    }
    return known;
  }

  private networkAttributes(id: string): Record<string, string> {
    const n = this.networks.get(id) ?? this.lookup.network?.(id);
    return n ? { name: n.name, type: n.driver } : {};
  }

  private execCmd(execId: string): readonly string[] {
    return this.execs.get(execId) ?? this.lookup.exec?.(execId)?.cmd ?? [];
  }

  private volumeDriver(name: string): string {
    return this.volumeDrivers.get(name) ?? this.lookup.volumeDriver?.(name) ?? 'local';
  }

  /** The Docker messages for one envelope: none, one, or several (`oom` before `die`; a volume `mount` per volume before `start`, `unmount` after `die`). */
  map(e: EventEnvelope): DockerEvent[] {
    const nanos = toUnixNanos(e.time) ?? 0n;
    const defaultAction = DOCKER_ACTIONS[e.type][1];
    const make = (t: DockerEvent['Type'], action: string, id: string, attributes: Record<string, string>): DockerEvent => {
      const ev: DockerEvent = {
        Type: t,
        Action: action,
        Actor: { ID: id, Attributes: attributes },
        scope: 'local',
        time: Number(nanos / NANOS_PER_SECOND),
        timeNano: nanos,
        Position: e.position,
      };
      if (t === 'container') return { status: action, id, from: attributes.image ?? '', ...ev };
      if (t === 'image') return { status: action, id, ...ev };
      return ev;
    };
    const forContainer = (id: string, action: string, extra: Record<string, string> = {}): DockerEvent => {
      const c = this.container(id);
      return make('container', action, id, { ...c.labels, image: c.image, name: c.name, ...extra });
    };
    // moby's volume mount/unmount: one per volume of the container, around its start and its exit.
    const forVolumes = (id: string, action: 'mount' | 'unmount'): DockerEvent[] =>
      this.container(id).volumes.map((v) => make('volume', action, v.name, action === 'mount'
        ? { container: id, destination: v.destination, driver: this.volumeDriver(v.name), propagation: '', 'read/write': String(!v.readOnly) }
        : { container: id, driver: this.volumeDriver(v.name) }));

    switch (e.type) {
      case 'ContainerCreated': {
        const d = e.data;
        this.containers.set(d.id, { name: d.name, image: d.image.ref, labels: { ...(d.config.Labels ?? {}) }, volumes: d.volumes ?? [] });
        return [forContainer(d.id, defaultAction)];
      }
      case 'ContainerStarted':
        this.container(e.data.id).startedAt = nanos;
        return [...forVolumes(e.data.id, 'mount'), forContainer(e.data.id, defaultAction)];
      case 'ContainerStartFailed':
        // The process never ran: no exitCode (State.ExitCode is set by the failed start's rule, e.g. 127
        // for a command not found, not by an exit of this start). dockerd 20.10 sends no event at all
        // here, which leaves the docker CLI at API 1.24 with --rm waiting forever (it has no AutoRemove
        // and removes the container itself at the die); this `die` ends its wait. From 1.25 the
        // daemon's auto-removal ends the CLI's wait. With the steps, the error too.
        return [forContainer(e.data.id, defaultAction, this.steps ? { error: e.data.message } : {})];
      case 'ContainerExited': {
        const d = e.data;
        const out: DockerEvent[] = [];
        if (d.oomKilled) out.push(forContainer(d.id, 'oom'));
        const extra: Record<string, string> = { exitCode: String(d.exitCode) };
        const started = this.container(d.id).startedAt;
        const finished = toUnixNanos(d.finishedAt);
        if (started !== undefined && finished !== undefined && finished >= started) extra.execDuration = String((finished - started) / NANOS_PER_SECOND);
        out.push(forContainer(d.id, defaultAction, extra));
        return [...out, ...forVolumes(d.id, 'unmount')];
      }
      case 'ContainerKillRequested': {
        const n = signalNumber(e.data.signal);
        return [forContainer(e.data.id, defaultAction, { signal: n === undefined ? e.data.signal : String(n) })];
      }
      case 'ContainerRenamed': {
        const c = this.container(e.data.id);
        c.name = e.data.newName;
        return [forContainer(e.data.id, defaultAction, { oldName: `/${e.data.oldName}` })];
      }
      case 'ContainerCommitted':
        return [forContainer(e.data.id, defaultAction, { comment: '', imageID: e.data.imageId, ...(e.data.ref ? { imageRef: familiarRef(e.data.ref) } : {}) })];
      case 'ContainerRemoved': {
        const ev = forContainer(e.data.id, defaultAction);
        this.containers.delete(e.data.id);
        return [ev];
      }
      case 'ContainerStopRequested':
      case 'ContainerLimitsUpdated':
      case 'ContainerPaused':
      case 'ContainerUnpaused':
        return [forContainer(e.data.id, defaultAction)];
      case 'ExecCreated':
        this.execs.set(e.data.execId, e.data.cmd);
        return [forContainer(e.data.id, `${defaultAction}: ${e.data.cmd.join(' ')}`, { execID: e.data.execId })];
      case 'ExecStarted':
        return [forContainer(e.data.id, `${defaultAction}: ${this.execCmd(e.data.execId).join(' ')}`, { execID: e.data.execId })];
      case 'ExecExited':
        return [forContainer(e.data.id, defaultAction, { execID: e.data.execId, exitCode: String(e.data.exitCode) })];
      case 'ContainerStarting':
      case 'ContainerRemoving':
      case 'ContainerCommitting':
        return this.steps ? [forContainer(e.data.id, defaultAction)] : [];
      case 'ContainerStartStepDone':
      case 'ContainerStartStepUndone':
      case 'ContainerRemoveStepDone':
        return this.steps ? [forContainer(e.data.id, defaultAction, { kind: e.data.kind, driver: e.data.driverId })] : [];
      case 'ContainerStartStepFailed':
        return this.steps ? [forContainer(e.data.id, defaultAction, { kind: e.data.kind, driver: e.data.driverId, error: e.data.message })] : [];
      case 'ContainerCommitFailed':
        return this.steps ? [forContainer(e.data.id, defaultAction, { error: e.data.message })] : [];
      case 'ExecStarting':
        return this.steps ? [forContainer(e.data.id, `${defaultAction}: ${this.execCmd(e.data.execId).join(' ')}`, { execID: e.data.execId })] : [];
      case 'ImageCreated':
        // A commit shows as the container's `commit` event, a pull as the image's `pull`, as in moby.
        if (e.data.origin === 'commit' || e.data.origin === 'pull') return [];
        return [make('image', e.data.origin === 'load' ? 'load' : defaultAction, e.data.id, { name: e.data.id })];
      case 'ImageTagged':
      case 'ImageUntagged':
        return [make('image', defaultAction, e.data.id, { name: familiarRef(e.data.ref) })];
      case 'ImageRemoved':
        return [make('image', defaultAction, e.data.id, { name: e.data.id })];
      case 'ImagePulled':
      case 'ImagePushed': {
        // moby names the image by the reference pulled or pushed ("busybox:latest").
        const named = e.type === 'ImagePulled' ? `${e.data.name}${e.data.reference.startsWith('sha256:') ? '@' : ':'}${e.data.reference}` : `${e.data.name}:${e.data.tag}`;
        return [make('image', defaultAction, named, { name: named })];
      }
      case 'VolumeCreating':
        this.volumeDrivers.set(e.data.name, e.data.driver);
        return this.steps ? [make('volume', defaultAction, e.data.name, { driver: e.data.driver })] : [];
      case 'VolumeRemoving':
      case 'VolumeCopyUpStarting':
      case 'VolumeCopiedUp':
      case 'VolumeCopyUpUndone':
        return this.steps ? [make('volume', defaultAction, e.data.name, { driver: this.volumeDriver(e.data.name) })] : [];
      case 'VolumeCreated':
        return [make('volume', defaultAction, e.data.name, { driver: this.volumeDriver(e.data.name) })];
      case 'VolumeRemoved': {
        const ev = make('volume', defaultAction, e.data.name, { driver: this.volumeDriver(e.data.name) });
        this.volumeDrivers.delete(e.data.name);
        return [ev];
      }
      case 'DaemonStarted':
      case 'DaemonStopped':
      case 'DaemonReconciled':
        return [make('daemon', defaultAction, this.daemonId, {})];
      case 'NetworkCreated':
        this.networks.set(e.data.id, { name: e.data.name, driver: e.data.driver });
        return [make('network', defaultAction, e.data.id, { name: e.data.name, type: e.data.driver })];
      case 'PredefinedNetworkCreated':
        this.networks.set(e.data.id, { name: e.data.name, driver: e.data.driver });
        return [make('network', defaultAction, e.data.id, { name: e.data.name, type: e.data.driver })];
      case 'NetworkRemoved': {
        const ev = make('network', defaultAction, e.data.id, this.networkAttributes(e.data.id));
        this.networks.delete(e.data.id);
        return [ev];
      }
      case 'ContainerNetworkConnected':
        // A stopped container connected without an address: moby logs nothing then (its start shows connect); a step here.
        if (e.data.held === false && !this.steps) return [];
        return [make('network', defaultAction, e.data.network, { container: e.data.id, ...this.networkAttributes(e.data.network) })];
      case 'ContainerNetworkDisconnected':
        // Of a network removed while the container was stopped: moby logs nothing; a step here.
        if (e.data.removed === true && !this.steps) return [];
        return [make('network', defaultAction, e.data.network, { container: e.data.id, ...this.networkAttributes(e.data.network) })];
      case 'ContainerNetworkReleased':
        // moby: the network is the actor, the container an attribute.
        return [make('network', defaultAction, e.data.network, { container: e.data.id, ...this.networkAttributes(e.data.network) })];
      case 'ContainerPortsPublished':
      case 'ContainerPortsUnpublished':
        return this.steps ? [forContainer(e.data.id, defaultAction)] : [];
    }
  }
}

/** JSON for one event, with `timeNano` printed exactly (an int64 in Go). */
export function serializeDockerEvent(ev: DockerEvent): string {
  const { timeNano, ...rest } = ev;
  return `${JSON.stringify(rest).slice(0, -1)},"timeNano":${timeNano.toString()}}`;
}


/** The filter keys `GET /events` accepts. */
export const EVENT_FILTER_KEYS = ['type', 'container', 'event', 'image', 'label', 'daemon', 'scope', 'volume'] as const;

/** Whether an event passes moby's event filters (each key given must match one of its values). */
export function matchesEventFilters(ev: DockerEvent, filters: Filters): boolean {
  const test = (key: string, pred: (value: string) => boolean): boolean => {
    const values = filters.get(key);
    return values === undefined || values.length === 0 || values.some(pred);
  };
  const attrs = ev.Actor.Attributes;
  return (
    test('type', (v) => v === ev.Type) &&
    test('scope', (v) => v === ev.scope) &&
    test('event', (v) => v === ev.Action.split(':')[0]!.trim()) &&
    test('container', (v) => (ev.Type === 'container' && ((v.length > 0 && ev.Actor.ID.startsWith(v)) || attrs.name === v.replace(/^\//, ''))) || (ev.Type === 'volume' && attrs.container !== undefined && v.length > 0 && attrs.container.startsWith(v))) &&
    test('volume', (v) => ev.Type === 'volume' && ev.Actor.ID === v) &&
    test('image', (v) => {
      const candidates = ev.Type === 'image' ? [ev.Actor.ID, attrs.name ?? ''] : [attrs.image ?? ''];
      return candidates.some((c) => c !== '' && (c === v || withTag(c) === withTag(v)));
    }) &&
    test('label', (v) => {
      const eq = v.indexOf('=');
      return eq < 0 ? v in attrs : attrs[v.slice(0, eq)] === v.slice(eq + 1);
    }) &&
    test('daemon', (v) => ev.Type === 'daemon' && (ev.Actor.ID === v || attrs.name === v))
  );
}
