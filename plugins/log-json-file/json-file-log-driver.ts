import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { injectable, FollowQueue, parseLogTime, SharedOpenFiles } from '../../core/plugin-api.js';
import type {
  DriverContext,
  DriverStatus,
  LogDriver,
  LogEntry,
  Logger,
  LogReadOptions,
  LogWriter,
} from '../../core/plugin-api.js';
import { parseJsonFileOptions } from './json-file-options.js';
import { decodeJsonLogLine, type StoredEntry } from './json-log-line.js';
import { JsonLogStore } from './json-log-store.js';
import { LogFileSnapshot, type LinePosition } from './log-file-snapshot.js';

const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const NEWLINE = 0x0a;

/** The time window of a read, in nanoseconds since the epoch. */
interface Window {
  readonly since: bigint | undefined;
  readonly until: bigint | undefined;
}

/**
 * Docker's default log driver: one JSON line per output chunk in
 * `<stateDir>/<containerId>/<containerId>-json.log`, e.g.
 * `{"log":"hello\n","stream":"stdout","time":"2026-01-02T03:04:05.123456789Z","offset":6}`,
 * rotated by `--log-opt max-size=10m --log-opt max-file=3` into `-json.log.1`, `.2`.
 * `offset` is the shim's output offset after the chunk: `open()` recovers it as `storedOffset`.
 */
@injectable()
export class JsonFileLogDriver implements LogDriver {
  readonly id = 'log.v1.json-file';
  readonly name = 'json-file';

  private stateDir: string | undefined;
  private logger: Logger | undefined;
  private readonly stores = new SharedOpenFiles<JsonLogStore>();
  /** Tells follow reads about each stored entry, by container id: a notifier, never the truth. */
  private readonly written = new EventEmitter<Record<string, (stored: StoredEntry) => void>>();

  async init(context: DriverContext): Promise<DriverStatus> {
    await mkdir(context.stateDir, { recursive: true });
    this.stateDir = context.stateDir;
    this.logger = context.logger;
    return { status: 'ok' };
  }

  validateOptions(options: Readonly<Record<string, string>>): void {
    parseJsonFileOptions(options);
  }

  async open(containerId: string, options: Readonly<Record<string, string>>): Promise<LogWriter> {
    const parsed = parseJsonFileOptions(options);
    const dir = this.containerDir(containerId);
    const { value: store, release } = await this.stores.acquire(containerId, () =>
      JsonLogStore.open(dir, `${containerId}-json.log`, parsed, this.logger!, (stored) => this.written.emit(containerId, stored)),
    );
    store.setOptions(parsed);
    return {
      get storedOffset() {
        return store.storedOffset;
      },
      write: (entry: LogEntry, endOffset: number) => store.write(entry, endOffset),
      close: release,
    };
  }

  read(containerId: string, options: LogReadOptions): AsyncIterable<LogEntry> {
    const dir = this.containerDir(containerId);
    const window: Window = {
      since: options.since === undefined ? undefined : parseLogTime(options.since),
      until: options.until === undefined ? undefined : parseLogTime(options.until),
    };
    return this.entries(containerId, dir, options, window);
  }

  async remove(containerId: string): Promise<void> {
    const dir = this.containerDir(containerId);
    await this.stores.drop(containerId);
    await rm(dir, { recursive: true, force: true });
  }

  async close(): Promise<void> {
    await this.stores.dropAll();
  }

