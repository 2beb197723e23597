// The shim's wire format (version 1) and a small client for both modes. Mirrors shim/protocol.h;
// docs/shim.md has the full description. No daemon logic here: the isolator driver builds on it.
import type { DeviceRule, SeccompAction, SeccompFilter } from '../../core/plugin-api.js';
import { capabilityMask } from '../../core/plugin-api.js';
import { createHash } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { basename, dirname, join } from 'node:path';

export const SHIM_PROTOCOL_VERSION = 1;

/** Frame types; keep in step with `enum frame_type` in shim/protocol.h. */
export const FrameType = {
  // shim -> daemon
  Hello: 1,
  Output: 2,
  Exit: 3,
  Error: 4,
  Started: 5,
  // daemon -> shim
  Stdin: 16,
  StdinClose: 17,
  Resize: 18,
  Signal: 19,
  Ack: 20,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export const OutputStream = { Stdout: 1, Stderr: 2 } as const;

export const FRAME_HEADER_LENGTH = 5;
/** The shim refuses bigger frames; the decoder does the same. */
export const FRAME_MAX_PAYLOAD = 4 * 1024 * 1024;

export interface Frame {
  type: number;
  payload: Buffer;
}

export function encodeFrame(type: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  if (payload.length > FRAME_MAX_PAYLOAD) throw new RangeError(`frame payload of ${payload.length} bytes exceeds ${FRAME_MAX_PAYLOAD}`);
  const header = Buffer.alloc(FRAME_HEADER_LENGTH);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

/** Splits a byte stream into frames; keeps a partial frame until the rest arrives. */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Frame[] = [];
    let pos = 0;
    while (this.pending.length - pos >= FRAME_HEADER_LENGTH) {
      const length = this.pending.readUInt32BE(pos + 1);
      if (length > FRAME_MAX_PAYLOAD) throw new RangeError(`frame payload of ${length} bytes exceeds ${FRAME_MAX_PAYLOAD}`);
      if (this.pending.length - pos < FRAME_HEADER_LENGTH + length) break;
      const start = pos + FRAME_HEADER_LENGTH;
      frames.push({ type: this.pending.readUInt8(pos), payload: Buffer.from(this.pending.subarray(start, start + length)) });
      pos = start + length;
    }
    this.pending = pos === this.pending.length ? Buffer.alloc(0) : this.pending.subarray(pos);
    return frames;
  }

  /** Bytes of an incomplete frame still held. */
  get buffered(): number {
    return this.pending.length;
  }
}

// ---- typed messages, shim -> daemon ----

export interface HelloMessage {
  type: 'hello';
  version: number;
  shimPid: number;
  initPid: number;
}
export interface OutputMessage {
  type: 'output';
  stream: 'stdout' | 'stderr';
  /** Byte offset of data in the combined stdout+stderr sequence. */
  offset: number;
  /** offset + data.length: what to ack once this chunk is stored. */
  end: number;
  data: Buffer;
}
export interface ExitMessage {
  type: 'exit';
  /** The exit code, or 128+signal when killed by one. */
  exitCode: number;
  signal: number;
  /** RFC 3339 with nanoseconds, UTC. */
  finishedAt: string;
}
export interface ErrorMessage {
  type: 'error';
  message: string;
}
export interface StartedMessage {
  type: 'started';
  pid: number;
  /** /proc/<pid>/stat field 22 as the shim read it before it could reap the process; absent from older shims, 0 when it could not be read. */
  startTime?: number;
}
export type ShimMessage = HelloMessage | OutputMessage | ExitMessage | ErrorMessage | StartedMessage;

/** Decodes a shim -> daemon frame; null for types this version does not know (ignore them). */
export function decodeShimMessage(frame: Frame): ShimMessage | null {
  const p = frame.payload;
  const need = (n: number): void => {
    if (p.length < n) throw new RangeError(`frame type ${frame.type}: payload of ${p.length} bytes, expected at least ${n}`);
  };
  switch (frame.type) {
    case FrameType.Hello:
      need(10);
      return { type: 'hello', version: p.readUInt16BE(0), shimPid: p.readUInt32BE(2), initPid: p.readUInt32BE(6) };
    case FrameType.Output: {
      need(9);
      const offset = Number(p.readBigUInt64BE(1));
      const data = p.subarray(9);
      return { type: 'output', stream: p.readUInt8(0) === OutputStream.Stderr ? 'stderr' : 'stdout', offset, end: offset + data.length, data };
    }
    case FrameType.Exit:
      need(8);
      return { type: 'exit', exitCode: p.readInt32BE(0), signal: p.readInt32BE(4), finishedAt: p.subarray(8).toString('utf8') };
    case FrameType.Error:
      return { type: 'error', message: p.toString('utf8') };
    case FrameType.Started:
      need(4);
      return { type: 'started', pid: p.readUInt32BE(0), ...(p.length >= 12 ? { startTime: Number(p.readBigUInt64BE(4)) } : {}) };
    default:
      return null;
  }
}

