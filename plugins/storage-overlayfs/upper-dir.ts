import type { Stats } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { TarWriter, readXattrTree, writeTar } from '../../core/plugin-api.js';
import type { FileChange, LayerUsage } from '../../core/plugin-api.js';
import { OVERLAY_OPAQUE_XATTR, isWhiteout, ociWhiteouts } from './whiteouts.js';

/** What a container's overlay upper dir says: its diff as an OCI layer, its changes, its size. */

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The upper dir as an OCI layer tar (whiteouts converted by `ociWhiteouts`), streamed as it is
 * walked; an empty tar when there is no upper dir (a container that never started). A failure
 * destroys the stream with the error.
 */
export function diffStream(upper: string, warn: (message: string) => void): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  const write = async (): Promise<void> => {
    if (!(await isDirectory(upper))) {
      await new TarWriter(out).finish();
      out.end();
      return;
    }
    await writeTar(upper, out, { rewrite: ociWhiteouts(warn), onWarning: warn });
  };
  write().catch((error: unknown) => out.destroy(error instanceof Error ? error : new Error(String(error))));
  return out;
}

/** Bytes of the regular files and the number of inodes under the upper dir (0 when there is none). */
export async function usageOf(upper: string): Promise<LayerUsage> {
  let size = 0;
  let inodes = 0;
  const seen = new Set<number>();
  const walk = async (dir: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    for (let i = 0; i < names.length; i += 16) {
      // 16 lstat calls at once: a layer of many small files is walked in a fraction of the time.
      const window = names.slice(i, i + 16);
      const stats = await Promise.all(window.map((name) => lstat(join(dir, name)).catch(() => undefined)));
      for (const [j, s] of stats.entries()) {
        if (!s) continue;
        if (s.nlink > 1 && !s.isDirectory()) {
          if (seen.has(s.ino)) continue; // a hardlink: its inode and bytes are counted once
          seen.add(s.ino);
        }
        inodes++;
        if (s.isDirectory()) await walk(join(dir, window[j]!));
        else if (s.isFile()) size += s.size;
      }
    }
  };
  await walk(upper);
  return { size, inodes };
}

/**
 * Reads the upper dir against its lower dirs (topmost first): a whiteout is a deletion; anything
 * else is an addition when no lower layer has the path (a whiteout in a higher layer hides it) and
 * a modification otherwise; an opaque folder also deletes what the layers had in it. Sorted by path.
 */
export async function changesOf(upper: string, lowers: readonly string[], warn: (message: string) => void): Promise<FileChange[]> {
  if (!(await isDirectory(upper))) return [];
  const xattrs = await readXattrTree(upper, warn);
  const stat0 = (path: string): Promise<Stats | undefined> => lstat(path).then((s) => s, () => undefined);
  const below = async (rel: string): Promise<boolean> => {
    for (const lower of lowers) {
      const s = await stat0(join(lower, rel));
      if (s) return !isWhiteout(s);
    }
    return false;
  };
  const out: FileChange[] = [];
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(join(upper, rel))).sort();
    for (const name of names) {
      const path = `${rel}/${name}`;
      const s = await stat0(join(upper, path));
      if (!s) continue;
      if (isWhiteout(s)) {
        out.push({ path, kind: 'deleted' });
        continue;
      }
      const existed = await below(path);
      out.push({ path, kind: existed ? 'modified' : 'added' });
      if (!s.isDirectory()) continue;
      if (existed && xattrs.get(join(upper, path))?.[OVERLAY_OPAQUE_XATTR]?.toString() === 'y') {
        const kept = new Set(await readdir(join(upper, path)));
        const hidden = new Set<string>();
        for (const lower of lowers) for (const child of await readdir(join(lower, path)).catch(() => [] as string[])) if (!kept.has(child)) hidden.add(child);
        for (const child of hidden) out.push({ path: `${path}/${child}`, kind: 'deleted' });
      }
      await walk(path);
    }
  };
  await walk('');
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
