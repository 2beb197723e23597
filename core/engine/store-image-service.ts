import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { ImageConfig, ImageCreated } from '../../events/index.js';
import type { DaemonConfig } from '../daemon/daemon-config.js';
import { failpoint } from '../failpoints.js';
import { BUSYBOX_IMAGE_CONFIG, HOST_BUSYBOX, buildBusyboxRootfsTar, busyboxImageDocument } from '../images/busybox-rootfs.js';
import { ContentStore } from '../images/content-store.js';
import { ociArchitecture, type ImageConfigDocument } from '../images/image-config.js';
import { InvalidReferenceError, looksLikeTarPath, parseReference } from '../images/image-reference.js';
import { decideRemoveImage, normaliseRepoTag, pruneVictims, type ImageDeleteItem } from '../images/image-rules.js';
import { LayerStore } from '../images/layer-store.js';
import type { ExporterDriver, StorageDriver } from '../plugins/driver.js';
import { DriverKinds } from '../plugins/kinds.js';
import type { Logger } from '../plugins/logger.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import type { ContainerState, ImageState } from '../state/engine-state.js';
import { findImage, tryFindImage } from '../state/lookup.js';
import { applyConfigChanges } from './config-changes.js';
import type { CommitRequest, ImportRequest, ProgressReporter } from './engine.js';
import { ConflictError, InvalidArgumentError, NotFoundError } from './errors.js';
import type { EventStore } from './event-store.js';
import { commitContainer, exportContainer } from './image-commit.js';
import { loadImages } from './image-load.js';
import { ImageRecords, type ImageParts } from './image-records.js';
import { saveImages } from './image-save.js';
import type { ImageService } from './image-service.js';


const EMPTY_CONFIG: ImageConfig = { Env: BUSYBOX_IMAGE_CONFIG.Env, Cmd: null, Entrypoint: null, WorkingDir: '', User: '', Labels: {} };

/** sha256 of a file's bytes, without copying it (to find an already imported tarball). */
async function fileDigest(path: string): Promise<{ digest: string; gzip: boolean }> {
  const head = Buffer.alloc(2);
  const fh = await open(path, 'r');
  try {
    await fh.read(head, 0, 2, 0);
  } finally {
    await fh.close();
  }
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { digest: `sha256:${hash.digest('hex')}`, gzip: head[0] === 0x1f && head[1] === 0x8b };
}

/**
 * Images on top of the layer store (content store + storage driver). Which images exist, their
 * tags and configs come only from the event log; what may be done to them is decided by the pure
 * rules of core/images/image-rules.ts and appended by ImageRecords. Commit and export are in
 * image-commit.ts, save in image-save.ts, load in image-load.ts.
 */
export class StoreImageService implements ImageService {
  readonly content: ContentStore;
  readonly layers: LayerStore;
  private readonly records: ImageRecords;
  private readonly parts: ImageParts;

  constructor(
    private readonly store: EventStore,
    private readonly registry: PluginRegistry,
    config: DaemonConfig,
    private readonly logger: Logger,
  ) {
    this.content = new ContentStore(config.dataRoot);
    this.layers = new LayerStore(this.content, () => this.storage(), (message) => logger.warn(message));
    this.records = new ImageRecords(store);
    this.parts = { records: this.records, layers: this.layers, storage: () => this.storage(), exporter: () => this.exporter() };
  }

  private storage(): StorageDriver {
    return this.registry.require(DriverKinds.storage);
  }

  private exporter(): ExporterDriver {
    return this.registry.require(DriverKinds.exporter);
  }

  /**
   * The garbage collection after a removal: awaited, unless an import, commit or load is under
   * way (it would wait for that to end): then it runs when they are done, and rmi answers now.
   */
  private async collect(): Promise<void> {
    const collecting = this.layers.collectGarbage(() => this.store.state());
    if (!this.layers.leased) {
      await collecting;
      return;
    }
    collecting.catch((err: unknown) => this.logger.warn(`the image store's garbage collection failed: ${err instanceof Error ? err.message : String(err)}`));
  }

  async recover(): Promise<void> {
    const deleted = await this.layers.collectGarbage(() => this.store.state(), true);
    if (deleted.length > 0) this.logger.info(`deleted ${deleted.length} blob(s) no image references (left by an interrupted removal or import)`);
  }

  /** The image a container is created from, its layers unpacked (a committed image's are not yet). */
  async resolveForCreate(ref: string, progress?: ProgressReporter): Promise<ImageState> {
    const image = await this.resolve(ref, progress);
    await this.layers.ensureUnpacked(image.layers.map((l) => l.diffId));
    return image;
  }

  private async resolve(ref: string, progress?: ProgressReporter): Promise<ImageState> {
    const state = this.store.state();
    const known = tryFindImage(state, ref);
    if (known) return known;
    if (looksLikeTarPath(ref)) {
      if (!existsSync(ref)) throw new NotFoundError(`No such image: ${ref} (no such file)`);
      const { digest, gzip } = await fileDigest(ref);
      if (!gzip) {
        const cached = Object.values(state.images).find((i) => i.origin === 'import' && i.layers.length === 1 && i.layers[0]!.diffId === digest);
        if (cached) return cached;
      }
      const id = await this.importImage(ref, {}, progress);
      return findImage(this.store.state(), id);
    }
    try {
      parseReference(ref);
    } catch (err) {
      if (err instanceof InvalidReferenceError) throw new InvalidArgumentError(err.message);
      throw err;
    }
    return findImage(state, ref);
  }

