/**
 * Seccomp profiles in Docker's JSON format (what `--security-opt seccomp=profile.json` takes, so
 * existing profiles work), compiled into the rules the shim hands to libseccomp. A profile says
 * what happens to a syscall no rule names (`defaultAction`) and, per group of syscall names, an
 * action, optional argument conditions, and when the group applies (`includes`/`excludes`: the
 * container's capabilities, the architecture, a minimum kernel).
 */

/** A syscall's fate: allow it, fail it with an errno, or kill. */
export interface SeccompAction {
  readonly kind: 'allow' | 'errno' | 'kill-process' | 'kill-thread' | 'trap' | 'log';
  readonly errno: number;
}

export interface SeccompArgCondition {
  readonly index: number;
  readonly op: 'ne' | 'lt' | 'le' | 'eq' | 'ge' | 'gt' | 'masked_eq';
  readonly value: bigint;
  readonly valueTwo: bigint;
}

export interface SeccompRule {
  readonly name: string;
  readonly action: SeccompAction;
  /** ANDed. */
  readonly args: readonly SeccompArgCondition[];
}

/** What the shim loads: rules by name, the fallback, and what every syscall no rule names gets. */
export interface SeccompFilter {
  readonly defaultAction: SeccompAction;
  /** tiny-docker's addition: the action of every syscall the kernel has that no rule names. */
  readonly others?: SeccompAction;
  readonly rules: readonly SeccompRule[];
}

/** Docker's profile format (the fields we read). */
export interface DockerSeccompProfile {
  readonly defaultAction: string;
  readonly defaultErrnoRet?: number;
  readonly architectures?: readonly string[];
  readonly syscalls?: readonly DockerSyscallGroup[];
  /** tiny-docker's addition: the action of every syscall no group names (the default profile allows them). */
  readonly 'x-tiny-docker-others'?: string;
}

interface DockerSyscallGroup {
  readonly names?: readonly string[];
  readonly name?: string;
  readonly action: string;
  readonly errnoRet?: number;
  readonly args?: readonly { readonly index: number; readonly value: number | string; readonly valueTwo?: number | string; readonly op: string }[] | null;
  readonly includes?: DockerCondition;
  readonly excludes?: DockerCondition;
}

interface DockerCondition {
  readonly caps?: readonly string[];
  readonly arches?: readonly string[];
  readonly minKernel?: string;
}

export { DEFAULT_CAPABILITIES } from './capabilities.js';

const EPERM = 1;
const ENOSYS = 38;

/** Namespace flags of clone(2): a container may not make new namespaces without CAP_SYS_ADMIN. */
const CLONE_NAMESPACE_FLAGS = 0x7e020000; // NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET

/**
 * The default profile, with the effect of Docker's: what a container without extra capabilities
 * may not do (load modules, reboot, mount, make namespaces, touch the kernel keyring or log, set
 * the clock, trace other processes' memory, disable ASLR with personality, ...) fails with EPERM
 * (clone3 with ENOSYS, so libc falls back to clone, where the namespace flags are checked); a
 * capability added to the container lifts the groups it covers, as in Docker's profile. Every
 * other syscall the kernel has is allowed.
 */