// ---- daemon -> shim ----

export function encodeStdin(data: Buffer): Buffer {
  return encodeFrame(FrameType.Stdin, data);
}
export function encodeStdinClose(): Buffer {
  return encodeFrame(FrameType.StdinClose);
}
export function encodeResize(rows: number, cols: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt16BE(rows, 0);
  p.writeUInt16BE(cols, 2);
  return encodeFrame(FrameType.Resize, p);
}
export function encodeSignal(signo: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(signo, 0);
  return encodeFrame(FrameType.Signal, p);
}
export function encodeAck(offset: number): Buffer {
  const p = Buffer.alloc(8);
  p.writeBigUInt64BE(BigInt(offset), 0);
  return encodeFrame(FrameType.Ack, p);
}

/** Stdin frames are split so none exceeds the shim's frame limit. */
function encodeStdinChunks(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += 1024 * 1024) out.push(encodeStdin(data.subarray(i, i + 1024 * 1024)));
  return out;
}

// ---- the spec file ----

export interface ShimMount {
  type: string;
  source: string;
  /** Absolute host path, e.g. the rootfs for the overlay mount. */
  target: string;
  /** Comma-separated string or list; empty for none. */
  options: string | readonly string[];
}

/** A host path bound (recursively) at a path inside the container; the shim resolves `target` within the rootfs. */
export interface ShimBind {
  source: string;
  /** Absolute, inside the container. */
  target: string;
  readOnly: boolean;
}

/** What both modes need to start a process. */
export interface ShimProcessSpec {
  /** argv; the first is looked up in the container's PATH when it has no slash. */
  args: readonly string[];
  /** KEY=VALUE, exactly as given; PATH defaults to Docker's, HOME to the user's passwd entry. */
  env?: readonly string[];
  cwd?: string;
  /** "", "uid", "uid:gid", "name", "name:group" (resolved in the container's /etc files). */
  user?: string;
  tty?: boolean;
  stdin?: boolean;
  rows?: number;
  cols?: number;
  /** Absolute cgroup directories (one per v1 hierarchy) the process joins. */
  cgroups?: readonly string[];
  /** The syscall filter loaded last before execve; none: unconfined. */
  seccomp?: SeccompFilter | null;
  /** Where the shim keeps compiled filters (`seccomp-cache <dir> <sha256 of the seccomp lines>`); none: compiled at every start. */
  seccompCacheDir?: string;
  /** The CAP_ names the process gets (`caps <hex mask>`); none: Docker's default set. */
  capabilities?: readonly string[];
  /** `no_new_privs` on the process (`no-new-privs 1`, `--security-opt no-new-privileges`); none: setuid programs work as in Docker. */
  noNewPrivileges?: boolean;
}

/** `--tmpfs`: a tmpfs at an absolute path inside the container, with mount flags and tmpfs data. */
export interface ShimTmpfs {
  target: string;
  /** Comma-separated ("noexec,nosuid,nodev,size=65536k"); "" for none. */
  options: string;
}

/** A device node the init makes (mknod) inside the container. */
export interface ShimDevice {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  mode: number;
  uid: number;
  gid: number;
}

