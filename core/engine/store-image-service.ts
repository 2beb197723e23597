import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { EngineEvent, HistoryEntry, ImageConfig, ImageCreated, LayerDescriptor } from '../../events/index.js';
import { imageStream } from '../../events/index.js';
import type { DaemonConfig } from '../daemon/daemon-config.js';
import { BUSYBOX_IMAGE_CONFIG, HOST_BUSYBOX, buildBusyboxRootfsTar, busyboxImageDocument } from '../images/busybox-rootfs.js';
import { TarFormatError, TarWriter } from '../archive/index.js';
import { ContentStore, type LayerBlob } from '../images/content-store.js';
import {
  ImageArchiveError, SpooledArchive, blobPathOf, buildArchiveDocuments, parseImageConfig, planLoad,
  type ArchiveImage, type LoadPlanItem,
} from '../images/image-archive.js';
import { ociArchitecture, sha256Digest, type ImageConfigDocument } from '../images/image-config.js';
import { InvalidReferenceError, looksLikeTarPath, parseReference } from '../images/image-reference.js';
import type { Driver, ExporterDriver, StorageDriver } from '../plugins/driver.js';
import { DriverKinds } from '../plugins/kinds.js';
import type { Logger } from '../plugins/logger.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import type { ContainerState, ImageState } from '../state/engine-state.js';
import { findImage, tryFindImage } from '../state/lookup.js';
import { applyConfigChanges } from './config-changes.js';
import type { CommitRequest, ImportRequest, ProgressReporter } from './engine.js';
import { ConflictError, InvalidArgumentError, NotFoundError } from './errors.js';
import { ConcurrencyError } from '../eventlog/event-log.js';
import type { EventStore } from './event-store.js';
import type { ImageService } from './image-service.js';

