/**
 * Drivers that keep everything in memory, for unit tests that construct the real engine (its
 * handlers, process managers, exit recorder and reconciler) without the kernel: a storage driver
 * whose layers and writable layers are trees in memory (test/memory-storage.ts), and an isolator whose "processes"
 * follow their command: `echo a b` prints "a b" and exits 0, `sh -c 'exit N'` exits N, `cat`
 * echoes stdin until it is closed, `sleep` runs until signalled (128+signal), `nosuch` fails to
 * start (127). Both implement their kind's whole interface (the registry checks it) and pass their
 * kind's conformance suite (test/unit/memory-drivers-conformance.test.ts). The log,
 * limiter and exporter kinds use the real drivers (test/unit/engine-rig.ts).
 */
import type { ExitStatus } from '../events/index.js';
import {
  ProcessStartError, type DriverStatus, type ExecProcess, type ExecSpec, type HeldProcess, type IsolatorDriver, type LostExecEnd, type LostExecProcess,
  type ProcessIO, type ProcessSink, type ProcessSpec,
} from '../core/plugins/driver.js';

export { MemoryStorage } from './memory-storage.js';

type Listener = (stream: 'stdout' | 'stderr', data: Buffer, endOffset: number) => void;

/**
 * One scripted process. Its output is numbered by byte offset and kept until acknowledged: a
 * listener that comes later (the first connection, or the next one after `close`, as after a
 * daemon restart) gets what was not acknowledged, as the shim resends it.
 */
class ScriptedProcess implements ProcessIO {
  private outputs: Listener[] = [];
  private exits: ((status: ExitStatus) => void)[] = [];
  private unacked: [stream: 'stdout' | 'stderr', data: Buffer, endOffset: number][] = [];
  private offset: number;
  status: ExitStatus | null = null;

  constructor(readonly pid: number, readonly args: readonly string[], offset: number) {
    this.offset = offset;
  }

  begin(): void {
    const [cmd, ...rest] = this.args;
    if (cmd === 'echo') {
      this.emit('stdout', Buffer.from(`${rest.join(' ')}\n`));
      this.exit(0, null);
    } else if (cmd === 'sh' && rest[0] === '-c' && /^exit \d+$/.test(rest[1] ?? '')) {
      this.exit(Number(rest[1]!.slice(5)), null);
    } else if (cmd === 'true') {
      this.exit(0, null);
    }
    // sleep and cat run until a signal or the end of stdin.
  }

  /** The process writes (a test's stand-in for what a real one prints while it runs). */
  print(stream: 'stdout' | 'stderr', text: string): void {
    if (!this.status) this.emit(stream, Buffer.from(text));
  }

  private emit(stream: 'stdout' | 'stderr', data: Buffer): void {
    this.offset += data.length;
    this.unacked.push([stream, data, this.offset]);
    for (const l of this.outputs) l(stream, data, this.offset);
  }

  exit(code: number, signal: number | null, oomKilled = false): void {
    if (this.status) return;
    this.status = { exitCode: signal === null ? code : 128 + signal, signal, oomKilled, finishedAt: new Date().toISOString() };
    if (this.exits.length > 0) this.deliverExit();
  }

  private deliverExit(): void {
    const status = this.status;
    if (!status) return;
    setImmediate(() => { for (const l of this.exits.splice(0)) l(status); });
  }

  onOutput(listener: Listener): void {
    this.outputs.push(listener);
    for (const [stream, data, end] of this.unacked) listener(stream, data, end);
  }

  onExit(listener: (status: ExitStatus) => void): void {
    this.exits.push(listener);
    if (this.status) this.deliverExit();
  }

  ack(offset: number): void {
    this.unacked = this.unacked.filter(([, , end]) => end > offset);
  }

  write(data: Buffer): void {
    if (this.args[0] === 'cat' && !this.status) this.emit('stdout', data);
  }

  closeStdin(): void {
    if (this.args[0] === 'cat') this.exit(0, null);
  }

  resize(): void {}

  signal(signal: number): void {
    this.exit(0, signal);
  }

  /** The connection is let go: its listeners hear nothing more; the process goes on. */
  close(): void {
    this.outputs = [];
    this.exits = [];
  }
}

export class ScriptedIsolator implements IsolatorDriver {
  readonly id = 'isolator.v1.scripted';
  readonly processes = new Map<string, ScriptedProcess>();
  /** Bundles: what `held()` lists, gone on cleanup. */
  readonly bundles = new Set<string>();
  readonly specs: ProcessSpec[] = [];
  private nextPid = 90_000_000; // beyond pid_max: never a real process

  async init(): Promise<DriverStatus> {
    return { status: 'ok' };
  }

  async start(spec: ProcessSpec): Promise<{ pid: number; shimPid: number }> {
    this.bundles.add(spec.containerId);
    if (spec.args[0] === 'nosuch') throw new ProcessStartError(`exec: "nosuch": executable file not found in $PATH`, 127);
    this.specs.push(spec);
    const p = new ScriptedProcess(this.nextPid += 2, spec.args, spec.outputOffset ?? 0);
    this.processes.set(spec.containerId, p);
    p.begin();
    return { pid: p.pid, shimPid: p.pid - 1 };
  }

  async connect(containerId: string): Promise<ProcessIO> {
    const p = this.processes.get(containerId);
    if (!p) throw new Error(`no shim for ${containerId}`);
    return p;
  }

  isAlive(containerId: string, shimPid: number): boolean {
    const p = this.processes.get(containerId);
    return p !== undefined && p.pid - 1 === shimPid && p.status === null;
  }

  async exitStatus(containerId: string): Promise<ExitStatus | null> {
    return this.processes.get(containerId)?.status ?? null;
  }

  async kill(containerId: string, _pid: number, signal: number): Promise<void> {
    this.processes.get(containerId)?.signal(signal);
  }

  async exec(spec: ExecSpec, sink: ProcessSink): Promise<ExecProcess> {
    if (spec.args[0] === 'nosuch') throw new ProcessStartError(`exec: "nosuch": executable file not found in $PATH`, 127);
    const p = new ScriptedProcess(this.nextPid += 2, spec.args, 0);
    p.onOutput(sink.output);
    p.onExit(sink.exit);
    p.begin();
    return p;
  }

  async cleanup(containerId: string): Promise<void> {
    this.processes.get(containerId)?.exit(0, 9);
    this.processes.delete(containerId);
    this.bundles.delete(containerId);
  }

  async held(): Promise<readonly HeldProcess[]> {
    return [...this.bundles].map((containerId) => {
      const p = this.processes.get(containerId);
      return { containerId, shimPid: p && p.status === null ? p.pid - 1 : 0 };
    });
  }

  /** Every endExec call (recovery's lost execs), with what the log gave it. */
  readonly endedExecs: { readonly containerId: string; readonly execId: string; readonly process: LostExecProcess | undefined }[] = [];

  async endExec(containerId: string, execId: string, process?: LostExecProcess): Promise<LostExecEnd> {
    this.endedExecs.push({ containerId, execId, process });
    return { ended: 'gone' };
  }

  /** The container's process ends on its own (as if it exited while nobody watched). */
  exitOnItsOwn(containerId: string, code: number): void {
    this.processes.get(containerId)?.exit(code, null);
  }

  /** The container's process prints while it runs. */
  print(containerId: string, stream: 'stdout' | 'stderr', text: string): void {
    this.processes.get(containerId)?.print(stream, text);
  }

  /** The kernel's OOM killer ends the container's process (SIGKILL, OOMKilled). */
  oomKill(containerId: string): void {
    this.processes.get(containerId)?.exit(0, 9, true);
  }
}