  /** Stores and unpacks a one-layer image's layer, and records the image (and tag), under a lease. */
  private async createImage(
    layer: string | NodeJS.ReadableStream, origin: ImageCreated['data']['origin'], source: string, repoTag: string | undefined,
    documentFor: (diffId: string) => ImageConfigDocument, progress?: ProgressReporter,
  ): Promise<string> {
    this.storage(); // no storage driver: refused before reading a byte
    const lease = await this.layers.lease();
    try {
      const blob = await this.layers.importLayer(layer, { onProgress: (bytes) => progress?.({ phase: 'Importing', current: bytes }) });
      const doc = documentFor(blob.diffId);
      const id = await this.content.writeImageConfig(doc);
      await this.records.create({
        id, origin, source, parent: null, layers: [{ diffId: blob.diffId, size: blob.size }], config: doc.config,
        history: doc.history, created: doc.created, architecture: doc.architecture, os: doc.os,
      });
      if (repoTag) await this.records.tag(id, repoTag);
      return id;
    } finally {
      lease.release();
    }
  }

  async ensureBuiltins(): Promise<void> {
    if (tryFindImage(this.store.state(), 'busybox:latest')) return;
    if (!existsSync(HOST_BUSYBOX)) {
      this.logger.warn(`no ${HOST_BUSYBOX} on this host: install busybox-static (apt-get install -y busybox-static) for the default busybox image`);
      return;
    }
    const id = await this.createImage(buildBusyboxRootfsTar(), 'builtin', HOST_BUSYBOX, 'busybox:latest', (diffId) => busyboxImageDocument(diffId));
    this.logger.info(`made the default image busybox:latest (${id.slice(7, 19)}) from ${HOST_BUSYBOX}`);
  }

  async importImage(source: NodeJS.ReadableStream | string, request: ImportRequest, progress?: ProgressReporter): Promise<string> {
    const repoTag = request.repo ? normaliseRepoTag(request.repo, request.tag) : undefined;
    const config = applyConfigChanges(EMPTY_CONFIG, request.changes ?? []);
    const created = new Date().toISOString();
    const sourceName = typeof source === 'string' ? source : '-';
    if (typeof source === 'string') {
      const st = await stat(source).catch(() => undefined);
      if (!st?.isFile()) throw new InvalidArgumentError(`${source}: no such file (import takes a tar archive of a root filesystem, e.g. made with docker export)`);
    }
    const history = [{ created, created_by: `mini-docker import ${sourceName}`, ...(request.message ? { comment: request.message } : {}) }];
    const documentFor = (diffId: string): ImageConfigDocument => ({
      architecture: ociArchitecture(), os: 'linux', created, config, rootfs: { type: 'layers', diff_ids: [diffId] }, history,
    });
    try {
      return await this.createImage(source, 'import', sourceName, repoTag, documentFor, progress);
    } catch (err) {
      if (err instanceof Error && !(err instanceof ConflictError) && /tar archive|compressed|empty|gzip/.test(err.message)) {
        throw new InvalidArgumentError(err.message);
      }
      throw err;
    }
  }

  async tag(ref: string, repo: string, tag?: string): Promise<void> {
    const image = findImage(this.store.state(), ref);
    await this.records.tag(image.id, normaliseRepoTag(repo, tag));
  }

  async remove(ref: string, force: boolean): Promise<readonly ImageDeleteItem[]> {
    const decision = decideRemoveImage(this.store.state(), ref, force);
    await this.records.append(decision.image, decision.events);
    if (decision.removed) {
      failpoint('rmi.after-removed');
      await this.collect();
    }
    return decision.report;
  }

  async prune(all = false): Promise<{ deleted: readonly ImageDeleteItem[]; spaceReclaimed: number }> {
    let space = 0;
    const deleted: ImageDeleteItem[] = [];
    for (const image of pruneVictims(this.store.state(), all)) {
      const decision = decideRemoveImage(this.store.state(), image.id, true);
      await this.records.append(decision.image, decision.events);
      deleted.push(...decision.report);
      space += image.size;
    }
    if (deleted.length > 0) await this.collect();
    return { deleted, spaceReclaimed: space };
  }

  commit(container: ContainerState, storage: StorageDriver, request: CommitRequest, progress?: ProgressReporter): Promise<string> {
    return commitContainer(this.parts, container, storage, request, progress);
  }

  exportContainer(container: ContainerState, image: ImageState, storage: StorageDriver, out: NodeJS.WritableStream, progress?: ProgressReporter): Promise<void> {
    return exportContainer(this.parts, container, image, storage, out, progress);
  }

  save(refs: readonly string[], out: NodeJS.WritableStream, progress?: ProgressReporter): Promise<void> {
    return saveImages(this.content, this.store.state(), refs, out, progress);
  }

  load(source: NodeJS.ReadableStream, progress?: ProgressReporter): Promise<readonly string[]> {
    return loadImages(this.parts, source, progress);
  }
}
