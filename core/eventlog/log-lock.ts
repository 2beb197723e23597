import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { link, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** The directory is held by another live process, or by another caller in this one (`inThisProcess`). */
export class LogLockedError extends Error {
  constructor(
    readonly pid: number,
    readonly directory: string,
    readonly inThisProcess = false,
  ) {
    super(inThisProcess
      ? `this process (pid ${pid}) already holds the lock of ${directory}: release it before taking it again`
      : `another mini-dockerd (pid ${pid}) is using ${directory}`);
    this.name = 'LogLockedError';
  }
}

/** Who holds a lock: a pid plus its start time (clock ticks since boot), so a reused pid is not mistaken for the holder. */
interface LockOwner {
  readonly pid: number;
  readonly startTime: number;
}

/**
 * The lock paths this process holds or is taking, each with the one acquisition that has it. The
 * lock file names a process, and every caller in this process writes the same "<pid> <start
 * time>": only this map tells two of them apart. A path is claimed before the file is touched,
 * so two acquires at once cannot both go on (the second used to find the first's fresh file,
 * before the first had noted it, and take it over as stale), and only the acquisition that has
 * the claim gives it up (a second release of a released lock used to remove the next holder's file).
 */
const claims = new Map<string, object>();

/**
 * An exclusive claim on a directory, for one process at a time (Node has no flock): the event
 * log's `events.lock` (one writer of a log), and the daemon's `mini-dockerd.lock` in its exec root
 * (one daemon per exec root, taken before anything else so that daemons started at once by
 * several CLIs cannot both serve). The lock file holds "<pid> <start time>"; it is created
 * atomically (written to a temporary file, then link()ed, which fails if the lock exists). A lock
 * whose holder is dead, a zombie, or a different process that reused the pid is stale and is
 * taken over with a warning. Within one process the lock is one caller's too: a second acquire
 * while it is held (or being taken) fails at once with LogLockedError (`inThisProcess`); callers
 * that want to wait queue themselves (core/network/host-network-lock.ts).
 */
export class LogLock {
  static readonly FILE_NAME = 'events.lock';

  private constructor(
    readonly path: string,
    private readonly content: string,
    private readonly claim: object,
  ) {}

  static async acquire(directory: string, warn: (message: string) => void, fileName = LogLock.FILE_NAME): Promise<LogLock> {
    const path = resolve(directory, fileName); // one key per file in `claims`, however the folder is written
    if (claims.has(path)) throw new LogLockedError(process.pid, directory, true);
    const claim = {};
    claims.set(path, claim);
    try {
      return await LogLock.take(directory, path, fileName, claim, warn);
    } catch (error) {
      claims.delete(path);
      throw error;
    }
  }

  private static async take(directory: string, path: string, fileName: string, claim: object, warn: (message: string) => void): Promise<LogLock> {
    const content = `${process.pid} ${readProcessStat(process.pid)?.startTime ?? 0}\n`;
    for (let attempt = 0; attempt < 5; attempt++) {
      if (await createExclusively(path, content)) {
        await removeLeftovers(directory, fileName);
        return new LogLock(path, content, claim);
      }
      const existing = await readFile(path, 'utf8').catch(() => null);
      if (existing === null) continue; // released meanwhile: try again
      const owner = parseOwner(existing);
      if (owner && isHolding(owner)) throw new LogLockedError(owner.pid, directory);
      if (await removeStaleLock(path, existing)) {
        const from = !owner ? 'an unreadable lock file' : owner.pid === process.pid ? `an earlier holder in this process (pid ${owner.pid}) that did not remove it` : `pid ${owner.pid}, which is no longer running`;
        warn(`took over the lock of ${directory} from ${from}`);
      }
    }
    throw new Error(`could not take the lock ${path}: it kept changing hands; is another mini-dockerd starting on ${directory}?`);
  }

  /** Gives the directory up; only removes the lock file if it is still ours. A second release does nothing. */
  async release(): Promise<void> {
    if (claims.get(this.path) !== this.claim) return;
    const current = await readFile(this.path, 'utf8').catch(() => null);
    if (current === this.content) await unlink(this.path).catch(() => undefined);
    claims.delete(this.path);
  }
}

async function createExclusively(path: string, content: string): Promise<boolean> {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(temporary, content, { flag: 'wx' });
  try {
    await link(temporary, path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

/**
 * Moves a stale lock aside and removes it, unless it changed since it was judged stale (another
 * starter replaced it): then it goes back. Returns whether a stale lock was removed.
 */
async function removeStaleLock(path: string, staleContent: string): Promise<boolean> {
  const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
  const moved = await readFile(aside, 'utf8').catch(() => null);
  if (moved !== staleContent) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
  return moved === staleContent;
}

/**
 * The pid of the live process that holds the lock file at `path`, or undefined when there is no
 * lock or its holder is gone (a stale lock). Read-only: whoever wants the lock still acquires it.
 */
export function liveLockHolder(path: string): number | undefined {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const owner = parseOwner(content);
  return owner && (owner.pid === process.pid ? claims.has(resolve(path)) : isHolding(owner)) ? owner.pid : undefined;
}

/** Temporary lock files that a process killed mid-acquire left behind. */
async function removeLeftovers(directory: string, fileName: string): Promise<void> {
  const pattern = new RegExp(`^${fileName.replaceAll('.', '\\.')}\\.(?:stale\\.)?(\\d+)\\.[0-9a-f]{8}$`);
  for (const name of await readdir(directory).catch(() => [])) {
    const pid = Number(pattern.exec(name)?.[1] ?? Number.NaN);
    if (!Number.isNaN(pid) && pid !== process.pid && !processIsAlive(pid)) await unlink(join(directory, name)).catch(() => undefined);
  }
}

/** Whether a process with this pid exists (any process: callers that must tell reuse apart use the lock's start time). */
export function processIsAlive(pid: number): boolean {
  return signalZeroSucceeds(pid);
}

function parseOwner(content: string): LockOwner | null {
  const match = /^(\d+) (\d+)\n?$/.exec(content);
  return match ? { pid: Number(match[1]), startTime: Number(match[2]) } : null;
}

/**
 * Whether the process named in a lock file is alive and the one that wrote it. This process's own
 * pid in a file it did not claim (acquire checks the claims first) is a leftover: not holding.
 */
function isHolding(owner: LockOwner): boolean {
  if (owner.pid === process.pid) return false;
  if (!existsSync('/proc/self/stat')) return signalZeroSucceeds(owner.pid);
  const stat = readProcessStat(owner.pid);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return false;
  return owner.startTime === 0 || stat.startTime === owner.startTime;
}

function signalZeroSucceeds(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

/** State and start time of a process from /proc/<pid>/stat, or null if there is no such process. */
function readProcessStat(pid: number): { state: string; startTime: number } | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // "pid (comm) state ppid ..." where comm may hold spaces and parentheses; starttime is field 22.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', startTime: Number(fields[19] ?? 0) };
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error ? String((error as NodeJS.ErrnoException).code) : undefined;
}