/** `mini-docker-shim run <bundle>` reads this from <bundle>/spec. */
export interface ShimRunSpec extends ShimProcessSpec {
  id: string;
  rootfs: string;
  /** Mounted in order before anything else; without any, rootfs is bind-mounted onto itself. */
  mounts?: readonly ShimMount[];
  /** Bound after the mounts, before /proc, /sys and /dev. */
  binds?: readonly ShimBind[];
  hostname?: string;
  /** Bytes of unacknowledged output the shim holds before it stops reading (default 1 MiB). */
  bufferBytes?: number;
  /** Offset of the first output byte (default 0): a restarted container continues its log's sequence. */
  startOffset?: number;
  /** The network namespace: "new" (default), "host", or the path of one to join. */
  netns?: string;
  /**
   * Join the network namespace of process `pid`, which must be `parent`'s child (another
   * container's init and its shim, `--network container:NAME`): the shim refuses a pid reused by
   * another process since (spec line `netns-of`). Instead of `netns`.
   */
  netnsOf?: { readonly pid: number; readonly parent: number };
  /** Hold the init before its command until the caller says "go" (startShim's onHeld). */
  hold?: boolean;
  /** /sys writable, no masked or read-only paths. */
  privileged?: boolean;
  /** The root remounted read-only after pivot_root. */
  readonlyRootfs?: boolean;
  tmpfs?: readonly ShimTmpfs[];
  devices?: readonly ShimDevice[];
  /** The devices the container may use, for a cgroup v2 folder among `cgroups` (an eBPF program); none: every device. */
  deviceRules?: readonly DeviceRule[];
  /** A user namespace: container ids 0..size-1 are host ids uid.. and gid.. (`userns <uid> <gid> <size>`). */
  userns?: { readonly uid: number; readonly gid: number; readonly size: number };
}

/** `mini-docker-shim exec <spec>`. */
export interface ShimExecSpec extends ShimProcessSpec {
  id?: string;
  /** The container's init pid, host view. */
  pid: number;
  /** The init's shim (its parent): the shim joins the init's namespaces only while the pid is still that shim's child (a pidfd first), never a reused pid's. */
  parent?: number;
  /** Where the shim writes the exec's exit record ("<code> <signal> <finishedAt>") before it sends EXIT. */
  exitFile?: string;
}

export type ShimSpec = ShimRunSpec | ShimExecSpec;

export function escapeSpecValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}

export function unescapeSpecValue(value: string): string {
  return value.replace(/\\(.)/gs, (_m, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    if (c === 't') return '\t';
    if (c === 's') return ' ';
    throw new Error(`invalid escape "\\${c}" in spec value`);
  });
}

function mountField(name: string, value: string): string {
  if (value === '' || value.includes(' ')) throw new Error(`spec mount ${name} "${value}": must be non-empty and contain no space`);
  return escapeSpecValue(value);
}

/** A bind field: escaped, with spaces as \s (fields are separated by spaces). */
function bindField(name: string, value: string): string {
  if (!value.startsWith('/')) throw new Error(`spec bind ${name} "${value}": must be an absolute path`);
  return escapeSpecValue(value).replace(/ /g, '\\s');
}

const actionField = (a: SeccompAction): string => `${a.kind} ${a.errno}`;

/** `seccomp <action> <errno>`, `seccomp-others <action> <errno>`, `seccomp-rule <action> <errno> <name> [<index>,<op>,<value>,<value2>]...`. */
export function seccompLines(filter: SeccompFilter): string[] {
  const lines = [`seccomp ${actionField(filter.defaultAction)}`];
  if (filter.others) lines.push(`seccomp-others ${actionField(filter.others)}`);
  for (const r of filter.rules) {
    if (!/^[a-z0-9_]+$/.test(r.name)) throw new Error(`spec seccomp rule "${r.name}": not a syscall name`);
    if (r.args.length > 6) throw new Error(`spec seccomp rule ${r.name}: at most 6 argument conditions`);
    lines.push(`seccomp-rule ${actionField(r.action)} ${r.name}${r.args.map((a) => ` ${a.index},${a.op},${a.value},${a.valueTwo}`).join('')}`);
  }
  return lines;
}

function isRunSpec(spec: ShimSpec): spec is ShimRunSpec {
  return 'rootfs' in spec;
}

