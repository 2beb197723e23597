/**
 * Does what `ps`/`inspect` say agree with what exists on the host? The e2e crash tests (and any
 * test after a daemon restart) call `kernelDisagreements(d)` and expect an empty list.
 *
 * What it compares, for the daemon `d` (its data root, exec root and socket):
 * - each running or paused container: its init (State.Pid) is alive and in the container's cgroup,
 *   exactly one shim serves its bundle, its cgroups exist, and the freezer says FROZEN exactly when
 *   it is paused;
 * - each other container: no shim, no exec helper, no cgroup;
 * - no exec the fold says is running, unless the caller allows it; no exec helper process left;
 * - orphans: a shim or exec helper of this daemon, a cgroup `mini-docker-<id>`, a mount under the
 *   daemon's folders, or a driver folder named after a container, for a container the log does
 *   not account for (not in `ps -a`, or not running when it holds a process or cgroup).
 *
 * It reads /proc, /sys/fs/cgroup and /proc/self/mounts directly (the kernel's word), and `ps`,
 * `inspect` and `GET /exec/{id}/json` through the daemon (the log's word).
 */
import { readdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { basename, join } from 'node:path';
import type { TestDaemon } from './harness.js';

const ID = /^[0-9a-f]{64}$/;
const CGROUP_ROOT = '/sys/fs/cgroup';
const SHIM = 'mini-docker-shim';

/** What `inspect` says of a container, as far as the comparison needs. */
export interface InspectedContainer {
  readonly Id: string;
  readonly Name: string;
  readonly State: { readonly Status: string; readonly Running: boolean; readonly Paused: boolean; readonly Pid: number; readonly ExitCode: number; readonly Error: string };
  readonly ExecIDs: readonly string[] | null;
}

/** What `GET /exec/{id}/json` says. */
export interface InspectedExec {
  readonly ID: string;
  readonly Running: boolean;
  readonly ExitCode: number | null;
  readonly Pid: number;
}

/** A process of this daemon's shim binary: a container's shim (`bundle`) or an exec helper (`exec-<id>.spec`). */
interface ShimProcess {
  readonly pid: number;
  readonly containerId: string;
  readonly execId: string | undefined;
}

/** What exists on the host for one daemon. */
export interface HostView {
  readonly shims: readonly ShimProcess[];
  /** Folders named `mini-docker-<id>` anywhere under /sys/fs/cgroup, by container id. */
  readonly cgroups: ReadonlyMap<string, readonly string[]>;
  /** Mount points under the daemon's data root or exec root. */
  readonly mounts: readonly string[];
  /** Container ids that name a folder of a driver (its bundle, its layer, its log...), with the folder. */
  readonly driverFolders: ReadonlyMap<string, readonly string[]>;
}

/** The hex digests of every image and layer the daemon has (a storage driver names layer folders by them). */
async function imageDigests(d: TestDaemon): Promise<Set<string>> {
  const list = await d.cli(['images', '-aq', '--no-trunc']);
  if (list.code !== 0) throw new Error(`images -aq failed (${list.code}): ${list.stderr.trim()}`);
  const ids = [...new Set(list.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== ''))];
  const digests = new Set<string>();
  if (ids.length === 0) return digests;
  const r = await d.cli(['inspect', '--type', 'image', ...ids]);
  if (r.code !== 0) throw new Error(`inspect --type image failed (${r.code}): ${r.stderr.trim()}`);
  for (const image of JSON.parse(r.stdout) as { Id: string; RootFS?: { Layers?: string[] } }[]) {
    for (const digest of [image.Id, ...(image.RootFS?.Layers ?? [])]) digests.add(digest.replace(/^sha256:/, ''));
  }
  return digests;
}

/**
 * Last-resort cleanup after a test that may have failed midway: `d.cleanup()` (rm -f through the
 * daemon when it runs, then its processes killed by PID and its mounts and folders removed),
 * then the cgroups of the containers it had, their processes killed first. Safe when all is clean.
 */