  /**
   * The stored entries in the window (the last `tail` of them), then, when following, each new
   * one as it is written until the signal aborts. Follow never misses or repeats an entry:
   * it listens before it reads the files and skips what it has seen by offset.
   */
  private async *entries(containerId: string, dir: string, options: LogReadOptions, window: Window): AsyncGenerator<LogEntry> {
    const queue = options.follow ? new FollowQueue() : undefined;
    if (queue) this.written.on(containerId, queue.push);
    try {
      let last = -1; // offset of the newest entry passed on or skipped
      for (let first = true; ; first = false) {
        queue?.reset();
        const snapshot = await this.snapshot(containerId, dir);
        try {
          const { position: from, skip } = first ? await startPosition(snapshot, options.tail, window) : { position: await positionAfter(snapshot, last), skip: 0 };
          // With --tail 0 nothing stored is read, but what is stored must not come again from the queue.
          if (first && options.tail === 0) last = await newestOffset(snapshot);
          let cut = skip; // tail: the lines of the first entry before the last N lines
          for await (const line of snapshot.linesForward(from)) {
            const stored = decodeJsonLogLine(line);
            if (!stored || stored.offset <= last) continue;
            last = stored.offset;
            const place = placeInWindow(stored.entry, window);
            if (place === 'after') return;
            if (place !== 'inside') continue;
            if (cut > 0) {
              const data = stored.entry.data.subarray(cut);
              cut = 0;
              if (data.length > 0) yield { ...stored.entry, data };
              continue;
            }
            yield stored.entry;
          }
        } finally {
          await snapshot.close();
        }
        if (!queue) return;
        for (;;) {
          const { items, overflowed } = queue.take();
          if (overflowed) break; // too far behind: catch up from the files
          for (const stored of items) {
            if (stored.offset <= last) continue;
            last = stored.offset;
            const place = placeInWindow(stored.entry, window);
            if (place === 'after') return;
            if (place === 'inside') yield stored.entry;
          }
          if (items.length > 0) continue;
          if (options.signal?.aborted) return; // everything written before the abort was passed on
          const untilMs = window.until === undefined ? undefined : Number(window.until / 1_000_000n) - Date.now();
          if (untilMs !== undefined && untilMs < 0) return;
          await queue.wait(options.signal, untilMs);
        }
      }
    } finally {
      if (queue) this.written.off(containerId, queue.push);
    }
  }

  private async snapshot(containerId: string, dir: string): Promise<LogFileSnapshot> {
    const store = await this.stores.current(containerId);
    return store ? store.snapshot() : LogFileSnapshot.open(dir, `${containerId}-json.log`);
  }

  /** The containers with a folder of logs here. */
  async held(): Promise<readonly string[]> {
    if (this.stateDir === undefined) return [];
    return (await readdir(this.stateDir)).filter((name) => CONTAINER_ID.test(name));
  }

  private containerDir(containerId: string): string {
    if (this.stateDir === undefined) throw new Error('json-file: the driver was used before init()');
    if (!CONTAINER_ID.test(containerId)) throw new Error(`json-file: invalid container id "${containerId}"`);
    return join(this.stateDir, containerId);
  }
}

function placeInWindow(entry: LogEntry, window: Window): 'before' | 'inside' | 'after' {
  if (window.since === undefined && window.until === undefined) return 'inside';
  const time = parseLogTime(entry.time);
  if (window.until !== undefined && time > window.until) return 'after';
  if (window.since !== undefined && time < window.since) return 'before';
  return 'inside';
}

/**
 * Where to start reading for `tail`, which counts lines of output as Docker does (an entry is a
 * chunk that may hold many lines or part of one): found by counting newlines backwards from the
 * end, so the last 100 lines of a million cost about 100 lines. Returns the entry the N-th line
 * from the end starts in, and how many of its bytes come before that line. The window counts:
 * tail is the last N lines in it.
 */
async function startPosition(snapshot: LogFileSnapshot, tail: number | undefined, window: Window): Promise<{ position: LinePosition; skip: number }> {
  if (tail === undefined || tail < 0) return { position: snapshot.start, skip: 0 };
  let position = snapshot.end;
  if (tail === 0) return { position, skip: 0 };
  const windowed = window.since !== undefined || window.until !== undefined;
  let lines = 0;
  let newest = true;
  for await (const { line, position: at } of snapshot.linesBackward()) {
    const stored = decodeJsonLogLine(line);
    if (!stored) continue;
    if (windowed) {
      const place = placeInWindow(stored.entry, window);
      if (place === 'after') continue;
      if (place === 'before') break;
    }
    const data = stored.entry.data;
    let end = data.length;
    // The newline that ends the newest line does not start another one.
    if (newest && end > 0 && data[end - 1] === NEWLINE) end--;
    newest = false;
    for (let nl = end > 0 ? data.lastIndexOf(NEWLINE, end - 1) : -1; nl >= 0; nl = nl > 0 ? data.lastIndexOf(NEWLINE, nl - 1) : -1) {
      if (++lines >= tail) return { position: at, skip: nl + 1 };
    }
    position = at;
  }
  return { position, skip: 0 };
}

/** Where the first entry after `offset` is (the start when rotation removed it already). */
async function positionAfter(snapshot: LogFileSnapshot, offset: number): Promise<LinePosition> {
  for await (const { line, position } of snapshot.linesBackward()) {
    const stored = decodeJsonLogLine(line);
    if (stored && stored.offset <= offset) return position;
  }
  return snapshot.start;
}

async function newestOffset(snapshot: LogFileSnapshot): Promise<number> {
  for await (const { line } of snapshot.linesBackward()) {
    const stored = decodeJsonLogLine(line);
    if (stored) return stored.offset;
  }
  return -1;
}
