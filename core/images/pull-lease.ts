import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** How long the layers of a pull that did not finish are kept for the next pull (containerd's pull lease: 24 h). */
export const PULL_LEASE_MS = 24 * 60 * 60 * 1000;

/**
 * A lease on disk (`<store>/leases/pull-<random>.json`: the layers stored so far and when it
 * expires): the garbage collection keeps those blobs even across a daemon restart, so a pull cut
 * by a crash is resumed by the next pull, which skips the whole layers. Released (deleted) once the
 * image is recorded; a failed pull leaves it to expire.
 */
export class PullLease {
  private readonly blobs: string[] = [];
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly path: string, private readonly expires: number) {}

  static open(storeRoot: string, now = Date.now()): PullLease {
    return new PullLease(join(storeRoot, 'leases', `pull-${randomBytes(6).toString('hex')}.json`), now + PULL_LEASE_MS);
  }

  /** Adds a stored blob to the lease (written to a temp name and renamed). */
  add(digest: string): Promise<void> {
    this.blobs.push(digest);
    const body = JSON.stringify({ expires: new Date(this.expires).toISOString(), blobs: this.blobs });
    this.writing = this.writing.then(async () => {
      await mkdir(join(this.path, '..'), { recursive: true });
      await writeFile(`${this.path}.tmp`, body);
      await rename(`${this.path}.tmp`, this.path);
    });
    return this.writing;
  }

  async release(): Promise<void> {
    await this.writing.catch(() => undefined);
    await rm(this.path, { force: true });
  }
}

/** The blobs unexpired pull leases keep; expired or unreadable lease files are deleted. */
export async function blobsKeptByPullLeases(storeRoot: string, now = Date.now()): Promise<ReadonlySet<string>> {
  const dir = join(storeRoot, 'leases');
  const kept = new Set<string>();
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.endsWith('.json')) {
      if (name.endsWith('.json.tmp')) await rm(join(dir, name), { force: true });
      continue;
    }
    try {
      const doc = JSON.parse(await readFile(join(dir, name), 'utf8')) as { expires?: unknown; blobs?: unknown };
      const expires = typeof doc.expires === 'string' ? Date.parse(doc.expires) : NaN;
      if (!(expires > now) || !Array.isArray(doc.blobs)) throw new Error('expired');
      for (const b of doc.blobs) if (typeof b === 'string') kept.add(b);
    } catch {
      await rm(join(dir, name), { force: true });
    }
  }
  return kept;
}
