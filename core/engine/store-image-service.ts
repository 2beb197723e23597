import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { EngineEvent, ImageConfig, ImageCreated } from '../../events/index.js';
import { imageStream } from '../../events/index.js';
import type { DaemonConfig } from '../daemon/daemon-config.js';
import { BUSYBOX_IMAGE_CONFIG, HOST_BUSYBOX, buildBusyboxRootfsTar, busyboxImageDocument } from '../images/busybox-rootfs.js';
import { ContentStore } from '../images/content-store.js';
import { ociArchitecture, type ImageConfigDocument } from '../images/image-config.js';
import { InvalidReferenceError, looksLikeTarPath, parseReference } from '../images/image-reference.js';
import type { Driver, StorageDriver } from '../plugins/driver.js';
import { DriverKinds } from '../plugins/kinds.js';
import type { Logger } from '../plugins/logger.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import type { ContainerState, ImageState } from '../state/engine-state.js';
import { findImage, tryFindImage } from '../state/lookup.js';
import { applyConfigChanges } from './config-changes.js';
import type { CommitRequest, ImportRequest, ProgressReporter } from './engine.js';
import { ConflictError, InvalidArgumentError, NotFoundError, NotImplementedError } from './errors.js';
import type { EventStore } from './event-store.js';
import type { ImageService } from './image-service.js';

const isStorage = (d: Driver): d is StorageDriver => d.id.startsWith(`${DriverKinds.storage}.`) && 'prepare' in d;

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