/** The spec file's text (see docs/shim.md for the format). */
export function serializeSpec(spec: ShimSpec): string {
  if (spec.args.length === 0) throw new Error('spec: args must have at least one entry');
  const lines: string[] = ['version 1'];
  const add = (key: string, value: string | number | boolean | undefined): void => {
    if (value === undefined) return;
    const text = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
    lines.push(`${key} ${escapeSpecValue(text)}`);
  };
  add('id', spec.id);
  if (isRunSpec(spec)) {
    add('rootfs', spec.rootfs);
    for (const m of spec.mounts ?? []) {
      const options = typeof m.options === 'string' ? m.options : m.options.join(',');
      if (!m.target.startsWith('/')) throw new Error(`spec mount target "${m.target}": must be absolute`);
      lines.push(`mount ${mountField('type', m.type)} ${mountField('source', m.source)} ${mountField('target', m.target)} ${options === '' ? '-' : mountField('options', options)}`);
    }
    for (const b of spec.binds ?? []) lines.push(`bind ${bindField('source', b.source)} ${bindField('target', b.target)} ${b.readOnly ? 'ro' : 'rw'}`);
    add('hostname', spec.hostname);
    add('buffer', spec.bufferBytes);
    add('offset', spec.startOffset);
    if (spec.netns !== undefined && spec.netns !== 'new') {
      if (spec.netns !== 'host' && !spec.netns.startsWith('/')) throw new Error(`spec netns "${spec.netns}": expected new, host or an absolute path`);
      add('netns', spec.netns);
    }
    if (spec.netnsOf) {
      if (spec.netns !== undefined && spec.netns !== 'new') throw new Error('spec netns and netnsOf: give one');
      const { pid, parent } = spec.netnsOf;
      if (![pid, parent].every((n) => Number.isInteger(n) && n > 0)) throw new Error(`spec netnsOf ${pid} ${parent}: expected two pids`);
      lines.push(`netns-of ${pid} ${parent}`);
    }
    if (spec.hold) add('hold', true);
    lines.push(...securityLines(spec));
    if (spec.userns) {
      const { uid, gid, size } = spec.userns;
      if (![uid, gid, size].every((n) => Number.isInteger(n) && n > 0) || uid + size > 0xffffffff || gid + size > 0xffffffff) {
        throw new Error(`spec userns ${uid} ${gid} ${size}: expected host ids above 0 and a size above 0`);
      }
      lines.push(`userns ${uid} ${gid} ${size}`);
    }
  } else {
    add('pid', spec.pid);
    if (spec.parent !== undefined && !(Number.isInteger(spec.parent) && spec.parent > 0)) throw new Error(`spec parent ${spec.parent}: expected a pid`);
    add('parent', spec.parent);
    if (spec.exitFile !== undefined && !spec.exitFile.startsWith('/')) throw new Error(`spec exit-file "${spec.exitFile}": must be an absolute path`);
    add('exit-file', spec.exitFile);
  }
  for (const a of spec.args) add('arg', a);
  for (const e of spec.env ?? []) {
    if (!e.includes('=')) throw new Error(`spec env "${e}": expected KEY=VALUE`);
    add('env', e);
  }
  add('cwd', spec.cwd);
  add('user', spec.user);
  add('tty', spec.tty);
  add('stdin', spec.stdin);
  add('rows', spec.rows);
  add('cols', spec.cols);
  for (const c of spec.cgroups ?? []) add('cgroup', c);
  if (spec.capabilities) lines.push(`caps ${capabilityMask(spec.capabilities).toString(16)}`);
  if (spec.noNewPrivileges) lines.push('no-new-privs 1');
  if (spec.seccomp) {
    const filter = seccompLines(spec.seccomp);
    lines.push(...filter);
    // The key names the compiled program; a folder the spec cannot carry (spaces) just means no cache.
    const dir = spec.seccompCacheDir;
    if (dir && dir.startsWith('/') && !/[\s\\]/.test(dir)) lines.push(`seccomp-cache ${dir} ${createHash('sha256').update(filter.join('\n')).digest('hex')}`);
  }
  return lines.join('\n') + '\n';
}

