import type { StoredEntry } from './text-log-line.js';

/**
 * Entries written while a follow read is running, waiting for the reader. It is bounded: when a
 * slow reader lets it fill up, it drops what it holds and says so, and the reader catches up from
 * the files instead (nothing is lost unless rotation removed it meanwhile).
 */
export class FollowQueue {
  private items: StoredEntry[] = [];
  private bytes = 0;
  private overflowed = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly maxEntries = 10_000,
    private readonly maxBytes = 16 * 1024 * 1024,
  ) {}

  /** The listener to register with the store's notifier. */
  readonly push = (stored: StoredEntry): void => {
    if (!this.overflowed) {
      this.items.push(stored);
      this.bytes += stored.entry.data.length;
      if (this.items.length > this.maxEntries || this.bytes > this.maxBytes) {
        this.overflowed = true;
        this.items = [];
        this.bytes = 0;
      }
    }
    this.notify();
  };

  /** Everything queued since the last take; `overflowed` means some were dropped: re-read the files. */
  take(): { items: StoredEntry[]; overflowed: boolean } {
    const taken = { items: this.items, overflowed: this.overflowed };
    this.reset();
    return taken;
  }

  /** Forgets what is queued (before reading the files, which hold it). */
  reset(): void {
    this.items = [];
    this.bytes = 0;
    this.overflowed = false;
  }

  /** Resolves when an entry arrives, the signal aborts or `timeoutMs` passes. */
  wait(signal: AbortSignal | undefined, timeoutMs: number | undefined): Promise<void> {
    if (this.items.length > 0 || this.overflowed || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      // setTimeout fires at once beyond 2^31-1 ms; the caller waits again when woken early.
      if (timeoutMs !== undefined) timer = setTimeout(done, Math.min(Math.max(0, timeoutMs), 2 ** 31 - 1));
      signal?.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }

  private notify(): void {
    this.wake?.();
  }
}
