import { closeSync, createReadStream, createWriteStream, fstatSync, openSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CliError } from './errors.js';

/**
 * Writes a downloaded archive (export, save) to `-o FILE` (through a temporary file renamed at
 * the end, so a failure leaves no half file) or to stdout, refusing a terminal like docker.
 */
export async function writeArchive(source: Readable, outputFile: string | undefined): Promise<void> {
  if (outputFile === undefined) {
    if (process.stdout.isTTY) throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    await pipeline(source, process.stdout, { end: false });
    return;
  }
  const temp = join(dirname(outputFile), `.${basename(outputFile)}.tmp-${process.pid}`);
  try {
    await pipeline(source, createWriteStream(temp));
    renameSync(temp, outputFile);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

/** A file to upload (import, load), or stdin for `-`/no file; refuses an interactive terminal. */
export function openInput(file: string | undefined): Readable {
  if (file === undefined || file === '-') {
    if (process.stdin.isTTY) throw new CliError('requested load from stdin, but stdin is empty (use -i FILE or redirect)');
    return process.stdin;
  }
  // Opened here, so that a missing or unreadable file is one line now, not a stream error later.
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new CliError(`open ${file}: ${errnoText(err)}`);
  }
  if (fstatSync(fd).isDirectory()) {
    closeSync(fd);
    throw new CliError(`read ${file}: is a directory`);
  }
  return createReadStream('', { fd });
}

/** An errno as Go words it (what the docker CLI prints): "no such file or directory". */
export function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const words: Record<string, string> = { ENOENT: 'no such file or directory', EACCES: 'permission denied', EISDIR: 'is a directory', ENOTDIR: 'not a directory' };
  return (code && words[code]) ?? (err instanceof Error ? err.message : String(err));
}
