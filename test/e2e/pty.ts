import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/**
 * A command on a real pseudo-terminal, driven like a person at a keyboard: `script` (util-linux,
 * which the set-up installs) runs it on a new pty; we type into script's stdin and read what the
 * terminal shows from its stdout. The pty's own path (`tty` inside) lets a test resize it from
 * outside with `stty -F`, which sends SIGWINCH to its foreground process, as a terminal window does.
 */
export class PtySession {
  private readonly child: ChildProcessWithoutNullStreams;
  private text = '';
  /** Where the next `expect` starts looking: what earlier expects matched is consumed. */
  private cursor = 0;
  private readonly waiters = new Set<() => void>();
  readonly exited: Promise<number>;

  constructor(command: string, env: NodeJS.ProcessEnv) {
    this.child = spawn('script', ['-qfec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => this.receive(d));
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => this.receive(d));
    this.child.stdin.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        resolve(code ?? (signal ? 128 : 1));
        this.wake();
      });
    });
  }

  private receive(data: string): void {
    this.text += data;
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Everything the terminal showed so far. */
  get output(): string {
    return this.text;
  }

  /** Types text (no newline added). */
  send(text: string): void {
    this.child.stdin.write(text);
  }

  /**
   * Waits until what the terminal showed since the last match matches `pattern`; returns the match
   * and moves past it. Fails with the unmatched output after `timeoutMs`.
   */
  expect(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const rest = this.text.slice(this.cursor);
        const m = new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(rest);
        if (!m) return false;
        this.cursor += m.index + m[0].length;
        done();
        resolve(m);
        return true;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`the terminal did not show ${String(pattern)} within ${timeoutMs} ms; it showed after the last match:\n${JSON.stringify(this.text.slice(this.cursor))}`));
      }, timeoutMs);
      const waiter = (): void => {
        if (!check() && this.child.exitCode !== null && this.child.stdout.readableEnded) {
          done();
          reject(new Error(`the terminal closed without showing ${String(pattern)}; after the last match it showed:\n${JSON.stringify(this.text.slice(this.cursor))}`));
        }
      };
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
      check();
    });
  }

  /** Ends the input and waits for the command to exit (killing it after `timeoutMs`); returns its exit code. */
  async close(timeoutMs = 10_000): Promise<number> {
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
