import { lstat, mkdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { TreeFs } from './tree-fs.js';

/** What resolving needs of a file system. */
export type ResolveFs = Pick<TreeFs, 'lstat' | 'readlink' | 'mkdir'>;

const HOST_FS: ResolveFs = {
  lstat: (path) => lstat(path),
  readlink: (path) => readlink(path),
  mkdir: async (path, mode) => {
    await mkdir(path, { mode });
  },
};

/** Most symlinks followed while resolving one path (Linux allows 40; securejoin 255). */
const MAX_SYMLINKS = 255;

/**
 * Splits a path into its components, dropping empty ones and "." (".." is kept, for the
 * resolver to apply against the real folders it has walked).
 */
export function pathComponents(path: string): string[] {
  return path.split('/').filter((part) => part !== '' && part !== '.');
}

/** Cleans a path as if it were rooted at "/": leading "..", "." and slashes go away ("../a/./b" → ["a", "b"]). */
export function cleanInRoot(path: string): string[] {
  const out: string[] = [];
  for (const part of pathComponents(path)) {
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out;
}

export interface ResolveOptions {
  /** Follow a symlink in the last component too (for a folder to write into); otherwise it is returned as is. */
  readonly followFinal: boolean;
  /** Create missing components as folders (mode 0755), the last one too when `followFinal`. */
  readonly create: boolean;
  /** With `followFinal`: the last component may be something else than a folder (a file a link names). */
  readonly finalMayBeFile?: boolean;
  /**
   * Missing components are not an error: they and the rest are appended as they are (".." taken
   * lexically), as securejoin does. Where a dangling link points, for `cp`'s link targets.
   */
  readonly missingAsIs?: boolean;
}

function errnoError(code: string, message: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(message);
  error.code = code;
  return error;
}

/**
 * Resolves `path` inside `root` as if `root` were "/" (chrooted), like Go's securejoin: each
 * component is looked at with lstat; a symlink is read and its target resolved again inside
 * `root` (an absolute target starts over from `root`, ".." stops at `root`), so the result never
 * leaves `root` and no folder on the way is a symlink. Returns the host path.
 *
 * The answer is true when it is computed: a process changing the tree at the same time could
 * swap a folder for a symlink afterwards. Extraction writes into trees nothing else touches.
 * With `fs` a ContainerFs (cp), `root` and the answer are the container's paths, and every
 * lookup is made by a process whose root is the container's: the answer gives the rules (".."
 * and absolute links stop at `root`), the kernel keeps everything inside the container.
 */
export async function resolveInRoot(root: string, path: string, options: ResolveOptions, fs: ResolveFs = HOST_FS): Promise<string> {
  const pending = pathComponents(path);
  const resolved: string[] = [];
  let symlinks = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const isFinal = pending.length === 0;
    const hostPath = join(root, ...resolved, part);
    let stats;
    try {
      stats = await fs.lstat(hostPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      if (isFinal && !options.followFinal) {
        resolved.push(part);
        continue;
      }
      if (options.missingAsIs === true) {
        resolved.push(part);
        for (const rest of pending.splice(0)) {
          if (rest === '..') resolved.pop();
          else resolved.push(rest);
        }
        continue;
      }
      if (!options.create) throw errnoError('ENOENT', `${join('/', ...resolved, part)}: no such file or directory inside the target`);
      try {
        await fs.mkdir(hostPath, 0o755);
      } catch (mkdirError) {
        if ((mkdirError as NodeJS.ErrnoException).code !== 'EEXIST') throw mkdirError;
        pending.unshift(part); // created meanwhile: look again
        continue;
      }
      resolved.push(part);
      continue;
    }
    if (stats.isSymbolicLink() && (!isFinal || options.followFinal)) {
      if (++symlinks > MAX_SYMLINKS) throw errnoError('ELOOP', `${path}: too many levels of symbolic links`);
      const target = await fs.readlink(hostPath);
      if (target.startsWith('/')) resolved.length = 0;
      pending.unshift(...pathComponents(target));
      continue;
    }
    if (!stats.isDirectory() && (!isFinal || (options.followFinal && options.finalMayBeFile !== true))) {
      throw errnoError('ENOTDIR', `${join('/', ...resolved, part)}: not a directory`);
    }
    resolved.push(part);
  }
  return join(root, ...resolved);
}
