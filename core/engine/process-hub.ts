import { Observable, Subject } from 'rxjs';
import type { ExitStatus } from '../../events/index.js';
import { utcNow } from '../eventlog/utc-clock.js';
import type { LogWriter, ProcessControl, ProcessIO, ProcessSink } from '../plugins/driver.js';
import type { OutputChunk } from './engine.js';

/**
 * The daemon's end of one running process (a container's init or an exec): output goes to the
 * log writer (then the shim is ACKed, so nothing is lost or doubled across restarts) and to every
 * attached client; stdin from clients goes to the process. It exists while the process runs.
 *
 * An exec's hub exists before its process (`ProcessHub.run`): the isolator gets the hub's sink
 * and delivers to it from the first byte. A container's hub is made when the engine connects to
 * the shim (`ProcessHub.connect`), which keeps what came before it connected.
 */
export class ProcessHub {
  private readonly output = new Subject<OutputChunk>();
  /** Output that came before anyone subscribed (an exec's first bytes race its client). */
  private early: OutputChunk[] | undefined = [];
  private completed = false;
  private writes: Promise<void> = Promise.resolve();
  private exitStatus: ExitStatus | undefined;
  private readonly exited: Promise<ExitStatus>;
  private readonly resolveExit: (s: ExitStatus) => void;
  private io: ProcessControl | undefined;
  /** An acknowledgement that came before `io` (an exec's output before `exec` resolved). */
  private pendingAck: number | undefined;

  /** Where the process's output and exit go. */
  readonly sink: ProcessSink = {
    output: (stream, data, endOffset) => this.receive(stream, data, endOffset),
    exit: (status) => {
      // Output first: the exit is known only once everything before it is stored.
      void this.writes.then(() => {
        this.exitStatus = status;
        this.resolveExit(status);
      });
    },
  };

  private constructor(
    private readonly writer: LogWriter | undefined,
    private readonly onWriteError: (err: unknown) => void,
  ) {
    let resolveExit!: (s: ExitStatus) => void;
    this.exited = new Promise((r) => { resolveExit = r; });
    this.resolveExit = resolveExit;
  }

  /** A hub for a process the engine connected to: its output and exit from now on. */
  static connect(io: ProcessIO, writer: LogWriter | undefined, onWriteError: (err: unknown) => void): ProcessHub {
    const hub = new ProcessHub(writer, onWriteError);
    hub.io = io;
    io.onOutput(hub.sink.output);
    io.onExit(hub.sink.exit);
    return hub;
  }

  /**
   * A hub made before its process runs: `start` gets the sink and starts the process. Resolves
   * with the hub and what `start` returned; rejects as `start` does.
   */
  static async run<P extends ProcessControl>(start: (sink: ProcessSink) => Promise<P>, writer: LogWriter | undefined, onWriteError: (err: unknown) => void): Promise<{ hub: ProcessHub; process: P }> {
    const hub = new ProcessHub(writer, onWriteError);
    const process = await start(hub.sink);
    hub.io = process;
    if (hub.pendingAck !== undefined) process.ack(hub.pendingAck);
    return { hub, process };
  }

  private ack(offset: number): void {
    if (this.io) this.io.ack(offset);
    else this.pendingAck = offset;
  }

  private receive(stream: 'stdout' | 'stderr', data: Buffer, endOffset: number): void {
    const writer = this.writer;
    if (writer && endOffset <= writer.storedOffset) {
      this.ack(endOffset); // resent after a daemon restart: already stored
      return;
    }
    if (this.early) this.early.push({ stream, data });
    else this.output.next({ stream, data });
    this.writes = this.writes.then(async () => {
      try {
        if (writer) await writer.write({ stream, time: nowRfc3339Nano(), data }, endOffset);
        this.ack(endOffset);
      } catch (err) {
        this.onWriteError(err);
      }
    });
  }

  /**
   * Live output; completes when the process exited and all its output was delivered. The first
   * subscriber also gets what came before it subscribed.
   */
  get live(): Observable<OutputChunk> {
    return new Observable<OutputChunk>((subscriber) => {
      const early = this.early ?? [];
      this.early = undefined;
      for (const chunk of early) subscriber.next(chunk);
      if (this.completed) {
        subscriber.complete();
        return undefined;
      }
      const sub = this.output.subscribe(subscriber);
      return () => sub.unsubscribe();
    });
  }

  /** Resolves with the exit status once all output before it is stored. */
  whenExited(): Promise<ExitStatus> {
    return this.exited;
  }

  get hasExited(): boolean {
    return this.exitStatus !== undefined;
  }

  write(data: Buffer): void {
    this.io?.write(data);
  }

  closeStdin(): void {
    this.io?.closeStdin();
  }

  resize(rows: number, cols: number): void {
    this.io?.resize(rows, cols);
  }

  signal(signal: number): void {
    this.io?.signal(signal);
  }

  /** Lets go of the process without ending it (daemon shutdown): the shim keeps its output until the next daemon. */
  detach(): void {
    this.io?.close();
  }

  /** Ends the hub after the exit was recorded: completes the output and closes the log writer and the connection. */
  async finish(): Promise<void> {
    await this.writes;
    this.completed = true;
    this.output.complete();
    await this.writer?.close();
    this.io?.close();
  }
}

/**
 * Now as RFC 3339 UTC with nanoseconds: the event log's clock (sub-millisecond precision kept on
 * the wall clock). It used to pad Date.now() with hrtime's sub-ms digits, which are not aligned
 * with the wall clock's millisecond, so two chunks within one millisecond could get times that go
 * backwards (`logs -t` out of order, and a json-file read ends at the first entry after --until).
 */
export function nowRfc3339Nano(): string {
  return utcNow();
}
