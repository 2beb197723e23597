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

/** Undoes getfattr's quoting of file names (`\ooo` for unprintable bytes and backslashes). */
function unquote(text: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const byte = text[i]!;
    if (byte === 0x5c && i + 3 < text.length && /^[0-7]{3}$/.test(text.subarray(i + 1, i + 4).toString('latin1'))) {
      out.push(parseInt(text.subarray(i + 1, i + 4).toString('latin1'), 8));
      i += 3;
    } else {
      out.push(byte);
    }
  }
  return Buffer.from(out);
}

/**
 * The one `mini-docker-xattrs` process of this node process (core/archive/native/xattrs.c): it
 * reads a tree's attributes as `getfattr -R` does, for every tree asked, so that a commit, an
 * export or a cp does not fork the daemon (a few milliseconds of its CPU, more than the rest of a
 * one-file commit) for a getfattr each time. Requests are answered in order. Idle, it holds
 * nothing open that keeps node running (its process and pipes are unref'ed); it ends when its
 * stdin closes, i.e. with this process.
 */
class XattrReader {
  private child: ChildProcessByStdio<Writable, Readable, Readable> | null = null;
  private readonly waiting: { resolve(answer: { dump: Buffer; warnings: string[] }): void; reject(error: Error): void }[] = [];
  private chunks: Buffer[] = [];

  /** Op 'r': what `getfattr -R` prints for `start`; op 's': syncfs of the file system holding `start` (failures are warnings). */
  read(start: string, op: 'r' | 's' = 'r'): Promise<{ dump: Buffer; warnings: string[] }> {
    const child = this.start();
    const path = Buffer.from(start);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(path.length);
    return new Promise((resolve, reject) => {
      if (this.waiting.length === 0) this.hold(child, true);
      this.waiting.push({ resolve, reject });
      child.stdin.write(Buffer.concat([Buffer.from(op), length, path]));
    });
  }

  private start(): ChildProcessByStdio<Writable, Readable, Readable> {
    if (this.child !== null) return this.child;
    const child = spawn(XATTR_READER_BINARY, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => this.answer(chunk));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.stdin.on('error', () => undefined); // reported by 'close' below
    const fail = (error: Error): void => {
      if (this.child === child) this.child = null;
      this.chunks = [];
      for (const waiter of this.waiting.splice(0)) waiter.reject(error);
    };
    child.on('error', (error) => fail(new Error(`${XATTR_READER_BINARY}: ${error.message}`)));
    child.on('close', (code, signal) => fail(new Error(`${XATTR_READER_BINARY} ended (${signal ?? `exit code ${code}`})${stderr ? `: ${stderr.trim()}` : ''}`)));
    this.child = child;
    this.hold(child, false);
    return child;
  }

  /** Keeps node running while an answer is awaited, and only then. */
  private hold(child: ChildProcessByStdio<Writable, Readable, Readable>, held: boolean): void {
    for (const end of [child.stdin, child.stdout, child.stderr]) {
      if (end instanceof Socket) {
        if (held) end.ref();
        else end.unref();
      }
    }
    if (held) child.ref();
    else child.unref();
  }

  private answer(chunk: Buffer): void {
    this.chunks.push(chunk);
    let all = Buffer.concat(this.chunks);
    for (;;) {
      const end = all.indexOf(ANSWER_END);
      if (end === -1 || (end > 0 && all[end - 1] !== 0x0a)) break;
      const answer = all.subarray(0, end);
      all = all.subarray(end + ANSWER_END.length);
      const warnings: string[] = [];
      const dump: Buffer[] = [];
      let from = 0;
      while (from < answer.length) {
        let eol = answer.indexOf(0x0a, from);
        if (eol === -1) eol = answer.length;
        const line = answer.subarray(from, eol + 1);
        if (line[0] === 0x01) warnings.push(`${XATTR_READER_BINARY}: ${unquote(line.subarray(6, line.length - 1)).toString('utf8')}`);
        else dump.push(line);
        from = eol + 1;
      }
      this.waiting.shift()?.resolve({ dump: Buffer.concat(dump), warnings });
      if (this.waiting.length === 0 && this.child !== null) this.hold(this.child, false);
    }
    this.chunks = all.length > 0 ? [Buffer.from(all)] : [];
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
  const result = new Map<string, Record<string, Buffer>>();
  // A folder is named with "/." so that a root reached through a link (a held folder's
  // /proc/<pid>/fd/<n>) is walked rather than read as the link; keys are normalised back.
  // `folder: false` reads the one file (a link itself, never what it points to).
  const folder = options.folder ?? (await lstat(root)).isDirectory();
  const start = folder ? `${root}/.` : root;
  const stdout = await dumpTree(start, warn);
  if (stdout === undefined) return result;
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