const isStorage = (d: Driver): d is StorageDriver => d.id.startsWith(`${DriverKinds.storage}.`) && 'prepare' in d;
const isExporter = (d: Driver): d is ExporterDriver => d.id.startsWith(`${DriverKinds.exporter}.`) && 'exportDiff' in d;

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
      }], this.store.log.streamVersion(imageStream(id))); // an image removed earlier may come back
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
      if (running && force && byTag) {
        // As Docker: a forced removal by name of an image a running container uses only untags it.
        await this.store.append(imageStream(img.id), [{ type: 'ImageUntagged', data: { id: img.id, ref: byTag } }], img.version);
        return [{ Untagged: byTag }];
      }
      if (running && force) {
        throw new ConflictError(`conflict: unable to delete ${img.id.slice(7, 19)} (cannot be forced) - image is being used by running container ${running.id.slice(0, 12)}`);
      }
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

  async prune(all = false): Promise<{ deleted: readonly { Untagged?: string; Deleted?: string }[]; spaceReclaimed: number }> {
    const state = this.store.state();
    const used = new Set(Object.values(state.containers).map((c) => c.image.id));
    // Dangling (untagged) images no container uses; with `all` (prune -a), every image no container uses.
    const victims = Object.values(state.images).filter((i) => !used.has(i.id) && (all || i.tags.length === 0));
    let space = 0;
    const deleted: { Untagged?: string; Deleted?: string }[] = [];
    for (const img of victims) {
      deleted.push(...(await this.remove(img.id, true)));
      space += img.size;
    }
    return { deleted, spaceReclaimed: space };
  }

  private exporter(): ExporterDriver {
    const d = this.registry.pick(DriverKinds.exporter, isExporter);
    if (!d) throw new ConflictError('no exporter driver is available: see `mini-docker info`');
    return d;
  }

  /**
   * A new image: the container's image plus one layer of the container's changes (its overlay
   * upper dir, whiteouts as OCI `.wh.` entries), with the container's Cmd, Entrypoint, Env,
   * WorkingDir, User and Labels, then the `changes` (`-c 'ENV A=1'`) applied.
   */
  async commit(container: ContainerState, storage: StorageDriver, request: CommitRequest, progress?: ProgressReporter): Promise<string> {
    const parent = this.store.state().images[container.image.id];
    if (!parent) throw new ConflictError(`the image of container ${container.name} (${container.image.id.slice(7, 19)}) was removed: there is nothing to commit on top of`);
    const repoTag = request.repo ? normaliseRepoTag(request.repo, request.tag || undefined) : undefined;
    const c = container.config;
    const ports = c.ExposedPorts ?? parent.config.ExposedPorts;
    const config = applyConfigChanges({
      ...parent.config,
      Cmd: c.Cmd.length > 0 ? [...c.Cmd] : null,
      Entrypoint: c.Entrypoint && c.Entrypoint.length > 0 ? [...c.Entrypoint] : null,
      Env: [...c.Env],
      WorkingDir: c.WorkingDir,
      User: c.User,
      Labels: { ...c.Labels },
      ...(ports ? { ExposedPorts: ports } : {}),
    }, request.changes ?? []);
    const exporter = this.exporter();

    const blob = await this.exportDiffToStore(exporter, storage.diffPath(container.id), progress);
    await storage.applyLayer(blob.diffId, createReadStream(blob.path));
    const created = new Date().toISOString();
    const entry: HistoryEntry = {
      created,
      created_by: [...(c.Entrypoint ?? []), ...c.Cmd].join(' '),
      ...(request.comment ? { comment: request.comment } : {}),
      ...(request.author ? { author: request.author } : {}),
    };
    const layers: LayerDescriptor[] = [...parent.layers, { diffId: blob.diffId, size: blob.size }];
    const doc: ImageConfigDocument = {
      architecture: parent.architecture || ociArchitecture(), os: parent.os || 'linux', created, config,
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) }, history: [...parent.history, entry],
    };
    const id = await this.content.writeImageConfig(doc);
    await this.recordImage(id, 'commit', container.id, parent.id, layers, doc);
    if (repoTag) await this.tagId(id, repoTag);
    return id;
  }

  /**
   * Streams the exporter's layer tar of `upper` straight into the content store (no temp file).
   * A container that never ran has no upper dir: its diff is an empty layer.
   */
  private async exportDiffToStore(exporter: ExporterDriver, upper: string, progress?: ProgressReporter): Promise<LayerBlob> {
    const hasUpper = await stat(upper).then((st) => st.isDirectory(), () => false);
    let empty: string | undefined;
    if (!hasUpper) {
      await mkdir(join(this.content.root, 'tmp'), { recursive: true });
      empty = await mkdtemp(join(this.content.root, 'tmp', 'empty-'));
    }
    const channel = this.byteChannel();
    const exporting = exporter.exportDiff(empty ?? upper, channel.sink).catch((error: unknown) => {
      channel.fail(error instanceof Error ? error : new Error(String(error)));
      throw error;
    });
    const importing = this.content.importLayerTar(channel.chunks(), {
      onProgress: (bytes) => progress?.({ phase: 'Committing', current: bytes }),
    }).catch((error: unknown) => {
      channel.discard();
      throw error;
    });
    try {
      const [exported, imported] = await Promise.allSettled([exporting, importing]);
      if (exported.status === 'rejected') throw exported.reason;
      if (imported.status === 'rejected') throw imported.reason;
      return imported.value;
    } finally {
      if (empty) await rm(empty, { recursive: true, force: true });
    }
  }

  /**
   * A writable whose chunks are read, with back-pressure, from `chunks()`. The reader may stop at
   * any time without telling (the content store does on a bad archive): `discard()` then lets the
   * writer finish into the void, so it is never left waiting. `fail()` ends the reading with an error.
   */
  private byteChannel(): { sink: Writable; chunks(): AsyncGenerator<Buffer>; discard(): void; fail(error: Error): void } {
    const queue: Buffer[] = [];
    let writerDone: (() => void) | undefined;
    let wakeReader: (() => void) | undefined;
    let ended = false;
    let discarding = false;
    let failure: Error | undefined;
    const wake = (): void => {
      const w = wakeReader;
      wakeReader = undefined;
      w?.();
    };
    const releaseWriter = (): void => {
      const done = writerDone;
      writerDone = undefined;
      done?.();
    };
    const sink = new Writable({
      highWaterMark: 1 << 20,
      write(chunk: Buffer, _encoding, done) {
        if (discarding) return done();
        queue.push(chunk);
        writerDone = done; // released when the reader takes it
        wake();
      },
      final(done) {
        ended = true;
        wake();
        done();
      },
    });
    return {
      sink,
      async *chunks() {
        for (;;) {
          const chunk = queue.shift();
          if (chunk !== undefined) {
            releaseWriter();
            yield chunk;
            continue;
          }
          if (failure) throw failure;
          if (ended) return;
          await new Promise<void>((resolve) => { wakeReader = resolve; });
        }
      },
      discard() {
        discarding = true;
        queue.length = 0;
        releaseWriter();
      },
      fail(error) {
        failure ??= error;
        wake();
      },
    };
  }

  /** Records a new image (ImageCreated), unless it exists; an image removed before may come back. */
  private async recordImage(
    id: string, origin: ImageCreated['data']['origin'], source: string, parent: string | null, layers: readonly LayerDescriptor[],
    doc: Pick<ImageConfigDocument, 'config' | 'history' | 'created' | 'architecture' | 'os'>,
  ): Promise<void> {
    if (this.store.state().images[id]) return;
    const stream = imageStream(id);
    try {
      await this.store.append(stream, [{
        type: 'ImageCreated',
        data: {
          id, origin, source, parent, layers, config: doc.config, history: doc.history, created: doc.created,
          architecture: doc.architecture, os: doc.os,
        },
      }], this.store.log.streamVersion(stream));
    } catch (err) {
      // Two loads (or commits) of the same image at once: the other one recorded it.
      if (err instanceof ConcurrencyError && this.store.state().images[id]) return;
      throw err;
    }
  }

  /** The container's filesystem as one tar (docker export), read from a read-only overlay mount. */
  async exportContainer(container: ContainerState, image: ImageState, storage: StorageDriver, out: NodeJS.WritableStream, progress?: ProgressReporter): Promise<void> {
    const exporter = this.exporter();
    const layers = image.layers.map((l) => l.diffId);
    // A container that never ran has no writable layer yet; preparing makes the folders only.
    if (!(await stat(storage.diffPath(container.id)).then((st) => st.isDirectory(), () => false))) await storage.prepare(container.id, layers);
    const view = await storage.mountReadOnly(container.id, layers);
    try {
      const { sink, failure } = this.forwardTo(out, (bytes) => progress?.({ phase: 'Exporting', current: bytes }));
      await exporter.exportTree(view.path, sink);
      const failed = failure();
      if (failed) throw failed;
      out.end();
      await finished(out);
    } finally {
      await view.release();
    }
  }

  /**
   * A writable that forwards to `out` with back-pressure, counting bytes. When `out` fails or
   * closes early, the rest is discarded rather than left waiting, so the writer always finishes
   * and the caller reports `failure()`.
   */
  private forwardTo(out: NodeJS.WritableStream, onBytes: (bytes: number) => void): { sink: Writable; failure(): Error | undefined } {
    let failed: Error | undefined;
    let waiting: (() => void) | undefined;
    const release = (): void => {
      const done = waiting;
      waiting = undefined;
      done?.();
    };
    out.on('error', (error: Error) => {
      failed ??= error;
      release();
    });
    out.on('close', () => {
      failed ??= new Error('the output closed before the archive was complete');
      release();
    });
    let bytes = 0;
    const sink = new Writable({
      highWaterMark: 1 << 20,
      write(chunk: Buffer, _encoding, done) {
        if (failed) return done();
        bytes += chunk.length;
        onBytes(bytes);
        if (out.write(chunk)) return done();
        waiting = done;
        out.once('drain', release);
      },
    });
    return { sink, failure: () => failed };
  }

  /**
   * Writes the images as one tar that is both a docker-archive (manifest.json, repositories) and
   * an OCI image layout (oci-layout, index.json, manifests): what docker 25+ `docker save` writes.
   * Documents come first, then the config, manifest and layer blobs (each layer once).
   */
  async save(refs: readonly string[], out: NodeJS.WritableStream, progress?: ProgressReporter): Promise<void> {
    if (refs.length === 0) throw new InvalidArgumentError('nothing to save: name at least one image');
    const selected = this.selectForSave(refs);
    const images: ArchiveImage[] = [];
    const configs = new Map<string, Buffer>();
    for (const { image, tags } of selected) {
      const config = await this.content.readBlob(image.id);
      if (sha256Digest(config) !== image.id) throw new ConflictError(`the config of image ${image.id.slice(7, 19)} in the image store is damaged (its digest changed)`);
      configs.set(image.id, config);
      const layers: { diffId: string; size: number }[] = [];
      for (const layer of image.layers) {
        const st = await stat(this.content.blobPath(layer.diffId)).catch(() => undefined);
        if (!st?.isFile()) throw new ConflictError(`layer ${layer.diffId} of image ${image.id.slice(7, 19)} is missing from the image store`);
        layers.push({ diffId: layer.diffId, size: st.size });
      }
      images.push({
        configDigest: image.id, configSize: config.length, layers, repoTags: tags,
        architecture: image.architecture || ociArchitecture(), os: image.os || 'linux',
      });
    }
    const documents = buildArchiveDocuments(images);
    const layerSizes = new Map(images.flatMap((i) => i.layers.map((l) => [l.diffId, l.size] as const)));
    const total = [...documents.files.map((f) => f.data.length), ...[...configs.values()].map((c) => c.length),
      ...documents.manifests.map((m) => m.data.length), ...layerSizes.values()].reduce((n, size) => n + 512 + size + 511 - ((size + 511) % 512), 1024 + 1024);
    const { sink, failure } = this.forwardTo(out, (bytes) => progress?.({ phase: 'Saving', current: bytes, total }));
    const writer = new TarWriter(sink);
    const file = (path: string, size: number) => ({ path, type: 'file' as const, size, mode: 0o644, mtime: 0 });
    for (const { path, data } of documents.files) await writer.add(file(path, data.length), data);
    await writer.add({ path: 'blobs', type: 'directory', mode: 0o755, mtime: 0 });
    await writer.add({ path: 'blobs/sha256', type: 'directory', mode: 0o755, mtime: 0 });
    const written = new Set<string>();
    const blobs: { digest: string; size: number; data?: Buffer }[] = [
      ...[...configs].map(([digest, data]) => ({ digest, size: data.length, data })),
      ...documents.manifests.map(({ digest, data }) => ({ digest, size: data.length, data })),
      ...[...layerSizes].map(([digest, size]) => ({ digest, size })),
    ];
    for (const blob of blobs) {
      if (written.has(blob.digest)) continue;
      written.add(blob.digest);
      await writer.add(file(blobPathOf(blob.digest), blob.size), blob.data ?? createReadStream(this.content.blobPath(blob.digest)));
    }
    await writer.finish();
    sink.end();
    await finished(sink);
    const failed = failure();
    if (failed) throw failed;
    out.end();
    await finished(out);
  }

  /**
   * The images `refs` name, each with the tags to write for it: `x:v1` → that tag; `x` (a name
   * alone) → every tag of repository x, as docker does; an id → the image without tags.
   */
  private selectForSave(refs: readonly string[]): { image: ImageState; tags: string[] }[] {
    const state = this.store.state();
    const selected = new Map<string, { image: ImageState; tags: string[] }>();
    const add = (image: ImageState, tag?: string): void => {
      const entry = selected.get(image.id) ?? { image, tags: [] };
      if (tag !== undefined && !entry.tags.includes(tag)) entry.tags.push(tag);
      selected.set(image.id, entry);
    };
    for (const ref of refs) {
      let named: ReturnType<typeof parseReference> | undefined;
      try {
        named = parseReference(ref);
      } catch { /* an id */ }
      const tail = ref.slice(ref.lastIndexOf('/') + 1);
      if (named && !tail.includes(':') && !tail.includes('@')) {
        const repo = named.repo;
        const all = Object.values(state.images).flatMap((image) => image.tags.filter((t) => parseReference(t).repo === repo).map((t) => [image, t] as const));
        for (const [image, tag] of all) add(image, tag);
        if (all.length > 0) continue;
      }
      const image = findImage(state, ref);
      add(image, named?.tag !== undefined && image.tags.includes(named.ref) ? named.ref : undefined);
    }
    return [...selected.values()];
  }

  /**
   * Loads the images of a docker-archive or OCI-layout tar (plain or gzip-compressed; layers plain
   * or gzip-compressed). Each layer's uncompressed digest must be the config's diff id. Returns
   * the loaded "name:tag"s, or the ids of images the archive does not name.
   */
  async load(source: NodeJS.ReadableStream, progress?: ProgressReporter): Promise<readonly string[]> {
    const storage = this.storage();
    await mkdir(join(this.content.root, 'tmp'), { recursive: true });
    const dir = await mkdtemp(join(this.content.root, 'tmp', 'load-'));
    try {
      const archive = await SpooledArchive.spool(source, dir, (bytes) => progress?.({ phase: 'Loading', current: bytes }));
      const plan = await planLoad(archive, ociArchitecture());
      if (plan.length === 0) throw new ImageArchiveError('the archive lists no image');
      const loaded: string[] = [];
      for (const item of plan) {
        for (const name of await this.loadImage(item, archive, storage, progress)) if (!loaded.includes(name)) loaded.push(name);
      }
      return loaded;
    } catch (err) {
      if (err instanceof ImageArchiveError || err instanceof TarFormatError) throw new InvalidArgumentError(`invalid image archive: ${err.message}`);
      if (err instanceof Error && !(err instanceof ConflictError) && /not a valid tar archive|compressed with|gzip data is corrupt/.test(err.message)) {
        throw new InvalidArgumentError(`invalid image archive: ${err.message}`);
      }
      throw err;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async loadImage(item: LoadPlanItem, archive: SpooledArchive, storage: StorageDriver, progress?: ProgressReporter): Promise<string[]> {
    const configFile = archive.get(item.config.path);
    if (item.config.digest !== undefined && configFile.digest !== item.config.digest) {
      throw new ImageArchiveError(`${item.config.path}: its digest is ${configFile.digest}, the manifest says ${item.config.digest}`);
    }
    const configBytes = await archive.read(item.config.path);
    const id = sha256Digest(configBytes);
    const parsed = parseImageConfig(configBytes, item.config.path);
    if (parsed.diffIds.length !== item.layers.length) {
      throw new ImageArchiveError(`${item.config.path}: the config lists ${parsed.diffIds.length} layers, the manifest ${item.layers.length}`);
    }
    const layers: LayerDescriptor[] = [];
    for (const [i, layer] of item.layers.entries()) {
      const expected = parsed.diffIds[i]!;
      const file = archive.get(layer.path);
      if (layer.digest !== undefined && file.digest !== layer.digest) {
        throw new ImageArchiveError(`${layer.path}: its digest is ${file.digest}, the manifest says ${layer.digest}`);
      }
      let blob: LayerBlob;
      if (file.digest === expected && (await this.content.hasBlob(expected))) {
        blob = { diffId: expected, size: file.size, path: this.content.blobPath(expected) };
      } else {
        blob = await this.content.importLayerTar(file.file, { onProgress: (bytes) => progress?.({ phase: `Loading layer ${i + 1}/${item.layers.length}`, current: bytes }) });
        if (blob.diffId !== expected) throw new ImageArchiveError(`layer ${i + 1} (${layer.path}) is ${blob.diffId} uncompressed, but the config says ${expected}`);
      }
      await storage.applyLayer(blob.diffId, createReadStream(blob.path));
      layers.push({ diffId: blob.diffId, size: blob.size });
    }
    await this.content.writeBlob(configBytes);
    await this.recordImage(id, 'load', item.format, null, layers, parsed);
    for (const tag of item.repoTags) await this.tagId(id, tag);
    return item.repoTags.length > 0 ? [...item.repoTags] : [id];
  }
}
