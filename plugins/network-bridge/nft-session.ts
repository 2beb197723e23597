/**
 * One long-lived `nft -i` for the driver's transactions, so publishing a port costs a write to a
 * pipe instead of starting a process. Each script goes as one line (commands joined by ";": one
 * transaction, all or nothing), followed by a marker command that fails on purpose
 * (`list table ip mdmarker<N>`): nft echoes a failing command on stderr, so the marker's echo says
 * the script before it is done, and any error text before the marker is the script's own. Scripts
 * run one at a time (the driver queues them). When the session cannot start or dies, the caller
 * falls back to `nft -f -` for that script; a session that died three times is not started again.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { HostCommandError } from './host-commands.js';

interface Pending {
  readonly marker: string;
  resolve(): void;
  reject(e: Error): void;
}

export class NftSession {
  private child: ChildProcessWithoutNullStreams | null = null;
  private stderr = '';
  private pending: Pending | null = null;
  private counter = 0;
  private dead = false;
  private deaths = 0;

  /** Runs one transaction; rejects with the nft error (HostCommandError) or when the session is gone. */
  run(lines: readonly string[]): Promise<void> {
    if (this.pending) return Promise.reject(new Error('nft session: one script at a time'));
    for (const line of lines) if (line.includes('\n')) return Promise.reject(new Error('nft session: a command spans lines'));
    const child = this.ensure();
    if (!child) return Promise.reject(new HostCommandError('nft session is not running', ''));
    const marker = `mdmarker${process.pid}x${++this.counter}`;
    return new Promise<void>((resolve, reject) => {
      this.pending = { marker, resolve, reject };
      child.stdin.write(`${lines.join('; ')}\nlist table ip ${marker}\n`);
    });
  }

  /** Ends the session (the process exits when its stdin closes). */
  close(): void {
    this.dead = true;
    const child = this.child;
    this.child = null;
    child?.stdin.end();
    this.fail(new HostCommandError('nft session closed', ''));
  }

  get alive(): boolean {
    return !this.dead;
  }

  private ensure(): ChildProcessWithoutNullStreams | null {
    if (this.dead) return null;
    if (this.child) return this.child;
    const child = spawn('nft', ['-i'], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.on('error', () => this.die());
    child.on('exit', () => this.die());
    child.stdin.on('error', () => this.die());
    child.stdout.resume(); // nothing is expected there; never let it fill
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      this.stderr += chunk;
      this.settle();
    });
    this.child = child;
    return child;
  }

  private settle(): void {
    const pending = this.pending;
    if (!pending) {
      this.stderr = '';
      return;
    }
    const echo = `list table ip ${pending.marker}\n`;
    const at = this.stderr.indexOf(echo);
    if (at < 0) return;
    const caretEnd = this.stderr.indexOf('\n', at + echo.length); // the ^^^ line under the echo
    if (caretEnd < 0) return;
    const before = this.stderr.slice(0, at).replace(/Error: [^\n]*\n$/, ''); // the marker's own "Error: …" line
    this.stderr = this.stderr.slice(caretEnd + 1);
    this.pending = null;
    if (/Error/.test(before)) {
      const first = before.split('\n').find((l) => l.startsWith('Error')) ?? before.trim();
      pending.reject(new HostCommandError(`nft failed: ${first}`, before));
    } else pending.resolve();
  }

  /** An unexpected end: the next script starts a new session, unless it keeps dying (then `nft -f -` for good). */
  private die(): void {
    if (++this.deaths >= 3) this.dead = true;
    this.child = null;
    this.fail(new HostCommandError('nft session ended', ''));
  }

  private fail(e: Error): void {
    const pending = this.pending;
    this.pending = null;
    pending?.reject(e);
  }
}
