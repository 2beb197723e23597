import type { StorageDriver } from '../plugins/driver.js';
import type { EngineState } from '../state/engine-state.js';
import { LayerMissingError, type ContentStore, type ImportOptions, type LayerBlob } from './content-store.js';
import { referencedBlobs } from './image-rules.js';
import { blobsKeptByPullLeases } from './pull-lease.js';

/**
 * While a lease is open, the garbage collection does not run: what an operation stored and has
 * not yet recorded (a commit's layer before its ImageCreated) cannot be taken from under it.
 */
export interface Lease {
  release(): void;
}

/**
 * Layers: stored in the content store (a tar, or a pulled layer's compressed copy; content-addressed,
 * written to a temp name and renamed, so a half-written blob is never visible) and unpacked by the
 * storage driver (which unpacks into a temp folder and renames, the same way).
 *
 * The garbage collection deletes a blob, and its unpacked layer, only when no image in the fold
 * references it (`referencedBlobs`) and no lease is open (it waits for them; leases opened while
 * it waits are waited for too, and none opens while it deletes); the unpacked layer goes first, so a
 * crash in between leaves a blob that the next collection finds again. Run after rmi/prune and at
 * daemon start, it also cleans what a crash left between `ImageRemoved` and the deletion.
 */
export class LayerStore {
  private leases = 0;
  private readonly leasesEnded: (() => void)[] = [];
  private collecting: Promise<readonly string[]> | null = null;
  /** True while a collection deletes (it waited for every lease to end): new leases wait for it. */
  private sweeping = false;

  constructor(
    readonly content: ContentStore,
    private readonly storage: () => StorageDriver,
    private readonly warn: (message: string) => void,
  ) {}

  /** Whether an import, commit or load holds a lease now (a collection asked for would wait for it). */
  get leased(): boolean {
    return this.leases > 0;
  }

  /** Opens a lease (waiting for a collection that is deleting to end first; one still waiting for leases does not hold it up). */
  async lease(): Promise<Lease> {
    while (this.sweeping && this.collecting !== null) await this.collecting.catch(() => undefined);
    this.leases++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.leases--;
        if (this.leases === 0) for (const wake of this.leasesEnded.splice(0)) wake();
      },
    };
  }

  /** Stores a layer tar (a path or a stream, gzip or not) and unpacks it; call under a lease. */
  async importLayer(source: string | AsyncIterable<Uint8Array | string>, options: ImportOptions = {}): Promise<LayerBlob> {
    const blob = await this.content.importLayerTar(source, options);
    await this.apply(blob.diffId);
    return blob;
  }

  /**
   * Unpacks the stored layers the storage driver does not have yet (a commit's layer is unpacked
   * when a container or an export first needs it, not while committing). One stat per layer when
   * they are all there.
   */
  async ensureUnpacked(diffIds: readonly string[]): Promise<void> {
    const storage = this.storage();
    for (const diffId of diffIds) {
      if (await storage.hasLayer(diffId)) continue;
      if (!(await this.content.hasLayer(diffId))) throw new LayerMissingError(diffId);
      await this.apply(diffId);
    }
  }

  /** Unpacks a stored layer with the storage driver, from its tar or its compressed copy gunzipped (a no-op when it is unpacked). */
  async apply(diffId: string): Promise<void> {
    await this.storage().applyLayer(diffId, this.content.openLayer(diffId));
  }

  /**
   * Deletes every blob and unpacked layer the fold does not reference, once no lease is open;
   * `startup` also clears the content store's temp folder (nothing is under way then). Resolves
   * with the digests deleted. Concurrent calls share one run.
   */
  collectGarbage(state: () => EngineState, startup = false): Promise<readonly string[]> {
    if (this.collecting !== null && !this.sweeping) return this.collecting; // it reads the state when it starts deleting
    if (this.collecting !== null) return this.collecting.catch(() => undefined).then(() => this.collectGarbage(state, startup));
    const run = this.sweep(state, startup).finally(() => {
      this.collecting = null;
    });
    this.collecting = run;
    return run;
  }

  private async sweep(state: () => EngineState, startup: boolean): Promise<readonly string[]> {
    while (this.leases > 0) await new Promise<void>((resolve) => this.leasesEnded.push(resolve));
    this.sweeping = true; // checked and set in one turn: no lease can open in between
    try {
      return await this.deleteUnreferenced(state, startup);
    } finally {
      this.sweeping = false;
    }
  }

  private async deleteUnreferenced(state: () => EngineState, startup: boolean): Promise<readonly string[]> {
    if (startup) await this.content.clearTemp();
    let storage: StorageDriver;
    try {
      storage = this.storage();
    } catch {
      return []; // no storage driver on this host: its layers cannot go, so neither do their blobs
    }
    // What images reference, and the layers of pulls not finished yet (kept for the next pull).
    const used = new Set([...referencedBlobs(state()), ...(await blobsKeptByPullLeases(this.content.root))]);
    const deleted: string[] = [];
    for (const digest of await this.content.list()) {
      if (used.has(digest)) continue;
      try {
        await storage.removeLayer(digest); // a config's digest has no unpacked layer: a no-op
        await this.content.removeBlob(digest);
        deleted.push(digest);
      } catch (error) {
        this.warn(`garbage collection of ${digest}: ${error instanceof Error ? error.message : String(error)} (it stays; the next collection tries again)`);
      }
    }
    return deleted;
  }
}
