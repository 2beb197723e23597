import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { Socket } from 'node:net';
import { dirname, join, posix } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/** Built by `npm run build` (scripts/build.mjs) from core/archive/native/xattrs.c. */
export const XATTR_READER_BINARY = join(dirname(fileURLToPath(import.meta.url)), 'bin', 'mini-docker-xattrs');

/** A missing getfattr is reported once per process, since every tree would repeat it. */
const warned = new Set<string>();

function warnOnce(tool: string, warn: (message: string) => void): void {
  if (warned.has(tool)) return;
  warned.add(tool);
  warn(`${tool} not found: extended attributes are skipped (install the Debian package "attr")`);
}

interface RunResult {
  readonly stdout: Buffer;
  /** Set when the command failed (its output may still be partly usable). */
  readonly failure: string | null;
}

/** Runs a command; rejects only when it cannot be started (ENOENT: not installed). */
function run(command: string, args: readonly string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { encoding: 'buffer', maxBuffer: 256 << 20 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') reject(error);
      else resolve({ stdout, failure: error ? `${command} ${args.join(' ')}: ${stderr.toString().trim() || error.message}` : null });
    });
  });
}

function isMissingTool(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

/**
 * Undoes getfattr's quoting of file names (`\ooo` for unprintable bytes and backslashes).
 * `keepControl` leaves control bytes (below 0x20, 0x7f) quoted: a warning stays one line whatever
 * a name holds.
 */
function unquote(text: Buffer, keepControl = false): Buffer {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const byte = text[i]!;
    if (byte === 0x5c && i + 3 < text.length && /^[0-7]{3}$/.test(text.subarray(i + 1, i + 4).toString('latin1'))) {
      const value = parseInt(text.subarray(i + 1, i + 4).toString('latin1'), 8);
      if (keepControl && (value < 0x20 || value === 0x7f)) out.push(...text.subarray(i, i + 4));
      else out.push(value);
      i += 3;
    } else {
      out.push(byte);
    }
  }
  return Buffer.from(out);
}

/** The most one answer of mini-docker-xattrs may hold (the getfattr fallback's maxBuffer too). */
export const MAX_XATTR_ANSWER = 256 << 20;

/** An answer larger than the reader's cap: the tree's attributes are not read (no fallback would do better). */
export class XattrAnswerTooLarge extends Error {
  constructor(start: string, max: number) {
    super(`the extended attributes under ${start} make an answer larger than ${max} bytes: remove attributes from that tree, or read a smaller part of it`);
    this.name = 'XattrAnswerTooLarge';
  }
}

interface XattrAnswer {
  readonly dump: Buffer;
  readonly warnings: string[];
}

interface Waiter {
  readonly start: string;
  resolve(answer: XattrAnswer): void;
  reject(error: Error): void;
}

/** One helper process and what belongs to it alone: its waiters in order, the bytes of its answer under way. */
interface Helper {
  readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  readonly waiting: Waiter[];
  /** The answer under way, as it came (never concatenated before its end is seen). */
  parts: Buffer[];
  size: number;
  /** The last (up to 5) bytes of the answer under way: an end line split between chunks is found without scanning the answer again. */
  tail: Buffer;
  /** Set when replaced: its late output is ignored and its waiters are already answered. */
  retired: boolean;
  /** Resolves at its 'close' (exited and its output drained). */
  readonly ended: Promise<void>;
}

/**
 * A `mini-docker-xattrs` process (core/archive/native/xattrs.c), started at the first request and
 * kept: it reads a tree's attributes as `getfattr -R` does, for every tree asked, so that a commit,
 * an export or a cp does not fork the daemon (a few milliseconds of its CPU, more than the rest of
 * a one-file commit) for a getfattr each time. Requests are answered in order; an answer larger
 * than `maxAnswer` rejects with XattrAnswerTooLarge and the helper is killed (its PID) and started
 * again at the next request. Idle, it holds nothing open that keeps node running (its process and
 * pipes are unref'ed); it ends when its stdin closes, i.e. with this process, or at close().
 */
export class XattrReader {
  private helper: Helper | null = null;
  /** Every helper started that has not ended yet (a killed one until its 'close'). */
  private readonly live = new Set<Helper>();

  constructor(private readonly options: { command?: string; args?: readonly string[]; maxAnswer?: number } = {}) {}

  /** The running helper's PID, if one runs. */
  get pid(): number | undefined {
    return this.helper?.child.pid;
  }

  /** Resolves when the helper that runs now (if any) has ended and its output has been read (node is kept running meanwhile). */
  ended(): Promise<void> {
    const helper = this.helper;
    if (helper === null) return Promise.resolve();
    this.hold(helper, true);
    return helper.ended;
  }

  /** Ends its helpers (stdin closed) and waits until they have exited; what is in flight is answered first. */
  async close(): Promise<void> {
    const all = [...this.live];
    for (const helper of all) {
      this.hold(helper, true);
      helper.child.stdin.end();
    }
    await Promise.all(all.map((helper) => helper.ended));
  }