/** `privileged 1`, `readonly-rootfs 1`, `tmpfs <target> <options>`, `device <path> <c|b> <major> <minor> <mode> <uid> <gid>`, `device-rule <a|c|b> <major|*> <minor|*> <rwm>`. */
function securityLines(spec: ShimRunSpec): string[] {
  const lines: string[] = [];
  if (spec.privileged) lines.push('privileged 1');
  if (spec.readonlyRootfs) lines.push('readonly-rootfs 1');
  for (const t of spec.tmpfs ?? []) {
    if (t.options.includes(' ')) throw new Error(`spec tmpfs options "${t.options}": no spaces`);
    lines.push(`tmpfs ${bindField('target', t.target)} ${t.options === '' ? '-' : escapeSpecValue(t.options)}`);
  }
  for (const d of spec.devices ?? []) {
    const numbers = [d.major, d.minor, d.uid, d.gid];
    if (!numbers.every((n) => Number.isInteger(n) && n >= 0) || !Number.isInteger(d.mode) || d.mode < 0 || d.mode > 0o7777) {
      throw new Error(`spec device ${d.path}: invalid numbers`);
    }
    lines.push(`device ${bindField('path', d.path)} ${d.type} ${d.major} ${d.minor} ${d.mode.toString(8)} ${d.uid} ${d.gid}`);
  }
  for (const r of spec.deviceRules ?? []) {
    const number = (n: number | '*'): string => (n === '*' ? '*' : String(n));
    if (!/^[rwm]{1,3}$/.test(r.access)) throw new Error(`spec device rule: bad access "${r.access}"`);
    lines.push(`device-rule ${r.type} ${number(r.major)} ${number(r.minor)} ${r.access}`);
  }
  return lines;
}

/** Writes the spec atomically (temp file + rename), mode 0600. */
export async function writeSpec(path: string, spec: ShimSpec): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, serializeSpec(spec), { mode: 0o600 });
  await rename(tmp, path);
}

// ---- run mode ----

/** The shim could not start the process: exitCode is 125, 126 or 127 as `docker run` reports. */
export class ShimStartError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'ShimStartError';
  }
}

export interface ShimStarted {
  shimPid: number;
  initPid: number;
}

/** Parses the report line of `mini-docker-shim run`. */
export function parseReportLine(line: string): ShimStarted | ShimStartError {
  const ok = /^ok (\d+) (\d+)$/.exec(line);
  if (ok) return { shimPid: Number(ok[1]), initPid: Number(ok[2]) };
  const err = /^error (\d+) (.*)$/s.exec(line);
  if (err) return new ShimStartError(Number(err[1]), err[2]!);
  return new ShimStartError(125, `shim: unexpected report "${line}"`);
}

/** How the shim's report of a start the daemon ended at the hold begins (shim/main.c hold_for_daemon). */
const HOLD_ENDED = 'the daemon ended the start before the command ran';

/**
 * Spawns `mini-docker-shim run <bundleDir>` and resolves with the pids once the container's
 * command was exec'd. The shim has detached by then; it outlives the caller. With `onHeld` (the
 * spec said `hold 1`), the shim reports `held <initPid> <shimPid>` once the init is in its namespaces
 * and cgroups, and the init sets up its root meanwhile: `onHeld(initPid, shimPid)` runs then (the network step
 * wires the namespace), and its success lets the command run; its rejection ends the start with
 * that error (or with the init's own, when its setup had failed first).
 */
export function startShim(shimBinary: string, bundleDir: string, onHeld?: (initPid: number, shimPid: number) => Promise<void>): Promise<ShimStarted> {
  return new Promise((resolve, reject) => {
    const child = spawn(shimBinary, ['run', bundleDir], { stdio: [onHeld ? 'pipe' : 'ignore', 'pipe', 'ignore'] });
    let text = '';
    let settled = false;
    let heldError: Error | undefined;
    const settle = (result: ShimStarted | Error): void => {
      if (settled) return;
      settled = true;
      // The daemon's part failed and ended the start: its error says why, unless the init had
      // failed first (its setup runs meanwhile), which the shim then reports instead.
      if (result instanceof Error) reject(heldError && result.message.startsWith(HOLD_ENDED) ? heldError : result);
      else resolve(result);
    };
    const answer = (line: string): void => {
      if (!child.stdin || child.stdin.destroyed) return;
      child.stdin.on('error', () => undefined); // a shim that died is reported by its exit
      child.stdin.end(`${line}\n`);
    };
    child.on('error', (err) => settle(new ShimStartError(125, `spawn ${shimBinary}: ${err.message}`)));
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      text += chunk;
      let nl: number;
      while ((nl = text.indexOf('\n')) >= 0) {
        const line = text.slice(0, nl);
        text = text.slice(nl + 1);
        const held = /^held (\d+) (\d+)$/.exec(line);
        if (!held) {
          settle(parseReportLine(line));
          continue;
        }
        if (!onHeld) {
          settle(new ShimStartError(125, 'shim: held the container without being asked to'));
          continue;
        }
        onHeld(Number(held[1]), Number(held[2])).then(
          () => answer('go'),
          (err: unknown) => {
            heldError = err instanceof Error ? err : new Error(String(err));
            answer('abort');
          },
        );
      }
    });
    child.on('close', (code, signal) => {
      settle(new ShimStartError(125, `shim exited (${signal ?? code}) without reporting${text ? `: ${text.trim()}` : ''}`));
    });
  });
}

