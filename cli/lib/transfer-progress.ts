import type { ProgressMessage } from './api-types.js';
import { CliError } from './errors.js';

/**
 * Shows a pull's or push's JSON progress as the docker CLI does: on a terminal one line per layer,
 * redrawn in place (status and bar); elsewhere each layer's status once when it changes (no bars).
 * `-q` shows nothing. An error line becomes the command's error.
 */
export class TransferProgress {
  private readonly order: string[] = [];
  private readonly lines = new Map<string, string>();
  private readonly printed = new Map<string, string>();
  private drawn = 0;

  constructor(private readonly out: NodeJS.WriteStream = process.stdout, private readonly quiet = false) {}

  private get tty(): boolean {
    return this.out.isTTY === true;
  }

  handle(msg: ProgressMessage): void {
    if (msg.errorDetail || msg.error) throw new CliError(msg.errorDetail?.message ?? msg.error ?? 'failed');
    if (this.quiet || msg.status === undefined) return;
    if (msg.id === undefined) {
      this.redraw();
      this.out.write(`${msg.status}\n`);
      this.drawn = 0;
      return;
    }
    const text = `${msg.id}: ${msg.status}${this.tty && msg.progress ? ` ${msg.progress}` : ''}`;
    if (!this.tty) {
      if (this.printed.get(msg.id) === msg.status) return;
      this.printed.set(msg.id, msg.status);
      this.out.write(`${text}\n`);
      return;
    }
    if (!this.lines.has(msg.id)) this.order.push(msg.id);
    this.lines.set(msg.id, text);
    this.redraw();
  }

  /** Redraws the layer lines in place (cursor up over what was drawn). */
  private redraw(): void {
    if (!this.tty || this.order.length === 0) return;
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A`);
    for (const id of this.order) this.out.write(`\r${this.lines.get(id) ?? ''}\x1b[K\n`);
    this.drawn = this.order.length;
  }
}
