import { lstat, readlink, realpath, stat } from 'node:fs/promises';
import { posix, resolve } from 'node:path';
import { goBase, goSplit, getRebaseName, preserveTrailingDotOrSeparator, splitPathDirEntry, type CopyDestination, type CopySource } from '../../core/archive/copy-paths.js';
import { CliError } from './errors.js';
import { errnoText } from './file-io.js';

/** One side of `cp`: `CONTAINER:PATH`, or a local path (absolute, "./x:y", or without a colon). */
export type CpOperand = { readonly container: string; readonly path: string } | { readonly container: null; readonly path: string };

/** Docker's splitCpArg: an absolute path, or one starting with ".", is local even with a colon in it. */
export function splitCpArg(arg: string): CpOperand {
  if (arg.startsWith('/')) return { container: null, path: arg };
  const colon = arg.indexOf(':');
  if (colon === -1 || arg.startsWith('.')) return { container: null, path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

/** A local path made absolute, keeping a trailing "/" or "/." (Docker's resolveLocalPath). */
export function resolveLocalPath(path: string): string {
  return preserveTrailingDotOrSeparator(resolve(path), path);
}

function goError(op: string, path: string, error: unknown): CliError {
  return new CliError(`${op} ${path}: ${errnoText(error)}`);
}

/**
 * The local source of a copy into a container (Docker's CopyInfoSourcePath): links in the folders
 * on the way are followed; the last element only with `followLink` (-L), and then the copy keeps
 * the name that was asked for.
 */
export async function copyInfoSourcePath(path: string, followLink: boolean): Promise<CopySource> {
  let resolved: string;
  let rebaseName = '';
  if (followLink) {
    const target = await realpath(path).catch((error: unknown) => { throw goError('lstat', path, error); });
    ({ resolved, rebaseName } = getRebaseName(path, target));
  } else {
    const { dir, base } = goSplit(path);
    const resolvedDir = await realpath(dir === '' ? '.' : dir).catch((error: unknown) => { throw goError('lstat', dir, error); });
    resolved = `${resolvedDir === '/' ? '' : resolvedDir}/${base}`;
    if (path.endsWith('/') && goBase(path) !== goBase(resolved)) rebaseName = goBase(path);
  }
  const stats = await lstat(resolved).catch((error: unknown) => { throw goError('lstat', resolved, error); });
  return { path: resolved, isDir: stats.isDirectory(), rebaseName };
}

/**
 * The local destination of a copy out of a container (Docker's CopyInfoDestinationPath): a link
 * there is followed (a dangling one names what to create); a missing destination needs its
 * parent folder.
 */
export async function copyInfoDestinationPath(path: string): Promise<CopyDestination> {
  let current = path;
  for (let links = 0; ; links++) {
    let stats;
    try {
      stats = await lstat(current);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw goError('lstat', current, error);
      const { dir } = splitPathDirEntry(current);
      const parent = await stat(dir).catch((e: unknown) => { throw goError('stat', dir, e); });
      if (!parent.isDirectory()) throw new CliError(`${dir}: not a directory`);
      return { path: current, exists: false, isDir: false };
    }
    if (!stats.isSymbolicLink()) return { path: current, exists: true, isDir: stats.isDirectory() };
    if (links >= 10) throw new CliError(`too many symlinks in ${path}`);
    const target = await readlink(current);
    current = target.startsWith('/') ? target : posix.join(splitPathDirEntry(current).dir, target);
  }
}