export interface ExitStatus {
  exitCode: number;
  signal: number;
  finishedAt: string;
}

/** <bundle>/exit, or null while the container has not exited (or the file is not there yet). */
export async function readExitFile(bundleDir: string): Promise<ExitStatus | null> {
  return readExitRecord(join(bundleDir, 'exit'));
}

/** An exit record at any path (a container's `<bundle>/exit`, an exec's `exitFile`); null when there is none. */
export async function readExitRecord(path: string): Promise<ExitStatus | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const m = /^(-?\d+) (\d+) (\S+)\n?$/.exec(text);
  if (!m) throw new Error(`${path}: malformed "${text.trim()}"`);
  return { exitCode: Number(m[1]), signal: Number(m[2]), finishedAt: m[3]! };
}

/**
 * Connects to a unix socket whose path may be longer than sun_path allows (108 bytes), through
 * /proc/self/fd/<dir fd>/<name>; the directory fd is closed once connected.
 */
function connectShort(path: string): Socket {
  if (Buffer.byteLength(path) < 100) return connect(path);
  const dirFd = openSync(dirname(path), 'r');
  const socket = connect(`/proc/self/fd/${dirFd}/${basename(path)}`);
  let open = true;
  const release = (): void => {
    if (open) closeSync(dirFd);
    open = false;
  };
  socket.once('connect', release);
  socket.once('error', release);
  return socket;
}

export interface ShimConnectionEvents {
  hello: [HelloMessage];
  output: [OutputMessage];
  exit: [ExitMessage];
  /** An ERROR frame from the shim (not a socket error). */
  shimError: [ErrorMessage];
  /** The connection ended; err when it failed (refused, reset, bad frame). */
  close: [err?: Error];
}

export interface ShimConnectionOptions {
  /** Output before this offset is already stored: drop resent chunks (and overlapping bytes). */
  skipBefore?: number;
}

/**
 * A daemon's connection to a running shim (`<bundle>/shim.sock`). Attach listeners right after
 * construction: frames are delivered as they arrive. The shim sends HELLO, then every output chunk
 * not yet acked, then live output, and EXIT once the init exited and all output was acked.
 */
export class ShimConnection extends EventEmitter<ShimConnectionEvents> {
  /** Resolves with the HELLO; rejects if the connection closes first. */
  readonly ready: Promise<HelloMessage>;
  private readonly socket: Socket;
  private readonly decoder = new FrameDecoder();
  private skipBefore: number;
  private closed = false;

  constructor(bundleDir: string, options: ShimConnectionOptions = {}) {
    super();
    this.skipBefore = options.skipBefore ?? 0;
    this.socket = connectShort(join(bundleDir, 'shim.sock'));
    this.ready = new Promise<HelloMessage>((resolve, reject) => {
      this.once('hello', resolve);
      this.once('close', (err) => reject(err ?? new Error('shim connection closed before HELLO')));
    });
    this.ready.catch(() => undefined); // a caller that never awaits ready must not crash the process
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.finish(err));
    this.socket.on('close', () => this.finish());
  }

  private onData(chunk: Buffer): void {
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.finish(err as Error);
      this.socket.destroy();
      return;
    }
    for (const frame of frames) {
      const msg = decodeShimMessage(frame);
      if (!msg) continue;
      if (msg.type === 'hello') this.emit('hello', msg);
      else if (msg.type === 'output') this.deliverOutput(msg);
      else if (msg.type === 'exit') this.emit('exit', msg);
      else if (msg.type === 'error') this.emit('shimError', msg);
    }
  }

  private deliverOutput(msg: OutputMessage): void {
    if (msg.end <= this.skipBefore) return;
    if (msg.offset < this.skipBefore) {
      const cut = this.skipBefore - msg.offset;
      msg = { ...msg, offset: this.skipBefore, data: msg.data.subarray(cut) };
    }
    this.skipBefore = msg.end;
    this.emit('output', msg);
  }

  private finish(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close', err);
  }

  private send(buf: Buffer): void {
    if (!this.closed && this.socket.writable) this.socket.write(buf);
  }

  /** Everything before offset is stored: the shim may forget it. */
  ack(offset: number): void {
    this.send(encodeAck(offset));
  }
  stdin(data: Buffer): void {
    for (const f of encodeStdinChunks(data)) this.send(f);
  }
  closeStdin(): void {
    this.send(encodeStdinClose());
  }
  resize(rows: number, cols: number): void {
    this.send(encodeResize(rows, cols));
  }
  signal(signo: number): void {
    this.send(encodeSignal(signo));
  }
  /** After EXIT, closing tells the shim it may exit. */
  close(): void {
    this.socket.end();
  }
}