export const DEFAULT_SECCOMP_PROFILE: DockerSeccompProfile = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: EPERM,
  'x-tiny-docker-others': 'SCMP_ACT_ALLOW',
  syscalls: [
    // Never from a container (Docker denies these whatever the capabilities).
    { names: ['add_key', 'keyctl', 'request_key', 'kexec_load', 'kexec_file_load', 'userfaultfd', 'uselib', 'ustat', 'sysfs', '_sysctl', 'vm86', 'vm86old', 'nfsservctl', 'create_module', 'get_kernel_syms', 'query_module', 'io_uring_setup', 'io_uring_enter', 'io_uring_register'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM },
    // personality: only the harmless personas (and the query), not ADDR_NO_RANDOMIZE and friends.
    ...[0x0, 0x8, 0x20000, 0x20008, 0xffffffff].map((value) => ({ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }] })),
    // clone without namespace flags; with CAP_SYS_ADMIN any clone.
    { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }], excludes: { caps: ['CAP_SYS_ADMIN'] } },
    { names: ['clone'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS, excludes: { caps: ['CAP_SYS_ADMIN'] } },
    // Groups a capability lifts.
    { names: ['bpf', 'fanotify_init', 'lookup_dcookie', 'mount', 'move_mount', 'open_tree', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'name_to_handle_at', 'perf_event_open', 'pivot_root', 'quotactl', 'quotactl_fd', 'setns', 'swapon', 'swapoff', 'umount', 'umount2', 'unshare', 'mount_setattr'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, excludes: { caps: ['CAP_SYS_ADMIN'] } },
    { names: ['reboot'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, excludes: { caps: ['CAP_SYS_BOOT'] } },
    { names: ['chroot'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, excludes: { caps: ['CAP_SYS_CHROOT'] } },
    { names: ['init_module', 'finit_module', 'delete_module'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, excludes: { caps: ['CAP_SYS_MODULE'] } },
    { names: ['acct'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, excludes: { caps: ['CAP_SYS_PACCT'] } },
    { names: ['kcmp', 'process_vm_readv', 'process_vm_writev', 'pidfd_getfd'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, excludes: { caps: ['CAP_SYS_PTRACE'] } },
    { names: ['iopl', 'ioperm'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, excludes: { caps: ['CAP_SYS_RAWIO'] } },
    { names: ['settimeofday', 'stime', 'clock_settime', 'clock_adjtime'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, excludes: { caps: ['CAP_SYS_TIME'] } },
    { names: ['vhangup'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, excludes: { caps: ['CAP_SYS_TTY_CONFIG'] } },
    { names: ['get_mempolicy', 'mbind', 'set_mempolicy', 'move_pages'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, excludes: { caps: ['CAP_SYS_NICE'] } },
    { names: ['syslog'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, excludes: { caps: ['CAP_SYSLOG'] } },
    { names: ['open_by_handle_at'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, excludes: { caps: ['CAP_DAC_READ_SEARCH'] } },
  ],
};

const ACTIONS: Readonly<Record<string, SeccompAction['kind']>> = {
  SCMP_ACT_ALLOW: 'allow', SCMP_ACT_ERRNO: 'errno', SCMP_ACT_KILL: 'kill-thread', SCMP_ACT_KILL_THREAD: 'kill-thread',
  SCMP_ACT_KILL_PROCESS: 'kill-process', SCMP_ACT_TRAP: 'trap', SCMP_ACT_LOG: 'log',
};

const OPS: Readonly<Record<string, SeccompArgCondition['op']>> = {
  SCMP_CMP_NE: 'ne', SCMP_CMP_LT: 'lt', SCMP_CMP_LE: 'le', SCMP_CMP_EQ: 'eq', SCMP_CMP_GE: 'ge', SCMP_CMP_GT: 'gt', SCMP_CMP_MASKED_EQ: 'masked_eq',
};

/** What this machine's architecture is called in profiles. */
const NATIVE_ARCHES: ReadonlySet<string> = new Set(process.arch === 'arm64' ? ['arm64', 'aarch64', 'SCMP_ARCH_AARCH64'] : ['amd64', 'x86_64', 'SCMP_ARCH_X86_64']);

function action(name: string, errno: number | undefined, where: string): SeccompAction {
  const kind = ACTIONS[name];
  if (!kind) throw new Error(`seccomp profile: ${where}: unsupported action ${name} (use ${Object.keys(ACTIONS).join(', ')})`);
  return { kind, errno: kind === 'errno' ? errno ?? EPERM : 0 };
}

function u64(value: number | string | undefined, where: string): bigint {
  if (value === undefined) return 0n;
  let n: bigint;
  try {
    n = BigInt(value);
  } catch {
    throw new Error(`seccomp profile: ${where}: ${String(value)} is not an integer`);
  }
  if (n < 0n || n > 0xffffffffffffffffn) throw new Error(`seccomp profile: ${where}: ${String(value)} is not a 64-bit unsigned value`);
  return n;
}

/** "6.1.0-13-amd64" ≥ "4.8"? */
function kernelAtLeast(release: string, min: string): boolean {
  const a = release.split(/[.-]/).map((p) => Number.parseInt(p, 10));
  const b = min.split('.').map((p) => Number.parseInt(p, 10));
  for (let i = 0; i < b.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (!Number.isFinite(x) || x !== y) return Number.isFinite(x) && x > y;
  }
  return true;
}

function applies(group: DockerSyscallGroup, caps: ReadonlySet<string>, kernel: string): boolean {
  const inc = group.includes ?? {};
  const exc = group.excludes ?? {};
  if (inc.caps && !inc.caps.every((c) => caps.has(c))) return false;
  if (inc.arches && !inc.arches.some((a) => NATIVE_ARCHES.has(a))) return false;
  if (inc.minKernel && !kernelAtLeast(kernel, inc.minKernel)) return false;
  if (exc.caps && exc.caps.some((c) => caps.has(c))) return false;
  if (exc.arches && exc.arches.some((a) => NATIVE_ARCHES.has(a))) return false;
  if (exc.minKernel && kernelAtLeast(kernel, exc.minKernel)) return false;
  return true;
}

/**
 * Compiles a profile for a container with these capabilities (`CAP_…` names) on this kernel.
 * Throws one line naming what is wrong in the profile.
 */
export function compileSeccomp(profile: DockerSeccompProfile, caps: ReadonlySet<string>, kernel: string): SeccompFilter {
  if (typeof profile !== 'object' || profile === null || typeof profile.defaultAction !== 'string') throw new Error('seccomp profile: defaultAction is missing');
  const defaultAction = action(profile.defaultAction, profile.defaultErrnoRet, 'defaultAction');
  const rules: SeccompRule[] = [];
  for (const [i, group] of (profile.syscalls ?? []).entries()) {
    const where = `syscalls[${i}]`;
    const names = group.names ?? (group.name ? [group.name] : []);
    if (names.length === 0) throw new Error(`seccomp profile: ${where}: no names`);
    if (typeof group.action !== 'string') throw new Error(`seccomp profile: ${where}: no action`);
    const act = action(group.action, group.errnoRet, where);
    if (!applies(group, caps, kernel)) continue;
    const args = (group.args ?? []).map((a, j) => {
      const op = OPS[a.op];
      if (!op) throw new Error(`seccomp profile: ${where}.args[${j}]: unsupported op ${a.op}`);
      if (!Number.isInteger(a.index) || a.index < 0 || a.index > 5) throw new Error(`seccomp profile: ${where}.args[${j}]: index must be 0-5`);
      return { index: a.index, op, value: u64(a.value, `${where}.args[${j}].value`), valueTwo: u64(a.valueTwo, `${where}.args[${j}].valueTwo`) };
    });
    if (args.length > 6) throw new Error(`seccomp profile: ${where}: at most 6 argument conditions`);
    for (const name of names) {
      if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`seccomp profile: ${where}: "${name}" is not a syscall name`);
      rules.push({ name, action: act, args });
    }
  }
  const others = profile['x-tiny-docker-others'];
  return { defaultAction, ...(others ? { others: action(others, undefined, 'x-tiny-docker-others') } : {}), rules };
}

/** What a container's `--security-opt` values ask for. */
export interface SecurityOptions {
  /** 'default', 'unconfined', or a profile given as JSON. */
  readonly seccomp: 'default' | 'unconfined' | DockerSeccompProfile;
  readonly noNewPrivileges: boolean;
}

/**
 * Reads `--security-opt` as Docker does: `seccomp=unconfined`, `seccomp=<profile JSON>` (the CLI
 * reads the file and sends its content), `no-new-privileges[=true|false]`; both `=` and the old
 * `:` separator. Anything else (apparmor, label, systempaths) is refused in one line.
 */
export function parseSecurityOptions(values: readonly string[]): SecurityOptions {
  let seccomp: SecurityOptions['seccomp'] = 'default';
  let noNewPrivileges = false;
  for (const raw of values) {
    const m = /^([a-z-]+)(?:[=:]([\s\S]*))?$/.exec(raw);
    const key = m?.[1];
    const value = m?.[2];
    if (key === 'seccomp' && value !== undefined) {
      if (value === 'unconfined') seccomp = 'unconfined';
      else {
        let parsed: unknown;
        try {
          parsed = JSON.parse(value);
        } catch {
          throw new Error(`invalid --security-opt seccomp: not a profile in Docker's JSON format (give the file: --security-opt seccomp=/path/profile.json, or unconfined)`);
        }
        compileSeccomp(parsed as DockerSeccompProfile, new Set(), '0'); // refuses a bad profile now, not at start
        seccomp = parsed as DockerSeccompProfile;
      }
    } else if (key === 'no-new-privileges' && (value === undefined || value === 'true' || value === 'false')) {
      noNewPrivileges = value !== 'false';
    } else {
      throw new Error(`invalid --security-opt: ${raw.length > 60 ? `${raw.slice(0, 60)}…` : raw} (supported: seccomp=unconfined, seccomp=PROFILE, no-new-privileges)`);
    }
  }
  return { seccomp, noNewPrivileges };
}

/** The filter a container gets: none when unconfined, else its profile (or the default) for its capabilities. */
export function seccompFilterFor(options: SecurityOptions, caps: readonly string[], kernel: string): SeccompFilter | null {
  if (options.seccomp === 'unconfined') return null;
  return compileSeccomp(options.seccomp === 'default' ? DEFAULT_SECCOMP_PROFILE : options.seccomp, new Set(caps), kernel);
}
