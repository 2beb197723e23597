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
import { fileLines, fileSize, TextLogFile } from './text-log-file.js';
import { decodeTextLogLine, type StoredEntry } from './text-log-line.js';

const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * The smallest log driver that can read back: plain text lines `<time> <stream> <offset> <text>`
 * in `<stateDir>/<containerId>.log`, no options, no rotation. Reads scan the file from the start
 * (tail keeps the last N in memory), which is fine for the example it is; json-file is the one for
 * big logs.
 */
@injectable()
export class TextFileLogDriver implements LogDriver {
  readonly id = 'log.v1.text-file';
  readonly name = 'text-file';

  private stateDir: string | undefined;
  private logger: Logger | undefined;
  private readonly files = new SharedOpenFiles<TextLogFile>();
  private readonly written = new EventEmitter<Record<string, (stored: StoredEntry) => void>>();

  async init(context: DriverContext): Promise<DriverStatus> {
    await mkdir(context.stateDir, { recursive: true });
    this.stateDir = context.stateDir;
    this.logger = context.logger;
    return { status: 'ok' };
  }

  validateOptions(options: Readonly<Record<string, string>>): void {
    const key = Object.keys(options)[0];
    if (key !== undefined) throw new Error(`unknown log-opt "${key}" for log driver text-file (it takes no options)`);
  }

  async open(containerId: string, options: Readonly<Record<string, string>>): Promise<LogWriter> {
    this.validateOptions(options);
    const path = this.pathOf(containerId);
    const { value: file, release } = await this.files.acquire(containerId, () =>
      TextLogFile.open(path, this.logger!, (stored) => this.written.emit(containerId, stored)),
    );
    return {
      get storedOffset() {
        return file.storedOffset;
      },
      write: (entry: LogEntry, endOffset: number) => file.write(entry, endOffset),
      close: release,
    };
  }

  read(containerId: string, options: LogReadOptions): AsyncIterable<LogEntry> {
    const path = this.pathOf(containerId);
    const since = options.since === undefined ? undefined : parseLogTime(options.since);
    const until = options.until === undefined ? undefined : parseLogTime(options.until);
    const place = (entry: LogEntry): 'before' | 'inside' | 'after' => {
      if (since === undefined && until === undefined) return 'inside';
      const time = parseLogTime(entry.time);
      return until !== undefined && time > until ? 'after' : since !== undefined && time < since ? 'before' : 'inside';
    };
    return this.entries(containerId, path, options, place, until);
  }

  async remove(containerId: string): Promise<void> {
    const path = this.pathOf(containerId);
    await this.files.drop(containerId);
    await rm(path, { force: true });
  }

  async close(): Promise<void> {
    await this.files.dropAll();
  }

  /** Same follow scheme as json-file: listen first, read the file, then pass on new entries not yet seen (by offset). */
  private async *entries(
    containerId: string,
    path: string,
    options: LogReadOptions,
    place: (entry: LogEntry) => 'before' | 'inside' | 'after',
    until: bigint | undefined,
  ): AsyncGenerator<LogEntry> {
    const queue = options.follow ? new FollowQueue() : undefined;
    if (queue) this.written.on(containerId, queue.push);
    try {
      let last = -1;
      for (let first = true; ; first = false) {
        queue?.reset();
        const writing = await this.files.current(containerId);
        const size = writing ? await writing.currentSize() : await fileSize(path);
        const tail = first && options.tail !== undefined && options.tail >= 0 ? options.tail : undefined;
        const kept: LogEntry[] = [];
        let keptLines = 0;
        let ended = false;
        for await (const { line } of fileLines(path, size)) {
          const stored = decodeTextLogLine(line);
          if (!stored || stored.offset <= last) continue;
          last = stored.offset;
          const where = place(stored.entry);
          if (where === 'after') {
            ended = true;
            break;
          }
          if (where !== 'inside') continue;
          if (tail === undefined) yield stored.entry;
          else if (tail > 0) {
            kept.push(stored.entry);
            keptLines += newlines(stored.entry.data);
            // Enough is kept while the entries after the first still hold tail + 1 newlines.
            while (kept.length > 1 && keptLines - newlines(kept[0]!.data) > tail) keptLines -= newlines(kept.shift()!.data);
          }
        }
        yield* lastLines(kept, tail ?? 0);
        if (ended || !queue) return;
        for (;;) {
          const { items, overflowed } = queue.take();
          if (overflowed) break;
          for (const stored of items) {
            if (stored.offset <= last) continue;
            last = stored.offset;
            const where = place(stored.entry);
            if (where === 'after') return;
            if (where === 'inside') yield stored.entry;
          }
          if (items.length > 0) continue;
          if (options.signal?.aborted) return;
          const untilMs = until === undefined ? undefined : Number(until / 1_000_000n) - Date.now();
          if (untilMs !== undefined && untilMs < 0) return;
          await queue.wait(options.signal, untilMs);
        }
      }
    } finally {
      if (queue) this.written.off(containerId, queue.push);
    }
  }

  /** The containers with a log file here. */
  async held(): Promise<readonly string[]> {
    if (this.stateDir === undefined) return [];
    return (await readdir(this.stateDir)).filter((name) => name.endsWith('.log')).map((name) => name.slice(0, -4)).filter((id) => CONTAINER_ID.test(id));
  }

  private pathOf(containerId: string): string {
    if (this.stateDir === undefined) throw new Error('text-file: the driver was used before init()');
    if (!CONTAINER_ID.test(containerId)) throw new Error(`text-file: invalid container id "${containerId}"`);
    return join(this.stateDir, `${containerId}.log`);
  }
}

const NEWLINE = 0x0a;

function newlines(data: Buffer): number {
  let n = 0;
  for (let i = data.indexOf(NEWLINE); i >= 0; i = data.indexOf(NEWLINE, i + 1)) n++;
  return n;
}

/**
 * The last `tail` lines of output in `entries` (tail counts lines, as Docker's does; an entry is a
 * chunk that may hold several lines or part of one): the first entry kept may be cut.
 */
function lastLines(entries: readonly LogEntry[], tail: number): LogEntry[] {
  if (tail <= 0) return [];
  let lines = 0;
  for (let i = entries.length - 1; i >= 0; i--) {
    const data = entries[i]!.data;
    let end = data.length;
    // The newline that ends the newest line does not start another one.
    if (i === entries.length - 1 && end > 0 && data[end - 1] === NEWLINE) end--;
    for (let nl = end > 0 ? data.lastIndexOf(NEWLINE, end - 1) : -1; nl >= 0; nl = nl > 0 ? data.lastIndexOf(NEWLINE, nl - 1) : -1) {
      if (++lines >= tail) {
        const first = data.subarray(nl + 1);
        return [...(first.length > 0 ? [{ ...entries[i]!, data: first }] : []), ...entries.slice(i + 1)];
      }
    }
  }
  return [...entries];
}
