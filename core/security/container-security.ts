/**
 * A container's privileges from its HostConfig, as Docker reads them: capabilities (`CapAdd`,
 * `CapDrop`, `Privileged`), `ReadonlyRootfs`, tmpfs mounts (`Tmpfs`, `Mounts` of type tmpfs) and
 * devices (`Devices`). `checkSecurity` refuses at create what cannot work (one line each) and
 * returns the normalized capability lists to record; `startSecurity` / `execSecurity` give the
 * isolator what to apply, and `deviceAccess` the limiter the container's device cgroup rules.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import type { BindMountConfig, DeviceMapping, HostConfig } from '../../events/index.js';
import type { DeviceAccess, DeviceRule } from '../plugins/driver.js';
import { type CapabilityHost, capabilityHostFrom, containerCapabilities, normalizeCapabilities } from './capabilities.js';

/** A tmpfs mounted in the container: the options as the shim takes them (flags and tmpfs data, comma-separated). */
export interface TmpfsMount {
  readonly target: string;
  readonly options: string;
}

/** A device node made in the container: a host device's type and numbers, its mode and owner, and the cgroup access it gets. */
export interface DeviceNode {
  readonly path: string;
  readonly type: 'c' | 'b';
  readonly major: number;
  readonly minor: number;
  /** Permission bits (0o666 ...). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** r, w, m as in the device cgroup. */
  readonly permissions: string;
}

/** What the isolator applies to a container's process and filesystem. */
export interface ContainerSecurity {
  /** The CAP_ names the process gets (bounding set; permitted and effective for root). */
  readonly capabilities: readonly string[];
  /** No seccomp, /sys writable, no masked or read-only paths (and every host device in `devices`). */
  readonly privileged: boolean;
  readonly readonlyRootfs: boolean;
  readonly tmpfs: readonly TmpfsMount[];
  readonly devices: readonly DeviceNode[];
}

type SecurityFields = Pick<HostConfig, 'CapAdd' | 'CapDrop' | 'Privileged' | 'ReadonlyRootfs' | 'Tmpfs' | 'Mounts' | 'Devices'>;

let cachedHost: CapabilityHost | undefined;

/** The kernel's capabilities and the daemon's own, read once. */
export function hostCapabilities(): CapabilityHost {
  if (!cachedHost) {
    let last = '';
    try {
      last = readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8');
    } catch { /* an old kernel: every capability of the table */ }
    cachedHost = capabilityHostFrom(last, readFileSync('/proc/self/status', 'utf8'));
  }
  return cachedHost;
}

/** Mount flags a tmpfs option may be (the shim's table), and the tmpfs data keys it may set. */
const TMPFS_FLAGS = new Set(['ro', 'rw', 'nosuid', 'suid', 'nodev', 'dev', 'noexec', 'exec', 'sync', 'async', 'dirsync', 'noatime', 'atime',
  'nodiratime', 'diratime', 'relatime', 'norelatime', 'strictatime', 'nostrictatime']);
const TMPFS_DATA = new Set(['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol', 'huge']);
const OPPOSITE: Readonly<Record<string, string>> = {
  ro: 'rw', rw: 'ro', nosuid: 'suid', suid: 'nosuid', nodev: 'dev', dev: 'nodev', noexec: 'exec', exec: 'noexec', sync: 'async', async: 'sync',
  noatime: 'atime', atime: 'noatime', nodiratime: 'diratime', diratime: 'nodiratime', relatime: 'norelatime', norelatime: 'relatime',
  strictatime: 'nostrictatime', nostrictatime: 'strictatime',
};

/**
 * Docker's tmpfs options: `noexec,nosuid,nodev` first, then the user's, a later flag replacing its
 * opposite and a later `key=value` its key (moby's MergeTmpfsOptions). Throws for an unknown option.
 */
export function mergeTmpfsOptions(options: readonly string[]): string {
  const out: string[] = [];
  for (const raw of ['noexec', 'nosuid', 'nodev', ...options]) {
    const o = raw.trim();
    if (o === '') continue;
    const eq = o.indexOf('=');
    if (eq === -1) {
      if (!TMPFS_FLAGS.has(o)) throw new Error(`invalid tmpfs option ${quoted([o])}`);
      const opposite = OPPOSITE[o];
      for (let i = out.length - 1; i >= 0; i--) if (out[i] === o || out[i] === opposite) out.splice(i, 1);
      out.push(o);
      continue;
    }
    const key = o.slice(0, eq);
    if (!TMPFS_DATA.has(key) || eq === o.length - 1 || /[\s,]/.test(o)) throw new Error(`invalid tmpfs option ${quoted([key, o.slice(eq + 1)])}`);
    for (let i = out.length - 1; i >= 0; i--) if (out[i]!.startsWith(`${key}=`)) out.splice(i, 1);
    out.push(o);
  }
  return out.join(',');
}

/** Go's %q of a string slice, as Docker's messages print an option split at "=": ["size" "x"]. */
function quoted(parts: readonly string[]): string {
  return `[${parts.map((p) => JSON.stringify(p)).join(' ')}]`;
}

