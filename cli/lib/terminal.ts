import { constants } from 'node:os';

/** The part of a tty input stream raw mode needs (process.stdin, or a fake in tests). */
export interface RawModeInput {
  readonly isTTY?: boolean;
  readonly isRaw?: boolean;
  setRawMode?(mode: boolean): unknown;
}

/** The part of `process` the guard needs: exit and signal hooks (a fake in tests). */
export interface ProcessHooks {
  on(event: 'exit', listener: () => void): unknown;
  on(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  removeListener(event: 'exit', listener: () => void): unknown;
  removeListener(event: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  exit(code?: number): unknown;
}

/** Signals after which the terminal must come back before the CLI dies. */
const FATAL_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

/**
 * Puts the local terminal in raw mode for `run -it`/`exec -it`/`attach` and always puts it back:
 * on `restore()`, on process exit (whatever the cause), and on a fatal signal (then it exits with
 * 128 + the signal number, as a shell would report).
 */
export class RawTerminal {
  private previous: boolean | undefined;

  private readonly onExit = (): void => this.restore();
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.restore();
    this.proc.exit(128 + (constants.signals[signal] ?? 0));
  };

  constructor(private readonly input: RawModeInput, private readonly proc: ProcessHooks = process) {}

  /** True while the terminal is in raw mode because of this guard. */
  get active(): boolean {
    return this.previous !== undefined;
  }

  /** Enters raw mode; false (and nothing changes) when the input is not a terminal. */
  enter(): boolean {
    if (this.active) return true;
    if (!this.input.isTTY || !this.input.setRawMode) return false;
    this.previous = this.input.isRaw ?? false;
    this.input.setRawMode(true);
    this.proc.on('exit', this.onExit);
    for (const s of FATAL_SIGNALS) this.proc.on(s, this.onSignal);
    return true;
  }

  /** Puts the terminal back the way it was; safe to call any number of times. */
  restore(): void {
    if (this.previous === undefined) return;
    const previous = this.previous;
    this.previous = undefined;
    this.proc.removeListener('exit', this.onExit);
    for (const s of FATAL_SIGNALS) this.proc.removeListener(s, this.onSignal);
    try {
      this.input.setRawMode?.(previous);
    } catch {
      // the terminal is gone (hangup): nothing left to restore
    }
  }
}

/** The part of a tty output stream resize forwarding needs. */
export interface SizedOutput {
  readonly isTTY?: boolean;
  readonly rows?: number;
  readonly columns?: number;
  on(event: 'resize', listener: () => void): unknown;
  removeListener(event: 'resize', listener: () => void): unknown;
}

/** The terminal's size as Docker's ConsoleSize [rows, cols]; [0, 0] without a terminal. */
export function consoleSize(out: Pick<SizedOutput, 'isTTY' | 'rows' | 'columns'> = process.stdout): [number, number] {
  return out.isTTY && out.rows && out.columns ? [out.rows, out.columns] : [0, 0];
}

/**
 * Sends the terminal size now (retrying up to 10 times, like docker) and on every window
 * change (SIGWINCH shows up as 'resize' on stdout). Returns a function that stops forwarding.
 */
export function forwardResize(out: SizedOutput, resize: (rows: number, cols: number) => Promise<unknown>, warn: (line: string) => void): () => void {
  if (!out.isTTY) return () => {};
  const send = (): Promise<unknown> => {
    const [rows, cols] = consoleSize(out);
    return rows > 0 ? resize(rows, cols) : Promise.resolve();
  };
  void (async () => {
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        await send();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 10 * (attempt + 1)));
      }
    }
    warn('failed to resize tty, using default size');
  })();
  const onResize = (): void => {
    send().catch(() => {});
  };
  out.on('resize', onResize);
  return () => out.removeListener('resize', onResize);
}

/**
 * Spots the detach sequence (default Ctrl-P Ctrl-Q) in typed input, like docker's escape proxy:
 * bytes that start the sequence are held back until it is clear whether it completes.
 */
export class DetachKeys {
  private held: number[] = [];

  constructor(private readonly keys: readonly number[] = [0x10, 0x11]) {}

  /** Returns what to forward, and whether the sequence completed (then nothing more is forwarded). */
  feed(chunk: Buffer): { readonly forward: Buffer; readonly detach: boolean } {
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.held.length]) {
        this.held.push(byte);
        if (this.held.length === this.keys.length) return { forward: Buffer.from(out), detach: true };
        continue;
      }
      out.push(...this.held);
      this.held = [];
      if (byte === this.keys[0]) this.held.push(byte);
      else out.push(byte);
    }
    return { forward: Buffer.from(out), detach: false };
  }
}

/** Parses `--detach-keys` ("ctrl-p,ctrl-q", "a,ctrl-x") into bytes. */
export function parseDetachKeys(spec: string): number[] {
  return spec.split(',').map((k) => {
    const key = k.trim().toLowerCase();
    if (key.length === 1) return key.charCodeAt(0);
    const m = /^ctrl-([a-z@[\\\]^_])$/.exec(key);
    if (!m) throw new Error(`invalid detach keys (${spec}): use e.g. ctrl-p,ctrl-q`);
    return m[1]!.toUpperCase().charCodeAt(0) & 0x1f;
  });
}