export async function cleanupEverything(d: TestDaemon): Promise<void> {
  const view = hostView(d);
  const ids = new Set<string>([...view.shims.map((s) => s.containerId), ...view.driverFolders.keys()]);
  if (!d.exit && d.pid !== undefined) {
    for (const c of await inspectAll(d).catch(() => [])) ids.add(c.Id);
  }
  await d.cleanup();
  for (const id of ids) {
    for (const dir of hostView(d).cgroups.get(id) ?? []) {
      for (let attempt = 0; attempt < 50; attempt++) {
        let pids: string[] = [];
        try {
          pids = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter((l) => l !== '');
        } catch { /* gone */ }
        for (const pid of pids) {
          try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
        }
        try {
          rmdirSync(dir);
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
  }
}

export interface AgreementOptions {
  /** Container ids the caller knows this daemon made (so their cgroups count as its own even when `ps -a` has forgotten them). */
  readonly knownIds?: Iterable<string>;
  /** Exec ids that may still be running (a test that left one running on purpose). */
  readonly runningExecs?: Iterable<string>;
}

/** GET on the daemon's socket; the parsed JSON body and the status. */
export function apiGet<T>(socketPath: string, path: string): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, body: (text === '' ? undefined : JSON.parse(text)) as T });
        } catch (err) {
          reject(new Error(`GET ${path}: ${res.statusCode} with a body that is not JSON: ${text.slice(0, 200)} (${String(err)})`));
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer within 30 s`)));
    req.end();
  });
}

/** Every container of the daemon, inspected (`ps -a` then `inspect`). */
export async function inspectAll(d: TestDaemon): Promise<InspectedContainer[]> {
  const ps = await d.cli(['ps', '-aq', '--no-trunc']);
  if (ps.code !== 0) throw new Error(`ps -aq failed (${ps.code}): ${ps.stderr.trim()}`);
  const ids = ps.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (ids.length === 0) return [];
  const r = await d.cli(['inspect', ...ids]);
  if (r.code !== 0) throw new Error(`inspect failed (${r.code}): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout) as InspectedContainer[];
}

function cmdline(pid: string): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  } catch {
    return [];
  }
}

/** Whether a process exists and is not a zombie. */
export function processAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Every `mini-docker-<id>` cgroup folder of a container (any hierarchy, the depths the limiter uses). */
export function containerCgroupDirs(id: string, root = '/sys/fs/cgroup'): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > 6) return;
    for (const p of childDirs(dir)) {
      const name = basename(p);
      if (name === `mini-docker-${id}`) found.push(p);
      else if (!name.startsWith('mini-docker')) walk(p, depth + 1);
    }
  };
  walk(root, 0);
  return found;
}

