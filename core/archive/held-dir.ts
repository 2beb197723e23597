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
