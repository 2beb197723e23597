import { Transform } from 'node:stream';
import { humanSize } from './human.js';

/** The progress line for `done` of `total` bytes (total unknown: just the count). */
export function progressLine(label: string, done: number, total: number | undefined, width = 40): string {
  if (!total) return `${label} ${humanSize(done)}`;
  const fraction = Math.min(1, done / total);
  const filled = Math.round(fraction * width);
  const bar = filled >= width ? '='.repeat(width) : `${'='.repeat(filled)}>${' '.repeat(width - filled - 1)}`;
  return `${label} [${bar}] ${humanSize(done)}/${humanSize(total)}`;
}

/**
 * A pass-through stream that draws a one-line byte progress bar on `out` (a terminal) as data
 * flows; on anything else it draws nothing. `finish()` ends the line.
 */
export class ByteProgress extends Transform {
  private done = 0;
  private lastDraw = 0;

  constructor(private readonly label: string, private readonly total: number | undefined, private readonly out: NodeJS.WriteStream = process.stderr) {
    super();
  }

  private get enabled(): boolean {
    return this.out.isTTY === true;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null, data?: Buffer) => void): void {
    this.done += chunk.length;
    const now = Date.now();
    if (this.enabled && now - this.lastDraw > 100) {
      this.lastDraw = now;
      this.out.write(`\r${progressLine(this.label, this.done, this.total)}\x1b[K`);
    }
    callback(null, chunk);
  }

  /** Draws the final state and ends the line. */
  finish(): void {
    if (this.enabled) this.out.write(`\r${progressLine(this.label, this.done, this.total)}\x1b[K\n`);
  }
}