/** The target, cleaned; Docker's messages (`prefix` names a --mount entry). */
function tmpfsTarget(target: string, prefix: string): string {
  if (!target.startsWith('/')) throw new Error(`${prefix}invalid mount path: '${target}' mount path must be absolute`);
  const clean = posix.normalize(target).replace(/(.)\/+$/, '$1');
  if (clean === '/') throw new Error(`${prefix}invalid mount path: '/' cannot be a tmpfs`);
  return clean;
}

/** A `--mount type=tmpfs` entry's options: size and mode from TmpfsOptions, ro from ReadOnly. */
function tmpfsMountOptions(m: BindMountConfig): string[] {
  const what = 'mount config for type "tmpfs"';
  if (m.Source !== '') throw new Error(`invalid ${what}: field Source must not be specified`);
  const o = m.TmpfsOptions ?? {};
  const options: string[] = [];
  if (o.SizeBytes !== undefined && o.SizeBytes !== 0) {
    if (!Number.isInteger(o.SizeBytes) || o.SizeBytes < 0) throw new Error(`invalid ${what}: tmpfs-size must be a positive number of bytes`);
    options.push(`size=${o.SizeBytes}`);
  }
  if (o.Mode !== undefined && o.Mode !== 0) {
    if (!Number.isInteger(o.Mode) || o.Mode < 0 || o.Mode > 0o7777) throw new Error(`invalid ${what}: tmpfs-mode must be permission bits (octal, e.g. 1777)`);
    options.push(`mode=${o.Mode.toString(8)}`);
  }
  if (m.ReadOnly) options.push('ro');
  return options;
}

/** Every tmpfs of a container, `Tmpfs` then `Mounts` of type tmpfs; two on one path are refused. */
export function tmpfsMounts(hc: Pick<HostConfig, 'Tmpfs' | 'Mounts'>): TmpfsMount[] {
  const mounts: TmpfsMount[] = [];
  for (const [target, options] of Object.entries(hc.Tmpfs ?? {})) {
    mounts.push({ target: tmpfsTarget(target, ''), options: mergeTmpfsOptions(options === '' ? [] : options.split(',')) });
  }
  for (const m of hc.Mounts ?? []) {
    if (m.Type !== 'tmpfs') continue;
    mounts.push({ target: tmpfsTarget(m.Target, 'invalid mount config for type "tmpfs": '), options: mergeTmpfsOptions(tmpfsMountOptions(m)) });
  }
  const seen = new Set<string>();
  for (const m of mounts) {
    if (seen.has(m.target)) throw new Error(`Duplicate mount point: ${m.target}`);
    seen.add(m.target);
  }
  return mounts;
}

/** A `--device` value as the docker CLI parses it: HOST[:CONTAINER[:PERMISSIONS]], the container path defaulting to HOST. */
export function parseDeviceFlag(value: string): DeviceMapping {
  const parts = value.split(':');
  if (parts.length > 3 || parts[0] === '') throw new Error(`invalid device specification: ${value}`);
  let container = '';
  let permissions = 'rwm';
  if (parts.length === 3) {
    container = parts[1]!;
    permissions = parts[2]!;
  } else if (parts.length === 2) {
    if (/^[rwm]{1,3}$/.test(parts[1]!)) permissions = parts[1]!;
    else container = parts[1]!;
  }
  const mapping = { PathOnHost: parts[0]!, PathInContainer: container === '' ? parts[0]! : container, CgroupPermissions: permissions };
  checkDeviceMapping(mapping);
  return mapping;
}

/** Docker's checks of a DeviceMapping (the CLI's, made again for API clients). */
export function checkDeviceMapping(d: DeviceMapping): void {
  if (d.PathOnHost === '') throw new Error('invalid device mapping: PathOnHost is empty');
  if (!d.PathInContainer.startsWith('/')) throw new Error(`${d.PathInContainer} is not an absolute path`);
  if (!/^[rwm]{1,3}$/.test(d.CgroupPermissions) || new Set(d.CgroupPermissions).size !== d.CgroupPermissions.length) {
    throw new Error(`bad mode specified: ${d.CgroupPermissions}`);
  }
}

/**
 * Refuses at create, one line each: an unknown capability, one the daemon cannot give, a bad
 * tmpfs option or path, a bad device mapping. Returns the capability lists as they are recorded.
 */
export function checkSecurity(hc: SecurityFields, host: CapabilityHost = hostCapabilities()): { capAdd: string[]; capDrop: string[] } {
  const capAdd = normalizeCapabilities(hc.CapAdd ?? [], host.known, 'CapAdd');
  const capDrop = normalizeCapabilities(hc.CapDrop ?? [], host.known, 'CapDrop');
  containerCapabilities({ capAdd, capDrop, privileged: hc.Privileged === true }, host);
  tmpfsMounts(hc);
  for (const d of hc.Devices ?? []) checkDeviceMapping(d);
  return { capAdd, capDrop };
}

