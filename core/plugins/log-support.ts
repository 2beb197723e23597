import type { LogEntry } from './driver.js';

/**
 * Helpers for log drivers (kind log.v1), shared by the built-in ones and offered to third parties
 * through the plugin API: the stored-entry shape, a bounded queue for follow reads, and the
 * parsing of RFC 3339 log times.
 */

/** A stored chunk and the shim offset it ends at (the dedup key after a daemon restart). */
export interface StoredLogEntry {
  readonly entry: LogEntry;
  readonly offset: number;
}
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9})\d*)?([Zz]|[+-]\d{2}:\d{2})$/;
const UNIX_SECONDS = /^(\d+)(?:\.(\d{1,9}))?$/;

/**
 * Nanoseconds since the Unix epoch of an RFC 3339 time ("2026-01-02T03:04:05.123456789Z", any
 * number of fraction digits, any UTC offset) or of Unix seconds ("1767323045.5").
 * Strings cannot be compared directly: RFC 3339 nano drops trailing zeros (".1Z" > ".123Z").
 * Throws an Error naming the value when it is neither.
 */
export function parseLogTime(value: string): bigint {
  const unix = UNIX_SECONDS.exec(value);
  if (unix) return BigInt(unix[1]!) * 1_000_000_000n + fractionNanos(unix[2]);
  const m = RFC3339.exec(value);
  if (!m) throw new Error(`invalid time "${value}": expected RFC 3339 (2026-01-02T03:04:05.123Z) or Unix seconds`);
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone!.startsWith('-') ? -1 : 1;
    ms -= sign * (Number(zone!.slice(1, 3)) * 60 + Number(zone!.slice(4, 6))) * 60_000;
  }
  return BigInt(ms) * 1_000_000n + fractionNanos(frac);
}

function fractionNanos(frac: string | undefined): bigint {
  return frac ? BigInt(frac.padEnd(9, '0')) : 0n;
}


/**
 * Entries written while a follow read is running, waiting for the reader. It is bounded: when a
 * slow reader lets it fill up, it drops what it holds and says so, and the reader catches up from
 * the files instead (nothing is lost unless rotation removed it meanwhile).
 */
export class FollowQueue {
  private items: StoredLogEntry[] = [];
  private bytes = 0;
  private overflowed = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly maxEntries = 10_000,
    private readonly maxBytes = 16 * 1024 * 1024,
  ) {}

  /** The listener to register with the store's notifier. */
  readonly push = (stored: StoredLogEntry): void => {
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
  take(): { items: StoredLogEntry[]; overflowed: boolean } {
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

/**
 * One open log file (or store) per container, shared by that container's writers and closed with
 * the last of them: a restarted container and a shim reattached after a daemon restart may hold
 * writers at the same time. Readers look an open one up to read what is written so far.
 */
export class SharedOpenFiles<T extends { close(): Promise<void> }> {
  private readonly open = new Map<string, { readonly value: Promise<T>; users: number }>();

  /** The container's open value, if one is open (undefined when it failed to open). */
  async current(id: string): Promise<T | undefined> {
    return this.open.get(id)?.value.catch(() => undefined);
  }

  /** Opens the container's value, or joins the one open; `release()` (idempotent) closes it with its last user. */
  async acquire(id: string, opener: () => Promise<T>): Promise<{ readonly value: T; release(): Promise<void> }> {
    let entry = this.open.get(id);
    if (!entry) {
      entry = { value: opener(), users: 0 };
      this.open.set(id, entry);
    }
    const held = entry;
    held.users++;
    let value: T;
    try {
      value = await held.value;
    } catch (err) {
      if (this.open.get(id) === held) this.open.delete(id);
      throw err;
    }
    let released = false;
    return {
      value,
      release: async () => {
        if (released) return;
        released = true;
        if (--held.users > 0) return;
        if (this.open.get(id) === held) this.open.delete(id);
        await value.close();
      },
    };
  }

  /** Closes and forgets the container's value, whoever still holds it (the container is removed). */
  async drop(id: string): Promise<void> {
    const entry = this.open.get(id);
    if (!entry) return;
    this.open.delete(id);
    await (await entry.value.catch(() => undefined))?.close();
  }

  /** Closes everything (the driver closes). */
  async dropAll(): Promise<void> {
    const entries = [...this.open.values()];
    this.open.clear();
    await Promise.all(entries.map(async (e) => (await e.value.catch(() => undefined))?.close()));
  }
}