function normaliseRepoTag(repo: string, tag?: string): string {
  const full = tag ? `${repo}:${tag}` : repo;
  try {
    const ref = parseReference(full);
    if (!ref.tag) throw new InvalidArgumentError(`${full}: a tag is needed here, not a digest`);
    return ref.ref;
  } catch (err) {
    if (err instanceof InvalidReferenceError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

/**
 * Images on top of the content store and the storage driver. Which images exist, their tags and
 * configs come only from the event log (ImageCreated, ImageTagged, ImageUntagged, ImageRemoved).
 */
export class StoreImageService implements ImageService {
  readonly content: ContentStore;

  constructor(
    private readonly store: EventStore,
    private readonly registry: PluginRegistry,
    config: DaemonConfig,
    private readonly logger: Logger,
  ) {
    this.content = new ContentStore(config.dataRoot);
  }

  private storage(): StorageDriver {
    const d = this.registry.pick(DriverKinds.storage, isStorage);
    if (!d) throw new ConflictError('no storage driver is available: see `mini-docker info`');
    return d;
  }

  async resolveForCreate(ref: string, progress?: ProgressReporter): Promise<ImageState> {
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

  /** Stores a layer tar, unpacks it with the storage driver, and records the image (and tag). */
  private async createImage(
    layer: string | Readable, origin: ImageCreated['data']['origin'], source: string, config: ImageConfig,
    history: ImageConfigDocument['history'], created: string, repoTag: string | undefined, progress?: ProgressReporter,
    documentFor?: (diffId: string) => ImageConfigDocument,
  ): Promise<string> {
    const storage = this.storage();
    const blob = await this.content.importLayerTar(layer, { onProgress: (bytes) => progress?.({ phase: 'Importing', current: bytes }) });
    await storage.applyLayer(blob.diffId, createReadStream(blob.path));
    const doc: ImageConfigDocument = documentFor ? documentFor(blob.diffId) : {
      architecture: ociArchitecture(), os: 'linux', created, config, rootfs: { type: 'layers', diff_ids: [blob.diffId] }, history,
    };
    const id = await this.content.writeImageConfig(doc);
    if (!this.store.state().images[id]) {
      await this.store.append(imageStream(id), [{
        type: 'ImageCreated',
        data: {
          id, origin, source, parent: null, layers: [{ diffId: blob.diffId, size: blob.size }], config: doc.config,
          history: doc.history, created: doc.created, architecture: doc.architecture, os: doc.os,
        },
      }], 'no-stream');
    }
    if (repoTag) await this.tagId(id, repoTag);
    return id;
  }

  private async tagId(id: string, repoTag: string): Promise<void> {
    const img = this.store.state().images[id];
    if (!img) throw new NotFoundError(`No such image: ${id}`);
    if (img.tags.includes(repoTag)) return;
    const events: EngineEvent[] = [{ type: 'ImageTagged', data: { id, ref: repoTag } }];
    await this.store.append(imageStream(id), events, img.version);
  }

  async ensureBuiltins(): Promise<void> {
    if (tryFindImage(this.store.state(), 'busybox:latest')) return;
    if (!existsSync(HOST_BUSYBOX)) {
      this.logger.warn(`no ${HOST_BUSYBOX} on this host: install busybox-static (apt-get install -y busybox-static) for the default busybox image`);
      return;
    }
    const id = await this.createImage(
      buildBusyboxRootfsTar(), 'builtin', HOST_BUSYBOX, BUSYBOX_IMAGE_CONFIG, [], '', 'busybox:latest', undefined,
      (diffId) => busyboxImageDocument(diffId),
    );
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
    const layer = typeof source === 'string' ? source : (source as Readable);
    try {
      return await this.createImage(layer, 'import', sourceName, config, history, created, repoTag, progress);
    } catch (err) {
      if (err instanceof Error && !(err instanceof ConflictError) && /tar archive|compressed|empty|gzip/.test(err.message)) {
        throw new InvalidArgumentError(err.message);
      }
      throw err;
    }
  }

  async tag(ref: string, repo: string, tag?: string): Promise<void> {
    const img = findImage(this.store.state(), ref);
    await this.tagId(img.id, normaliseRepoTag(repo, tag));
  }

  async remove(ref: string, force: boolean): Promise<readonly { Untagged?: string; Deleted?: string }[]> {
    const state = this.store.state();
    const img = findImage(state, ref);
    let byTag: string | undefined;
    try {
      const parsed = parseReference(ref);
      if (parsed.tag && img.tags.includes(parsed.ref)) byTag = parsed.ref;
    } catch { /* an id, not a reference */ }
    const result: { Untagged?: string; Deleted?: string }[] = [];
    if (byTag && img.tags.length > 1) {
      await this.store.append(imageStream(img.id), [{ type: 'ImageUntagged', data: { id: img.id, ref: byTag } }], img.version);
      return [{ Untagged: byTag }];
    }
    const users = Object.values(state.containers).filter((c) => c.image.id === img.id);
    if (users.length > 0) {
      const running = users.find((c) => c.status === 'running' || c.status === 'paused');
      if (running || !force) {
        const c = running ?? users[0]!;
        throw new ConflictError(`conflict: unable to remove repository reference "${ref}" (must force) - container ${c.id.slice(0, 12)} is ${running ? 'running' : 'using its referenced image'} ${img.id.slice(7, 19)}`);
      }
    }
    if (!byTag && img.tags.length > 1 && !force) {
      throw new ConflictError(`conflict: unable to delete ${img.id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`);
    }
    const events: EngineEvent[] = [];
    for (const t of img.tags) {
      events.push({ type: 'ImageUntagged', data: { id: img.id, ref: t } });
      result.push({ Untagged: t });
    }
    events.push({ type: 'ImageRemoved', data: { id: img.id } });
    result.push({ Deleted: img.id });
    await this.store.append(imageStream(img.id), events, img.version);
    await this.collectGarbage(img);
    return result;
  }

  /** Deletes the blobs and unpacked layers of a removed image that no other image uses. */
  private async collectGarbage(removed: ImageState): Promise<void> {
    const images = Object.values(this.store.state().images);
    const storage = this.storage();
    for (const layer of removed.layers) {
      if (images.some((i) => i.layers.some((l) => l.diffId === layer.diffId))) continue;
      await storage.removeLayer(layer.diffId).catch((e: unknown) => this.logger.warn(`removing layer ${layer.diffId}: ${String(e)}`));
      await this.content.removeBlob(layer.diffId);
    }
    await this.content.removeBlob(removed.id);
  }

  async prune(): Promise<{ deleted: readonly string[]; spaceReclaimed: number }> {
    const state = this.store.state();
    const used = new Set(Object.values(state.containers).map((c) => c.image.id));
    const dangling = Object.values(state.images).filter((i) => i.tags.length === 0 && !used.has(i.id));
    let space = 0;
    for (const img of dangling) {
      await this.remove(img.id, false);
      space += img.size;
    }
    return { deleted: dangling.map((i) => i.id), spaceReclaimed: space };
  }

  async commit(_container: ContainerState, _storage: StorageDriver, _request: CommitRequest): Promise<string> {
    throw new NotImplementedError('commit is not available yet in this build');
  }

  async exportContainer(_container: ContainerState, _image: ImageState, _storage: StorageDriver, _out: NodeJS.WritableStream): Promise<void> {
    throw new NotImplementedError('export is not available yet in this build');
  }

  async save(_refs: readonly string[], _out: NodeJS.WritableStream): Promise<void> {
    throw new NotImplementedError('save is not available yet in this build');
  }

  async load(_source: NodeJS.ReadableStream): Promise<readonly string[]> {
    throw new NotImplementedError('load is not available yet in this build');
  }
}
