/**
 * Capabilities as Docker reads them (`--cap-add`, `--cap-drop`, `--privileged`): names with or
 * without `CAP_`, any case, and `ALL`, checked against the capabilities this kernel knows; the set
 * a container gets is Docker's default set changed by the adds and drops (moby's
 * TweakCapabilities), or for a privileged container every capability the daemon itself holds.
 *
 * Docker gives a privileged container (or `--cap-add ALL`) every capability the kernel knows,
 * which fails on a host whose root lacks one ("unable to apply caps: operation not permitted" on
 * these machines, whose root has no CAP_SYS_RESOURCE); here those get what the daemon holds, and
 * an explicit `--cap-add` of a capability the daemon lacks is refused at create, naming it.
 */

/** linux/capability.h, by number: CAP_CHOWN is 0, CAP_CHECKPOINT_RESTORE 40. */
export const CAPABILITY_NAMES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW',
  'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD',
  'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** Docker's default set (0xa80425fb), what a container gets without `--cap-add`/`--cap-drop`. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_SYS_CHROOT', 'CAP_MKNOD', 'CAP_AUDIT_WRITE', 'CAP_SETFCAP',
];

/** What the host allows: the capabilities its kernel knows, and those the daemon holds. */
export interface CapabilityHost {
  /** CAP_ names up to /proc/sys/kernel/cap_last_cap. */
  readonly known: readonly string[];
  /** CAP_ names in the daemon's bounding and effective sets (/proc/self/status CapBnd & CapEff). */
  readonly held: readonly string[];
}

/** The names of the bits of a mask (capabilities the table does not name are left out). */
export function capabilityNames(mask: bigint): string[] {
  return CAPABILITY_NAMES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

/** The mask of a set of CAP_ names (unknown names are ignored: they were checked before). */
export function capabilityMask(names: readonly string[]): bigint {
  let mask = 0n;
  for (const name of names) {
    const bit = CAPABILITY_NAMES.indexOf(name);
    if (bit >= 0) mask |= 1n << BigInt(bit);
  }
  return mask;
}

/** The host's capabilities from the text of /proc/sys/kernel/cap_last_cap and /proc/self/status. */
export function capabilityHostFrom(lastCapText: string, statusText: string): CapabilityHost {
  const last = Number.parseInt(lastCapText.trim(), 10);
  const known = CAPABILITY_NAMES.slice(0, Number.isInteger(last) && last >= 0 ? last + 1 : CAPABILITY_NAMES.length);
  const field = (name: string): bigint => {
    const m = new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(statusText);
    return m ? BigInt(`0x${m[1]!}`) : 0n;
  };
  const held = capabilityNames(field('CapBnd') & field('CapEff')).filter((c) => known.includes(c));
  return { known, held };
}

/**
 * `--cap-add`/`--cap-drop` values as Docker takes them ("sys_admin", "CAP_NET_ADMIN", "all"), as
 * `CAP_…` names or `ALL`. Throws Docker's one line for a name this kernel does not know.
 */
export function normalizeCapabilities(values: readonly string[], known: readonly string[], field: 'CapAdd' | 'CapDrop'): string[] {
  const out: string[] = [];
  for (const raw of values) {
    const upper = raw.trim().toUpperCase();
    const name = upper === 'ALL' ? 'ALL' : upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
    if (name !== 'ALL' && !known.includes(name)) throw new Error(`invalid ${field}: unknown capability: "${name}"`);
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

/** What a container asks for: normalized adds and drops, and --privileged. */
export interface CapabilityRequest {
  readonly capAdd: readonly string[];
  readonly capDrop: readonly string[];
  readonly privileged: boolean;
}

/**
 * The container's capability set (moby's TweakCapabilities on Docker's default set): privileged,
 * every capability the daemon holds; `ALL` added, every known one but the drops; `ALL` dropped,
 * only the adds; else the default set without the drops, with the adds. Whatever the daemon does
 * not hold is left out of ALL and privileged; an explicit add of one it lacks throws.
 */
export function containerCapabilities(request: CapabilityRequest, host: CapabilityHost): string[] {
  if (request.privileged) return [...host.held];
  const { capAdd, capDrop } = request;
  for (const c of capAdd) {
    if (c !== 'ALL' && !host.held.includes(c)) {
      throw new Error(`invalid CapAdd: ${c}: the daemon does not hold it (not in its bounding set), so no container can have it`);
    }
  }
  let caps: string[];
  if (capAdd.includes('ALL')) caps = host.held.filter((c) => !capDrop.includes(c));
  else if (capDrop.includes('ALL')) caps = [...capAdd];
  else caps = [...DEFAULT_CAPABILITIES.filter((c) => !capDrop.includes(c)), ...capAdd];
  const set = new Set(caps);
  return CAPABILITY_NAMES.filter((c) => set.has(c));
}
