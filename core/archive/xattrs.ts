import { execFile } from 'node:child_process';
import { lstat } from 'node:fs/promises';
import { posix } from 'node:path';

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
 * Reads the extended attributes of every file under `root` (not following symlinks; `folder` says
 * whether root is a folder, for a root reached through a link) with one
 * `getfattr -R` run. Keys are absolute paths; files without attributes are absent. An empty map
 * when getfattr is not installed (warned once); what it could read when it failed on some file (warned).
 */
export async function readXattrTree(root: string, warn: (message: string) => void, options: { folder?: boolean } = {}): Promise<Map<string, Record<string, Buffer>>> {
  const result = new Map<string, Record<string, Buffer>>();
  // A folder is named with "/." so that a root reached through a link (a held folder's
  // /proc/<pid>/fd/<n>) is walked rather than read as the link; keys are normalised back.
  // `folder: false` reads the one file (a link itself, never what it points to).
  const folder = options.folder ?? (await lstat(root)).isDirectory();
  const start = folder ? `${root}/.` : root;
  let stdout: Buffer;
  try {
    const result = await run('getfattr', ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', '--', start]);
    // A file that vanished or cannot be read makes getfattr fail; the rest of its output stands.
    if (result.failure !== null) warn(result.failure);
    stdout = result.stdout;
  } catch (error) {
    if (isMissingTool(error)) {
      warnOnce('getfattr', warn);
      return result;
    }
    throw error;
  }
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
