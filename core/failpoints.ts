/**
 * Failpoints (as etcd's gofail): named places in the daemon where a test can make it die at once
 * with SIGKILL, to prove that what the log says and what exists on the host agree after a crash.
 *
 * Inactive unless the daemon's environment names them: `MINI_DOCKER_FAILPOINTS=start.after-intent`
 * (several: comma-separated; `name@N` dies at the N-th hit only). A daemon without the variable
 * pays one Map lookup of an empty map per point.
 *
 * Every point is declared here, with what is true when it fires, so docs/failpoints.md and the
 * crash test (test/e2e/crash-recovery.test.ts) can walk them all. The part before the first dot
 * names the command whose path it is on (start, stop, rm, exec, commit, ...): the crash test runs
 * that command's scenario for it, and fails for a command it has no scenario for.
 */
export const FAILPOINTS = {
  'start.after-intent': 'ContainerStarting is durable; no driver has acted',
  'start.after-storage': "START_ORDER's first stage ran (storage, limiter, network and log, at the same time) and its step events are durable; the storage driver prepared the writable layer",
  'start.after-limiter': "the same stage; the limiter made the cgroups (or there is no limiter); the stage's step events are durable",
  'start.after-network': "the same stage; the network step ran: addresses recorded (ContainerNetworkConnected), ports published (ContainerPortsPublished durable with the stage's step events); nothing is wired in a namespace yet",
  'start.after-log': "the same stage; the log driver opened the writer; the stage's step events are durable",
  'start.after-isolator': 'the shim runs the container\'s process; its step event is durable, ContainerStarted is not written',
  'start.after-undo': 'a step failed and the steps before it were undone (events durable); ContainerStartFailed is not written',
  'start.before-final': 'the daemon is connected to the shim; ContainerStarted is not written',
  'stop.after-intent': 'ContainerStopRequested is durable; no signal was sent',
  'stop.after-signal': 'the stop signal was sent; the exit is not recorded',
  'stop.before-final': 'the stopped container\'s process has exited; ContainerExited is not written',
  'stop.after-cgroups': 'the stopped container\'s process has exited and the memory cgroup said the OOM killer did not end it; its cgroups are removed (as beside the exit\'s commit; armed, the removal is awaited before the append); ContainerExited is not written',
  'kill.after-intent': 'ContainerKillRequested is durable; no signal was sent',
  'rm.after-intent': 'ContainerRemoving is durable; nothing was removed',
  'rm.after-isolator': 'the isolator removed the bundle (and killed a left-over shim); step event durable',
  'rm.after-network': 'the container\'s addresses were given back (ContainerNetworkDisconnected), its ports and veths released, its /etc files deleted; step event durable',
  'rm.after-limiter': 'the cgroups were removed; step event durable',
  'rm.after-storage': 'the writable layer was removed; step event durable',
  'rm.after-log': 'the logs were removed; step event durable',
  'rm.after-volumes': 'every driver let go of the container and its anonymous volumes were removed (rm -v; VolumeRemoved durable); ContainerRemoved is not written',
  'rm.before-final': 'every driver let go of the container; ContainerRemoved is not written',
  'exec.after-intent': 'ExecStarting is durable; the isolator was not asked',
  'exec.after-start': 'the exec\'s process runs; ExecStarted is not written',
  'exec.before-final': 'the exec\'s process has exited; ExecExited is not written',
  'commit.after-intent': 'ContainerCommitting is durable; the container is not frozen yet',
  'commit.after-pause': 'the container is frozen for the commit (when the commit pauses it); no layer was written',
  'commit.after-layer': "the commit's layer is in the content store; ImageCreated is not written (the next start's garbage collection deletes the layer)",
  'commit.after-image': 'the image exists (ImageCreated is durable); ContainerCommitted is not written',
  'rmi.after-removed': "ImageRemoved is durable; no blob or unpacked layer was deleted (the next start's garbage collection deletes them)",
  'cp.after-entries': 'a PUT of an archive into a container has extracted two entries and not the rest; nothing was recorded (a copy records nothing)',
  'volume.after-intent': 'VolumeCreating is durable; the volume driver was not asked',
  'volume.after-create': 'the volume driver made the volume (and a copy-up filled it); VolumeCreated is not written',
  'volume.after-copy-up-entries': "a container's create is filling an existing, still empty volume from its image at its first mount: VolumeCopyUpStarting is durable and two entries are copied; VolumeCopiedUp and ContainerCreated are not written",
  'pull.after-layer': 'a pulled layer is verified and renamed into the content store; the image is not recorded yet (no ImageCreated; the layer stays for the next pull to reuse)',
  'network.after-created': 'NetworkCreated is durable; the driver has not made the bridge (the next start ensures every network of the log)',
  'network.after-removed': 'NetworkRemoved is durable; the bridge and its rules are still on the host (the next start removes the bridge of a network its log removed)',
} as const satisfies Record<string, string>;