  /** Op 'r': what `getfattr -R` prints for `start`; op 's': syncfs of the file system holding `start` (failures are warnings). */
  read(start: string, op: 'r' | 's' = 'r'): Promise<XattrAnswer> {
    const helper = this.start();
    const path = Buffer.from(start);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(path.length);
    return new Promise((resolve, reject) => {
      if (helper.waiting.length === 0) this.hold(helper, true);
      helper.waiting.push({ start, resolve, reject });
      helper.child.stdin.write(Buffer.concat([Buffer.from(op), length, path]));
    });
  }

  private get command(): string {
    return this.options.command ?? XATTR_READER_BINARY;
  }

  private start(): Helper {
    if (this.helper !== null) return this.helper;
    const child = spawn(this.command, [...(this.options.args ?? [])], { stdio: ['pipe', 'pipe', 'pipe'] });
    let closed!: () => void;
    const helper: Helper = { child, waiting: [], parts: [], size: 0, tail: Buffer.alloc(0), retired: false, ended: new Promise((resolve) => (closed = resolve)) };
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => this.answer(helper, chunk));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.stdin.on('error', () => undefined); // reported by 'close' below
    child.on('error', (error) => {
      this.retire(helper, new Error(`${this.command}: ${error.message}`));
      if (child.pid === undefined) {
        // never started: no 'close' to wait for
        this.live.delete(helper);
        closed();
      }
    });
    // 'close', not 'exit': answers still in the pipe are read before the helper counts as gone.
    child.on('close', (code, signal) => {
      this.retire(helper, new Error(`${this.command} ended (${signal ?? `exit code ${code}`})${stderr ? `: ${stderr.trim()}` : ''}`));
      this.live.delete(helper);
      closed();
    });
    this.helper = helper;
    this.live.add(helper);
    this.hold(helper, false);
    return helper;
  }

  /** Takes a helper out of service: its waiters fail with `error`, its late output is ignored, the next request starts a new one. */
  private retire(helper: Helper, error: Error): void {
    if (this.helper === helper) this.helper = null;
    helper.retired = true;
    helper.parts = [];
    helper.size = 0;
    for (const waiter of helper.waiting.splice(0)) waiter.reject(error);
  }

  /** Keeps node running while an answer is awaited, and only then. */
  private hold(helper: Helper, held: boolean): void {
    const { child } = helper;
    for (const end of [child.stdin, child.stdout, child.stderr]) {
      if (end instanceof Socket) {
        if (held) end.ref();
        else end.unref();
      }
    }
    if (held) child.ref();
    else child.unref();
  }

  /** Collects a helper's output; each answer ends at a line "\x01end" (no other line can hold \x01: names are quoted). */
  private answer(helper: Helper, chunk: Buffer): void {
    const max = this.options.maxAnswer ?? MAX_XATTR_ANSWER;
    let data = chunk;
    while (data.length > 0 && !helper.retired) {
      // Only the new bytes are scanned, after the few last ones of the answer under way.
      const window = helper.tail.length > 0 ? Buffer.concat([helper.tail, data]) : data;
      let at = window.indexOf(ANSWER_END);
      // An end line starts the answer or follows a newline (window[-1] is the tail's, already searched).
      while (at !== -1 && !(at === 0 ? helper.size === 0 : window[at - 1] === 0x0a)) at = window.indexOf(ANSWER_END, at + 1);
      const used = at === -1 ? data.length : at + ANSWER_END.length - helper.tail.length;
      if (helper.size + used > max) {
        const waiter = helper.waiting.shift();
        helper.child.kill('SIGKILL'); // its PID: the rest of this answer must not reach the next request
        this.retire(helper, new Error(`${this.command} was restarted: an earlier answer was larger than ${max} bytes`));
        waiter?.reject(new XattrAnswerTooLarge(waiter.start, max));
        return;
      }
      helper.parts.push(data.subarray(0, used));
      helper.size += used;
      data = data.subarray(used);
      if (at === -1) {
        helper.tail = Buffer.from(window.subarray(Math.max(0, window.length - ANSWER_END.length)));
        return;
      }
      const whole = Buffer.concat(helper.parts, helper.size);
      helper.parts = [];
      helper.size = 0;
      helper.tail = Buffer.alloc(0);
      this.deliver(helper, whole.subarray(0, whole.length - ANSWER_END.length));
    }
  }

  private deliver(helper: Helper, answer: Buffer): void {
    const warnings: string[] = [];
    const dump: Buffer[] = [];
    let from = 0;
    while (from < answer.length) {
      let eol = answer.indexOf(0x0a, from);
      if (eol === -1) eol = answer.length;
      const line = answer.subarray(from, eol + 1);
      if (line[0] === 0x01) warnings.push(`${this.command}: ${unquote(line.subarray(6, line.length - 1), true).toString('utf8')}`);
      else dump.push(line);
      from = eol + 1;
    }
    helper.waiting.shift()?.resolve({ dump: Buffer.concat(dump), warnings });
    if (helper.waiting.length === 0 && !helper.retired) this.hold(helper, false);
  }
}

