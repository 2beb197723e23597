/**
 * Failpoints (as etcd's gofail): named places in the daemon where a test can make it die at once
 * with SIGKILL, to prove that what the log says and what exists on the host agree after a crash.
 *
 * Inactive unless the daemon's environment names them: `MINI_DOCKER_FAILPOINTS=start.after-intent`
 * (several: comma-separated; `name@N` dies at the N-th hit only). A daemon without the variable
 * pays one Set lookup of an empty set per point.
 *
 * Every point is declared here, with what is true when it fires, so docs/failpoints.md and the
 * crash test (test/e2e/crash-recovery.test.ts) can walk them all. The part before the first dot
 * names the command whose path it is on (start, stop, rm, exec, commit, ...).
 */
export const FAILPOINTS = {
  'commit.after-layer': "the commit's layer is in the content store; ImageCreated is not written (the next start's garbage collection deletes the layer)",
  'rmi.after-removed': "ImageRemoved is durable; no blob or unpacked layer was deleted (the next start's garbage collection deletes them)",
  'pull.after-layer': 'a pulled layer is verified and renamed into the content store; the image is not recorded yet (no ImageCreated; the layer stays for the next pull to reuse)',
} as const satisfies Record<string, string>;

export type FailpointName = keyof typeof FAILPOINTS;

/** The command a failpoint belongs to: `start` of `start.after-intent`. */
export function commandOf(name: string): string {
  return name.split('.', 1)[0]!;
}

interface ArmedPoint {
  readonly hitToDie: number;
  hits: number;
}

/** Parses `a,b@3` into the points to arm; unknown names are refused so a typo cannot pass silently. */
export function parseFailpoints(spec: string | undefined, known: readonly string[] = Object.keys(FAILPOINTS)): Map<string, ArmedPoint> {
  const armed = new Map<string, ArmedPoint>();
  for (const part of (spec ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const m = /^([a-z0-9.-]+)(?:@(\d+))?$/.exec(part);
    if (!m) throw new Error(`invalid failpoint "${part}": expected NAME or NAME@N`);
    const name = m[1]!;
    if (!known.includes(name)) throw new Error(`unknown failpoint "${name}": known are ${known.join(', ') || '(none)'}`);
    armed.set(name, { hitToDie: m[2] ? Number(m[2]) : 1, hits: 0 });
  }
  return armed;
}

let armed: Map<string, ArmedPoint> | undefined;

/** Arms the points named in the daemon's environment; called once by the daemon's main. */
export function armFailpointsFromEnv(env: NodeJS.ProcessEnv = process.env): readonly string[] {
  armed = parseFailpoints(env['MINI_DOCKER_FAILPOINTS']);
  return [...armed.keys()];
}

/** Dies with SIGKILL here when a test armed this point: no cleanup, no flush, as a power cut. */
export function failpoint(name: FailpointName): void {
  const point = armed?.get(name);
  if (!point) return;
  point.hits += 1;
  if (point.hits === point.hitToDie) process.kill(process.pid, 'SIGKILL');
}
