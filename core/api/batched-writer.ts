import type { Writable } from 'node:stream';

/** How many bytes a batch holds before it goes out at once. */
const BATCH_BYTES = 64 * 1024;

/**
 * Writes many small pieces (log lines, stdcopy frames) to a streamed response as few large writes:
 * pieces wait until the batch holds 64 KiB or the event loop comes round (setImmediate), so a log
 * of 10,000 lines leaves in a few chunks instead of 10,000 (each an HTTP chunk the client has to
 * decode), while a line of a followed log still goes out at once. It honours backpressure: `write`
 * resolves when the client has taken the batch it completed, and ends when the response is gone.
 */
export class BatchedWriter {
  private parts: Buffer[] = [];
  private size = 0;
  private scheduled: NodeJS.Immediate | undefined;

  constructor(private readonly out: Writable, private readonly limit = BATCH_BYTES) {}

  /** Queues a piece; waits only when a full batch had to wait for the client. */
  async write(piece: Buffer): Promise<void> {
    this.parts.push(piece);
    this.size += piece.length;
    if (this.size >= this.limit) {
      await this.flush();
      return;
    }
    this.scheduled ??= setImmediate(() => {
      this.scheduled = undefined;
      void this.flush();
    });
  }

  /** Writes what is queued; resolves once the response can take more (or is gone). */
  async flush(): Promise<void> {
    if (this.scheduled) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    if (this.size === 0) return;
    const data = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    const out = this.out;
    if (out.destroyed || out.writableEnded) return;
    if (out.write(data)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        out.removeListener('drain', done);
        out.removeListener('close', done);
        resolve();
      };
      out.on('drain', done);
      out.on('close', done);
    });
  }

  /** Writes what is queued and ends the response. */
  async end(): Promise<void> {
    await this.flush();
    if (!this.out.destroyed && !this.out.writableEnded) this.out.end();
  }

  /** Drops what is queued (the response failed or the client left). */
  discard(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.parts = [];
    this.size = 0;
  }
}