/** The last line of each answer of mini-docker-xattrs. */
const ANSWER_END = Buffer.from('\x01end\n', 'latin1');

let reader: XattrReader | undefined;
/** A second mini-docker-xattrs for syncs: a syncfs can take seconds, which a commit's xattr read must not wait behind. */
let syncer: XattrReader | undefined;

/**
 * syncfs(2) of the file system that holds `path` (which must exist): asked of a long-lived
 * mini-docker-xattrs of its own when it is built (no fork of the daemon per call, ~10 ms of its
 * main thread under load), else by `sync -f PATH`. Rejects with one line naming the path when the
 * sync failed.
 */
export async function syncFilesystem(path: string): Promise<void> {
  if (existsSync(XATTR_READER_BINARY)) {
    syncer ??= new XattrReader();
    let answer: { warnings: string[] } | undefined;
    try {
      answer = await syncer.read(path, 's');
    } catch {
      answer = undefined; // the helper died: sync -f below says whether the sync itself can work
    }
    if (answer !== undefined) {
      if (answer.warnings.length > 0) throw new Error(`${answer.warnings.join('; ')}: cannot flush the file system's writes to disk`);
      return;
    }
  }
  const result = await run('sync', ['-f', path]);
  if (result.failure !== null) throw new Error(`${result.failure}: cannot flush the file system's writes to disk`);
}

/** What `getfattr -R` prints for `start`, read by the long-lived helper when it is built, else by getfattr; undefined when neither can. */
async function dumpTree(start: string, warn: (message: string) => void): Promise<Buffer | undefined> {
  if (existsSync(XATTR_READER_BINARY)) {
    reader ??= new XattrReader();
    try {
      const { dump, warnings } = await reader.read(start);
      for (const warning of warnings) warn(warning);
      return dump;
    } catch (error) {
      if (error instanceof XattrAnswerTooLarge) throw error;
      warn(`${(error as Error).message}; reading the attributes with getfattr instead`);
    }
  }
  try {
    const result = await run('getfattr', ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', '--', start]);
    // A file that vanished or cannot be read makes getfattr fail; the rest of its output stands.
    if (result.failure !== null) warn(result.failure);
    return result.stdout;
  } catch (error) {
    if (isMissingTool(error)) {
      warnOnce('getfattr', warn);
      return undefined;
    }
    throw error;
  }
}

/**
 * Reads the extended attributes of every file under `root` (not following symlinks; `folder` says
 * whether root is a folder, for a root reached through a link) in one walk: by this process's
 * long-lived mini-docker-xattrs (XattrReader), or one `getfattr -R` run where that helper is not
 * built. Keys are absolute paths; files without attributes are absent. An empty map when neither
 * can read (getfattr not installed: warned once); what it could read when it failed on some file (warned).
 */
export async function readXattrTree(root: string, warn: (message: string) => void, options: { folder?: boolean } = {}): Promise<Map<string, Record<string, Buffer>>> {
  // A folder is named with "/." so that a root reached through a link (a held folder's
  // /proc/<pid>/fd/<n>) is walked rather than read as the link; keys are normalised back.
  // `folder: false` reads the one file (a link itself, never what it points to).
  const folder = options.folder ?? (await lstat(root)).isDirectory();
  const start = folder ? `${root}/.` : root;
  const stdout = await dumpTree(start, warn);
  return stdout === undefined ? new Map() : parseXattrDump(stdout);
}

/**
 * Parses what `getfattr -R -P -h -d -m - -e hex --absolute-names` prints (and mini-docker-xattrs,
 * the same bytes): "# file: PATH", then "NAME=0xHEX" per attribute. Both quote as \ooo every byte
 * of PATH and NAME outside '!'..'~', every backslash, and every '=' of NAME, so a line is split at
 * its first '=' whatever the name and the value hold (a value is hex). Keys are normalised absolute paths.
 */
export function parseXattrDump(stdout: Buffer): Map<string, Record<string, Buffer>> {
  const result = new Map<string, Record<string, Buffer>>();
  let current: Record<string, Buffer> | null = null;
  let from = 0;
  while (from < stdout.length) {
    let end = stdout.indexOf(0x0a, from);
    if (end === -1) end = stdout.length;
    const line = stdout.subarray(from, end);
    from = end + 1;
    if (line.length === 0) continue;
    if (line.subarray(0, 8).toString('latin1') === '# file: ') {
      current = {};
      result.set(posix.normalize(unquote(line.subarray(8)).toString('utf8')), current);
      continue;
    }
    if (current === null) continue;
    const text = line.toString('latin1');
    const equals = text.indexOf('=');
    const name = unquote(Buffer.from(equals === -1 ? text : text.slice(0, equals), 'latin1')).toString('utf8');
    const value = equals === -1 ? '' : text.slice(equals + 1);
    current[name] = value.startsWith('0x') ? Buffer.from(value.slice(2), 'hex') : Buffer.from(value.replace(/^"|"$/g, ''), 'latin1');
  }
  return result;
}
