/**
 * The path rules of `docker cp` and the archive API, as Docker's pkg/archive states them (pure).
 * A container path is taken as absolute in the container; a trailing "/" or "/." is meaningful
 * (it asks for a folder, and for a folder's content) and survives cleaning.
 */
import { posix } from 'node:path';

/** Go's filepath.Base: the last element without trailing slashes; "/" for the root, "." for "". */
export function goBase(path: string): string {
  if (path === '') return '.';
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** Go's filepath.Split: everything up to and including the last "/", and the rest. */
export function goSplit(path: string): { dir: string; base: string } {
  const slash = path.lastIndexOf('/');
  return { dir: path.slice(0, slash + 1), base: path.slice(slash + 1) };
}

function cleanPosix(path: string): string {
  const clean = posix.normalize(path);
  return clean.length > 1 ? clean.replace(/\/+$/, '') : clean;
}

/**
 * Docker's PreserveTrailingDotOrSeparator: `cleaned` keeps the "/." or "/" that `original` ended
 * with ("a/b/." stays a request for the content of b; "a/b/" for b as a folder).
 */
export function preserveTrailingDotOrSeparator(cleaned: string, original: string): string {
  let out = cleaned;
  if (goBase(out) !== '.' && /(^|\/)\.$/.test(original)) {
    if (!out.endsWith('/')) out += '/';
    out += '.';
  }
  if (!out.endsWith('/') && original.endsWith('/')) out += '/';
  return out;
}

/** A path given for a container, as an absolute path in it: "tmp/x/" → "/tmp/x/", "../etc" → "/etc". */
export function containerAbsPath(path: string): string {
  return preserveTrailingDotOrSeparator(cleanPosix(posix.join('/', path)), path);
}

/** True when `path` is `mountPoint` or under it (Docker's HasResource). */
export function isUnder(mountPoint: string, path: string): boolean {
  const rel = posix.relative(mountPoint, cleanPosix(path));
  return rel !== '..' && !rel.startsWith('../');
}

/** Whether the path asks for a folder's content ("dir/."). */
export function specifiesCurrentDir(path: string): boolean {
  return goBase(path) === '.';
}

/** Docker's SplitPathDirEntry: the folder of a path and its last element, "dir/." keeping its ".". */
export function splitPathDirEntry(path: string): { dir: string; base: string } {
  let cleaned = cleanPosix(path);
  if (specifiesCurrentDir(path) && cleaned !== '.') cleaned += '/.';
  return { dir: posix.dirname(cleaned), base: goBase(cleaned) };
}

/** Docker's GetRebaseName: a path resolved from `path` keeps its trailing "/" or "/.", and is renamed back to its base when that changed. */
export function getRebaseName(path: string, resolved: string): { resolved: string; rebaseName: string } {
  let out = resolved;
  if (specifiesCurrentDir(path) && !specifiesCurrentDir(out)) out += '/.';
  if (path.endsWith('/') && !out.endsWith('/')) out += '/';
  return { resolved: out, rebaseName: goBase(path) !== goBase(out) ? goBase(path) : '' };
}

/** What a copy knows of its source: where it is, whether a folder, and the name it should have ("" = its own). */
export interface CopySource {
  readonly path: string;
  readonly isDir: boolean;
  readonly rebaseName: string;
}

/** What a copy knows of its destination. */
export interface CopyDestination {
  readonly path: string;
  readonly exists: boolean;
  readonly isDir: boolean;
}

/** Why a copy cannot go where asked (Docker's words). */
export class CopyRuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CopyRuleError';
  }
}

/**
 * Docker's PrepareArchiveCopy: the folder to extract the source's archive into, and how to rename
 * its top entry so that the copy lands at the destination with the right name:
 * - into an existing folder: as it is;
 * - onto an existing file: a folder is refused ("cannot copy directory"), a file is renamed to it;
 * - onto nothing: extracted into the destination's parent, renamed to the destination's name,
 *   unless the destination ends with "/" and the source is a file ("no such directory").
 */
export function prepareArchiveCopy(src: CopySource, dst: CopyDestination): { dstDir: string; rebase?: { from: string; to: string } } {
  const { dir: dstDir, base: dstBase } = splitPathDirEntry(dst.path);
  const { base: srcBase } = splitPathDirEntry(src.path);
  const from = src.rebaseName !== '' ? src.rebaseName : srcBase;
  if (dst.exists && dst.isDir) return { dstDir: dst.path };
  if (dst.exists && src.isDir) throw new CopyRuleError('cannot copy directory');
  if (dst.exists) return { dstDir, rebase: { from, to: dstBase } };
  if (src.isDir) return { dstDir, rebase: { from, to: dstBase } };
  if (dst.path.endsWith('/') || specifiesCurrentDir(dst.path)) throw new CopyRuleError('no such directory');
  return { dstDir, rebase: { from, to: dstBase } };
}