function capabilitiesOf(hc: SecurityFields, host: CapabilityHost): string[] {
  return containerCapabilities({ capAdd: hc.CapAdd ?? [], capDrop: hc.CapDrop ?? [], privileged: hc.Privileged === true }, host);
}

/** major and minor of a device number as glibc splits it. */
function splitDev(rdev: bigint): { major: number; minor: number } {
  return {
    major: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)),
    minor: Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)),
  };
}

/** The device node at `hostPath` (symlinks followed), or null when it is no character or block device. */
function deviceAt(hostPath: string, path: string, permissions: string): DeviceNode | null {
  const st = statSync(hostPath, { bigint: true });
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : null;
  if (type === null) return null;
  return { path, type, ...splitDev(st.rdev), mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid), permissions };
}

/** Devices below a folder, as runc walks /dev: pts, shm, fd, mqueue and console left out. */
function devicesUnder(hostDir: string, containerDir: string, permissions: string): DeviceNode[] {
  const out: DeviceNode[] = [];
  for (const entry of readdirSync(hostDir, { withFileTypes: true })) {
    const host = posix.join(hostDir, entry.name);
    const inside = posix.join(containerDir, entry.name);
    if (entry.isDirectory()) {
      if (['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev'].includes(entry.name)) continue;
      out.push(...devicesUnder(host, inside, permissions));
    } else if (entry.name !== 'console' && (entry.isCharacterDevice() || entry.isBlockDevice())) {
      try {
        const node = deviceAt(host, inside, permissions);
        if (node) out.push(node);
      } catch { /* gone meanwhile */ }
    }
  }
  return out;
}

/** A `--device` mapping's nodes: the device itself, or every device below a folder. Throws Docker's line when there is none. */
export function resolveDevice(d: DeviceMapping): DeviceNode[] {
  const fail = (why: string): Error => new Error(`error gathering device information while adding custom device "${d.PathOnHost}": ${why}`);
  let st;
  try {
    st = statSync(d.PathOnHost);
  } catch (err) {
    throw fail((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message);
  }
  if (st.isDirectory()) return devicesUnder(d.PathOnHost, d.PathInContainer, d.CgroupPermissions);
  const node = deviceAt(d.PathOnHost, d.PathInContainer, d.CgroupPermissions);
  if (!node) throw fail('not a device node');
  return [node];
}

/** What a start applies: capabilities, privileged, read-only root, tmpfs mounts and the device nodes (every host device when privileged). */
export function startSecurity(hc: SecurityFields, host: CapabilityHost = hostCapabilities()): ContainerSecurity {
  const privileged = hc.Privileged === true;
  const devices = [...(privileged ? devicesUnder('/dev', '/dev', 'rwm') : []), ...(hc.Devices ?? []).flatMap(resolveDevice)];
  return { capabilities: capabilitiesOf(hc, host), privileged, readonlyRootfs: hc.ReadonlyRootfs === true, tmpfs: tmpfsMounts(hc), devices };
}

/** What an exec gets: the container's capabilities, and no seccomp when it is privileged. */
export function execSecurity(hc: SecurityFields, host: CapabilityHost = hostCapabilities()): Pick<ContainerSecurity, 'capabilities' | 'privileged'> {
  return { capabilities: capabilitiesOf(hc, host), privileged: hc.Privileged === true };
}

/** Docker's default device cgroup rules: mknod of any device, and the devices every container has. */
export const DEFAULT_DEVICE_RULES: readonly DeviceRule[] = [
  { type: 'c', major: '*', minor: '*', access: 'm' },
  { type: 'b', major: '*', minor: '*', access: 'm' },
  { type: 'c', major: 1, minor: 3, access: 'rwm' }, // null
  { type: 'c', major: 1, minor: 5, access: 'rwm' }, // zero
  { type: 'c', major: 1, minor: 7, access: 'rwm' }, // full
  { type: 'c', major: 1, minor: 8, access: 'rwm' }, // random
  { type: 'c', major: 1, minor: 9, access: 'rwm' }, // urandom
  { type: 'c', major: 5, minor: 0, access: 'rwm' }, // tty
  { type: 'c', major: 5, minor: 1, access: 'rwm' }, // console
  { type: 'c', major: 5, minor: 2, access: 'rwm' }, // ptmx
  { type: 'c', major: 10, minor: 200, access: 'rwm' }, // tun (runc's default list, as Docker 20.10 shows it)
  { type: 'c', major: 136, minor: '*', access: 'rwm' }, // pts
];

/** The container's device cgroup: every device when privileged, else Docker's defaults and its `--device` nodes. */
export function deviceAccess(security: Pick<ContainerSecurity, 'privileged' | 'devices'>): DeviceAccess {
  if (security.privileged) return 'all';
  return { allow: [...DEFAULT_DEVICE_RULES, ...security.devices.map((d) => ({ type: d.type, major: d.major, minor: d.minor, access: d.permissions }))] };
}