export type FailpointName = keyof typeof FAILPOINTS;

/** The environment variable that arms failpoints in the daemon. */
export const FAILPOINTS_ENV = 'MINI_DOCKER_FAILPOINTS';

/** The command a failpoint belongs to: `start` of `start.after-intent`. */
export function commandOf(name: string): string {
  return name.split('.', 1)[0]!;
}

/** An armed point: the hit (1 = the first) at which the daemon dies, and the hits so far. */
export interface ArmedPoint {
  readonly hitToDie: number;
  hits: number;
}

/**
 * Parses `a,b@3` into the points to arm. Unknown names, a hit below 1 and a name given twice
 * are refused, so a typo in a test cannot make it pass without ever dying.
 */
export function parseFailpoints(spec: string | undefined, known: readonly string[] = Object.keys(FAILPOINTS)): Map<string, ArmedPoint> {
  const armed = new Map<string, ArmedPoint>();
  for (const part of (spec ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const m = /^([a-z0-9][a-z0-9.-]*)(?:@(\d+))?$/.exec(part);
    if (!m) throw new Error(`invalid failpoint "${part}" in ${FAILPOINTS_ENV}: expected NAME or NAME@N`);
    const name = m[1]!;
    if (!known.includes(name)) throw new Error(`unknown failpoint "${name}" in ${FAILPOINTS_ENV}: known are ${known.join(', ') || '(none)'}`);
    if (armed.has(name)) throw new Error(`failpoint "${name}" is named twice in ${FAILPOINTS_ENV}: name it once`);
    const hitToDie = m[2] === undefined ? 1 : Number(m[2]);
    if (hitToDie < 1) throw new Error(`invalid failpoint "${part}" in ${FAILPOINTS_ENV}: N counts hits from 1`);
    armed.set(name, { hitToDie, hits: 0 });
  }
  return armed;
}

/** Counts one hit of `name`; true when it is the hit to die at (and never again after it). */
export function hitFailpoint(armed: ReadonlyMap<string, ArmedPoint>, name: string): boolean {
  const point = armed.get(name);
  if (!point) return false;
  point.hits += 1;
  return point.hits === point.hitToDie;
}

let armed: Map<string, ArmedPoint> | undefined;

/** Arms the points named in the daemon's environment; called once by the daemon's main. Returns their names. */
export function armFailpointsFromEnv(env: NodeJS.ProcessEnv = process.env, known: readonly string[] = Object.keys(FAILPOINTS)): readonly string[] {
  armed = parseFailpoints(env[FAILPOINTS_ENV], known);
  return [...armed.keys()];
}

/** Dies with SIGKILL here when a test armed this point: no cleanup, no flush, as a power cut. */
export function failpoint(name: FailpointName): void {
  if (armed && hitFailpoint(armed, name)) process.kill(process.pid, 'SIGKILL');
}

/**
 * The same, for a point that promises "its event is durable": when (and only when) the point is
 * armed, `durable` (the journal's flush) is awaited first, so the death comes at the state the
 * description says. Unarmed, it costs what `failpoint` costs and waits for nothing.
 */
export async function failpointAfter(name: FailpointName, durable: () => Promise<unknown>): Promise<void> {
  if (!armed?.has(name)) return;
  await durable().catch(() => undefined);
  failpoint(name);
}
