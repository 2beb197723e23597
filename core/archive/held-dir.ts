import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/**
 * A folder held open: `path` (`/proc/<daemon pid>/fd/<n>`) reaches that very folder whatever
 * happens to the path it was opened by, and in whichever mount namespace it lives (a running
 * container's root, reached through `/proc/<pid>/root`). Names under it are looked up from the
 * folder itself. Never `realpath` such a path: the kernel names a folder of another mount
 * namespace as seen from there ("/" for a container's root), which on the host is another place.
 * Other processes of the daemon's (getfattr, the fs helper) can use `path` too.
 */
export class HeldDir {
  private constructor(private readonly handle: FileHandle) {}

  /** Opens `path` as a folder; with `noFollow`, a symlink there is refused (ELOOP/ENOTDIR) instead of followed. */
  static async open(path: string, options: { noFollow?: boolean } = {}): Promise<HeldDir> {
    const flags = constants.O_RDONLY | constants.O_DIRECTORY | (options.noFollow === true ? constants.O_NOFOLLOW : 0);
    return new HeldDir(await open(path, flags));
  }

  /**
   * Opens the folder `rel` (a path `resolveInRoot` returned, relative to the held folder `root`)
   * one component at a time, each opened O_DIRECTORY|O_NOFOLLOW from the folder before it: a
   * component that is (or became) a symlink is refused (ELOOP or ENOTDIR), so the folder held is
   * inside `root` whatever a process does to the path meanwhile, and whichever mount namespace
   * or root the process that uses it has. "." and ".." are refused (EINVAL).
   */
  static async openInside(root: string, rel: string): Promise<HeldDir> {
    let current = await HeldDir.open(root);
    try {
      for (const part of rel.split('/').filter((p) => p !== '')) {
        if (part === '.' || part === '..') {
          const error: NodeJS.ErrnoException = new Error(`${rel}: "${part}" in a resolved path`);
          error.code = 'EINVAL';
          throw error;
        }
        const next = await HeldDir.open(`${current.path}/${part}`, { noFollow: true });
        await current.close();
        current = next;
      }
      return current;
    } catch (error) {
      await current.close();
      throw error;
    }
  }

  /** The descriptor (to hand to a child process, which reaches the folder as `/proc/self/fd/<its number>`). */
  get fd(): number {
    return this.handle.fd;
  }

  get path(): string {
    return `/proc/${process.pid}/fd/${this.handle.fd}`;
  }

  /** Device and inode of the folder held. */
  async identity(): Promise<{ dev: number; ino: number }> {
    const stats = await this.handle.stat();
    return { dev: stats.dev, ino: stats.ino };
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