/** The cgroup paths (one per hierarchy line of /proc/<pid>/cgroup) of a process, or [] when it is gone. */
function cgroupsOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').filter((l) => l !== '').map((l) => l.split(':').slice(2).join(':'));
  } catch {
    return [];
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function childDirs(dir: string): string[] {
  try {
    return readdirSync(dir).map((n) => join(dir, n)).filter(isDirectory);
  } catch {
    return [];
  }
}

/** Reads what exists on the host for daemon `d`. */
export function hostView(d: TestDaemon): HostView {
  const bundles = join(d.execRoot, 'isolator.v1.namespaces');
  const shims: ShimProcess[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    const args = cmdline(pid);
    if (!args.some((a) => a.endsWith(SHIM)) || !processAlive(Number(pid))) continue;
    const where = args.find((a) => a.startsWith(`${bundles}/`));
    if (!where) continue;
    const [containerId = '', file] = where.slice(bundles.length + 1).split('/');
    const execId = file !== undefined ? /^exec-(.+)\.spec$/.exec(file)?.[1] : undefined;
    shims.push({ pid: Number(pid), containerId, execId });
  }

  const cgroups = new Map<string, string[]>();
  const walk = (dir: string, depth: number): void => {
    if (depth > 6) return;
    for (const sub of childDirs(dir)) {
      const name = sub.slice(dir.length + 1);
      const m = /^mini-docker-([0-9a-f]{64})$/.exec(name);
      if (m) cgroups.set(m[1]!, [...(cgroups.get(m[1]!) ?? []), sub]);
      else walk(sub, depth + 1);
    }
  };
  walk(CGROUP_ROOT, 0);

  const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n')
    .map((l) => (l.split(' ')[1] ?? '').replace(/\\040/g, ' '))
    .filter((t) => t.startsWith(`${d.dataRoot}/`) || t.startsWith(`${d.execRoot}/`) || t === d.dataRoot || t === d.execRoot);

  // Driver folders are named <kind>.v1.<name>; a container's things are folders named by its id, at most two levels down.
  // A volume driver's folders are volumes (an anonymous one is named by 64 hex digits too): not a container's.
  const driverFolders = new Map<string, string[]>();
  for (const root of [d.dataRoot, d.execRoot]) {
    for (const driverDir of childDirs(root).filter((p) => /\.v\d+\./.test(p.slice(root.length + 1)) && !p.slice(root.length + 1).startsWith('volume.'))) {
      for (const level1 of childDirs(driverDir)) {
        // A storage driver's `layers/` holds image layers by digest (kept for reuse after a cut pull): not a container's.
        if (level1.endsWith('/layers')) continue;
        for (const candidate of [level1, ...childDirs(level1)]) {
          const name = candidate.slice(candidate.lastIndexOf('/') + 1);
          if (ID.test(name)) driverFolders.set(name, [...(driverFolders.get(name) ?? []), candidate]);
        }
      }
    }
  }
  return { shims, cgroups, mounts, driverFolders };
}

function freezerState(cgroupDirs: readonly string[]): string | undefined {
  for (const dir of cgroupDirs) {
    try {
      return readFileSync(join(dir, 'freezer.state'), 'utf8').trim();
    } catch { /* not the freezer hierarchy */ }
    try {
      return readFileSync(join(dir, 'cgroup.freeze'), 'utf8').trim() === '1' ? 'FROZEN' : 'THAWED';
    } catch { /* not a v2 cgroup */ }
  }
  return undefined;
}

/**
 * Every way in which `ps`/`inspect` and the host disagree for daemon `d`, one line each
 * (empty when they agree). See the file's comment for what is compared.
 */
export async function kernelDisagreements(d: TestDaemon, options: AgreementOptions = {}): Promise<string[]> {
  const problems: string[] = [];
  const containers = await inspectAll(d);
  const digests = await imageDigests(d);
  const view = hostView(d);
  const byId = new Map(containers.map((c) => [c.Id, c]));
  const running = new Set(containers.filter((c) => c.State.Running || c.State.Paused).map((c) => c.Id));
  const allowedExecs = new Set(options.runningExecs ?? []);
  const short = (id: string): string => id.slice(0, 12);

  for (const c of containers) {
    const shims = view.shims.filter((s) => s.containerId === c.Id && s.execId === undefined);
    const cgroupDirs = view.cgroups.get(c.Id) ?? [];
    const what = `container ${short(c.Id)} (${c.Name.replace(/^\//, '')}, ${c.State.Status})`;
    if (running.has(c.Id)) {
      if (!processAlive(c.State.Pid)) problems.push(`${what}: its init, pid ${c.State.Pid}, is not alive`);
      else if (!cgroupsOf(c.State.Pid).some((p) => p.endsWith(`/mini-docker-${c.Id}`))) problems.push(`${what}: its init, pid ${c.State.Pid}, is not in its cgroup (${cgroupsOf(c.State.Pid).join(', ')})`);
      if (shims.length !== 1) problems.push(`${what}: ${shims.length} shims serve it (pids ${shims.map((s) => s.pid).join(', ') || 'none'}), not 1`);
      if (cgroupDirs.length === 0) problems.push(`${what}: it has no cgroup`);
      const frozen = freezerState(cgroupDirs);
      if (frozen !== undefined && (frozen === 'FROZEN') !== c.State.Paused) problems.push(`${what}: its freezer says ${frozen}`);
    } else {
      if (shims.length > 0) problems.push(`${what}: shims still run for it (pids ${shims.map((s) => s.pid).join(', ')})`);
      if (cgroupDirs.length > 0) problems.push(`${what}: its cgroups still exist (${cgroupDirs.join(', ')})`);
      if (c.State.Pid !== 0 && processAlive(c.State.Pid)) problems.push(`${what}: inspect names pid ${c.State.Pid}, which is alive`);
    }
    for (const execId of c.ExecIDs ?? []) {
      const x = await apiGet<InspectedExec>(d.socketPath, `/exec/${execId}/json`);
      if (x.status !== 200) {
        problems.push(`${what}: exec ${short(execId)} is in ExecIDs but GET /exec/${short(execId)}/json says ${x.status}`);
        continue;
      }
      if (x.body.Running && !allowedExecs.has(execId)) problems.push(`${what}: exec ${short(execId)} is still "running" (pid ${x.body.Pid})`);
      if (!x.body.Running && view.shims.some((s) => s.execId === execId)) problems.push(`${what}: exec ${short(execId)} is not running, but its exec helper is`);
    }
  }

  // What the host holds that the log does not account for.
  for (const s of view.shims) {
    if (s.execId !== undefined) {
      if (!byId.has(s.containerId)) problems.push(`orphan exec helper pid ${s.pid} (exec ${short(s.execId)}) of container ${short(s.containerId)}, which ps -a does not list`);
      else if (!(byId.get(s.containerId)!.ExecIDs ?? []).includes(s.execId)) problems.push(`orphan exec helper pid ${s.pid}: exec ${short(s.execId)} is not among ${short(s.containerId)}'s execs`);
    } else if (!byId.has(s.containerId)) {
      problems.push(`orphan shim pid ${s.pid} for container ${short(s.containerId)}, which ps -a does not list`);
    }
  }
  const ours = new Set<string>([...byId.keys(), ...(options.knownIds ?? []), ...view.driverFolders.keys(), ...view.shims.map((s) => s.containerId)]);
  for (const [id, dirs] of view.cgroups) {
    if (ours.has(id) && !byId.has(id)) problems.push(`orphan cgroups of container ${short(id)}, which ps -a does not list: ${dirs.join(', ')}`);
  }
  for (const [id, dirs] of view.driverFolders) {
    if (!byId.has(id) && !digests.has(id)) problems.push(`orphan driver folders of container ${short(id)}, which ps -a does not list: ${dirs.join(', ')}`);
  }
  for (const m of view.mounts) problems.push(`a mount is left on the host: ${m}`);
  return problems;
}

/** Fails, listing every disagreement, unless `ps`/`inspect` and the host agree. */
export async function assertKernelAgrees(d: TestDaemon, options: AgreementOptions = {}, context = ''): Promise<void> {
  const problems = await kernelDisagreements(d, options);
  if (problems.length > 0) throw new Error(`ps/inspect and the host disagree${context ? ` (${context})` : ''}:\n  ${problems.join('\n  ')}`);
}

/**
 * Waits until ps/inspect and the host agree, failing with what still disagrees after `timeoutMs`.
 * For right after a daemon start: recovery may carry on after the socket answers (a stop that was
 * under way is carried out, its exit recorded a moment later), and only a lasting disagreement is
 * a fault. It polls a condition; it never sleeps a fixed time and calls that agreement.
 */
export async function untilKernelAgrees(d: TestDaemon, options: AgreementOptions = {}, context = '', timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const problems = await kernelDisagreements(d, options);
    if (problems.length === 0) return;
    if (Date.now() > deadline) throw new Error(`ps/inspect and the host still disagree after ${timeoutMs / 1000} s${context ? ` (${context})` : ''}:\n  ${problems.join('\n  ')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