// ---- exec mode ----

export interface ExecHandleEvents {
  hello: [HelloMessage];
  started: [StartedMessage];
  output: [OutputMessage];
  exit: [ExitMessage];
  shimError: [ErrorMessage];
}

/** One `mini-docker-shim exec`: frames over the child's stdin/stdout. */
export class ExecHandle extends EventEmitter<ExecHandleEvents> {
  /** Host pid of the exec'd process (and its start time when the shim sent it); rejects with ShimStartError (125/126/127) when it could not start. */
  readonly started: Promise<StartedMessage>;
  /** The process's exit; rejects only if the shim died without sending EXIT. */
  readonly exited: Promise<ExitMessage>;
  /** The shim's own diagnostics (its stderr). */
  stderr = '';
  private readonly decoder = new FrameDecoder();
  private lastError = '';

  constructor(readonly child: ChildProcess) {
    super();
    this.started = new Promise<StartedMessage>((resolve, reject) => {
      this.once('started', resolve);
      this.once('exit', (m) => reject(new ShimStartError(m.exitCode, this.lastError || `exec exited with ${m.exitCode} before starting`)));
      child.once('close', (code) => reject(new ShimStartError(125, `exec shim exited (${code}) before starting: ${this.stderr.trim()}`)));
    });
    this.exited = new Promise<ExitMessage>((resolve, reject) => {
      this.once('exit', resolve);
      child.once('close', (code, signal) => reject(new Error(`exec shim exited (${signal ?? code}) without EXIT: ${this.stderr.trim()}`)));
    });
    this.started.catch(() => undefined);
    this.exited.catch(() => undefined);
    child.stdin!.on('error', () => undefined); // EPIPE once the shim is gone
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      if (this.stderr.length < 64 * 1024) this.stderr += s;
    });
    child.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  get shimPid(): number | undefined {
    return this.child.pid;
  }

  private onData(chunk: Buffer): void {
    for (const frame of this.decoder.push(chunk)) {
      const msg = decodeShimMessage(frame);
      if (!msg) continue;
      if (msg.type === 'hello') this.emit('hello', msg);
      else if (msg.type === 'started') this.emit('started', msg);
      else if (msg.type === 'output') this.emit('output', msg);
      else if (msg.type === 'exit') this.emit('exit', msg);
      else {
        this.lastError = msg.message;
        this.emit('shimError', msg);
      }
    }
  }

  private send(buf: Buffer): void {
    if (this.child.stdin && this.child.stdin.writable) this.child.stdin.write(buf);
  }
  stdin(data: Buffer): void {
    for (const f of encodeStdinChunks(data)) this.send(f);
  }
  closeStdin(): void {
    this.send(encodeStdinClose());
  }
  resize(rows: number, cols: number): void {
    this.send(encodeResize(rows, cols));
  }
  signal(signo: number): void {
    this.send(encodeSignal(signo));
  }
}

/** Spawns `mini-docker-shim exec <specPath>` as a direct child (write the spec with writeSpec first). */
export function spawnExec(shimBinary: string, specPath: string): ExecHandle {
  const child = spawn(shimBinary, ['exec', specPath], { stdio: ['pipe', 'pipe', 'pipe'] });
  const handle = new ExecHandle(child);
  child.on('error', (err) => {
    handle.stderr += `spawn ${shimBinary}: ${err.message}\n`;
  });
  return handle;
}
