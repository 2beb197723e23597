import type { EngineEvent } from '../../events/index.js';
import { imageStream } from '../../events/index.js';
import { ConcurrencyError } from '../eventlog/event-log.js';
import { ContentStore } from '../images/content-store.js';
import { ImageArchiveError, parseImageConfig } from '../images/image-archive.js';
import { sha256Digest } from '../images/image-config.js';
import { InvalidReferenceError, type ImageReference } from '../images/image-reference.js';
import { ContentStoreLayerSink, ContentStoreLayerSource, LayerVerificationError } from '../images/layer-ingest.js';
import type { LayerStore } from '../images/layer-store.js';
import { PullLease } from '../images/pull-lease.js';
import { hostPlatform, parsePlatform, parseRemote, remoteOf } from '../images/remote-name.js';
import type { StorageDriver } from '../plugins/driver.js';
import {
  DistributionError, type DistributionDriver, type DistributionProgress, type LayerSink, type RegistryCredentials, type RemoteDescriptor, type TransportOptions,
} from '../plugins/distribution.js';
import { DriverKinds } from '../plugins/kinds.js';
import type { Logger } from '../plugins/logger.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import type { ImageState } from '../state/engine-state.js';
import { findImage, tryFindImage } from '../state/lookup.js';
import { ConflictError, EngineError, InvalidArgumentError, NotFoundError } from './errors.js';
import type { EventStore } from './event-store.js';


/** Where registries are reached from: the daemon's flags, with Docker's defaults. */
export const DEFAULT_TRANSPORT: TransportOptions = { insecureRegistries: [], certsDir: '/etc/docker/certs.d', timeoutMs: 30_000 };

export interface TransferOptions {
  readonly credentials?: RegistryCredentials;
  readonly onProgress?: (progress: DistributionProgress) => void;
  readonly signal?: AbortSignal;
}

export interface PullOptions extends TransferOptions {
  /** "linux/arm64"; the host's platform when absent. */
  readonly platform?: string;
}

export interface PullOutcome {
  readonly id: string;
  /** The familiar reference pulled: "busybox:latest", "127.0.0.1:5000/x@sha256:…". */
  readonly ref: string;
  readonly digest: string;
  /** Docker's last line: "Downloaded newer image for busybox:latest" or "Image is up to date for busybox:latest". */
  readonly status: string;
}

export interface PushOutcome {
  readonly tag: string;
  readonly digest: string;
  readonly size: number;
}

/** An EngineError of a distribution failure, keeping its HTTP status. */
class RegistryError extends EngineError {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = 'RegistryError';
  }
}

function asEngineError(error: unknown): unknown {
  if (error instanceof DistributionError) return new RegistryError(error.message, error.status === 499 ? 500 : error.status);
  if (error instanceof LayerVerificationError || error instanceof ImageArchiveError) return new RegistryError(error.message, 502);
  if (error instanceof InvalidReferenceError) return new InvalidArgumentError(error.message);
  return error;
}

function parseRef(text: string): ReturnType<typeof parseRemote> {
  try {
    return parseRemote(text);
  } catch (error) {
    throw asEngineError(error);
  }
}

/**
 * Pulls and pushes through the distribution driver and records them: a pull's layers are verified
 * into the content store by the driver's sink, unpacked by the storage driver, and only then is
 * the image recorded (ImageCreated, ImageTagged, ImagePulled in one append), so a pull cut short
 * leaves whole layers for the next one and never half an image.
 */
export class RegistryService {
  private readonly content: ContentStore;
  private readonly pending = new Map<string, Promise<PullOutcome>>();

  constructor(
    private readonly store: EventStore,
    private readonly registry: PluginRegistry,
    dataRoot: string,
    private readonly transport: TransportOptions,
    private readonly logger: Logger,
    /** The image service's layer store: a pull or push holds a lease on it, so no garbage collection runs under it. */
    private readonly layers?: LayerStore,
  ) {
    this.content = layers?.content ?? new ContentStore(dataRoot);
  }

  /** Configures the driver with the daemon's transport options (temp files a crash left are the startup garbage collection's). */
  start(): void {
    this.registry.get(DriverKinds.distribution)?.configure(this.transport);
  }

  private driver(): DistributionDriver {
    return this.registry.require(DriverKinds.distribution);
  }

  private storage(): StorageDriver {
    return this.registry.require(DriverKinds.storage);
  }

  /** Pulls a reference; two pulls of the same reference at once share one. */
  pull(text: string, options: PullOptions = {}): Promise<PullOutcome> {
    const { ref } = parseRef(text);
    const key = `${ref.ref} ${options.platform ?? ''}`;
    const running = this.pending.get(key);
    if (running) return running;
    const pulling = this.doPull(ref, options).finally(() => this.pending.delete(key));
    this.pending.set(key, pulling);
    return pulling;
  }

  private async doPull(ref: ImageReference, options: PullOptions): Promise<PullOutcome> {
    let platform;
    try {
      platform = options.platform ? parsePlatform(options.platform) : hostPlatform();
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message);
    }
    const remote = remoteOf(ref);
    const progress = options.onProgress;
    const driver = this.driver();
    const storage = this.storage();
    // Layers fetched are unpacked by the sink from the download stream itself (one pass, no re-read).
    const store = new ContentStoreLayerSink(this.content, storage);
    // On disk: the layers stored so far outlive a crash (the next pull reuses them); in memory: no collection runs meanwhile.
    const kept = PullLease.open(this.content.root);
    const sink: LayerSink = {
      hasLayer: (diffId) => store.hasLayer(diffId),
      storeLayer: async (bytes, expected, onBytes) => {
        await kept.add(expected.diffId); // before the blob exists: a crash right after its rename still keeps it
        await store.storeLayer(bytes, expected, onBytes);
      },
    };
    const lease = await this.layers?.lease();
    try {
      const pulled = await driver.pull({
        reference: remote, platform, ...(options.credentials ? { credentials: options.credentials } : {}),
        ...(progress ? { onProgress: progress } : {}), ...(options.signal ? { signal: options.signal } : {}),
      }, sink);
      for (const layer of pulled.layers) {
        const id = layer.digest.slice(7, 19);
        if (!layer.reused) progress?.({ id, status: 'Extracting' });
        // Layers the store had before (or a crash left stored but not unpacked) are unpacked from the store.
        if (!(await storage.hasLayer(layer.diffId))) await storage.applyLayer(layer.diffId, this.content.openLayer(layer.diffId));
        if (!layer.reused) progress?.({ id, status: 'Pull complete' });
      }
      const parsed = parseImageConfig(pulled.config, `the image config of ${ref.ref}`);
      const id = await this.content.writeBlob(pulled.config);
      if (id !== pulled.configDigest) throw new RegistryError(`the image config of ${ref.ref} is ${id}, the manifest says ${pulled.configDigest}`, 502);
      const digest = pulled.repoDigest;
      // Sizes as `images` adds them up: of the uncompressed tars (a pulled layer's is recorded with its compressed copy).
      const layers = await Promise.all(pulled.layers.map(async (l) => ({ diffId: l.diffId, size: await this.content.layerSize(l.diffId) })));
      const before = tryFindImage(this.store.state(), ref.ref);
      await this.record(id, (image) => {
        const events: EngineEvent[] = [];
        if (!image) {
          events.push({
            type: 'ImageCreated',
            data: {
              id, origin: 'pull', source: `${ref.repo}@${digest}`, parent: null,
              layers,
              config: parsed.config, history: parsed.history, created: parsed.created, architecture: parsed.architecture, os: parsed.os,
            },
          });
        }
        if (ref.tag !== undefined && !(image?.tags.includes(ref.ref) ?? false)) events.push({ type: 'ImageTagged', data: { id, ref: ref.ref } });
        events.push({
          type: 'ImagePulled',
          data: { id, name: ref.repo, registry: remote.registry, repository: remote.repository, reference: ref.digest ?? ref.tag ?? 'latest', digest, layers: pulled.layers.map((l) => l.digest) },
        });
        return events;
      });
      await kept.release();
      const reused = pulled.layers.filter((l) => l.reused).length;
      this.logger.info(`pulled ${ref.ref} (${digest}): ${pulled.layers.length} layers, ${reused} already here`);
      const upToDate = before?.id === id;
      return { id, ref: ref.ref, digest, status: `${upToDate ? 'Image is up to date' : 'Downloaded newer image'} for ${ref.ref}` };
    } catch (error) {
      throw asEngineError(error);
    } finally {
      lease?.release();
    }
  }

  /** Appends the events `make` gives for the image's current state; retried once when another append won the race. */
  private async record(id: string, make: (image: ImageState | undefined) => EngineEvent[]): Promise<void> {
    const stream = imageStream(id);
    for (let attempt = 0; ; attempt++) {
      const image = this.store.state().images[id];
      try {
        await this.store.append(stream, make(image), image ? image.version : this.store.log.streamVersion(stream));
        return;
      } catch (error) {
        if (error instanceof ConcurrencyError && attempt === 0) continue;
        throw error;
      }
    }
  }

  /**
   * Pushes `name[:tag]` (every tag of the repository when no tag is given, as Docker does); the
   * image must be tagged with that name. Returns one outcome per tag pushed.
   */
  async push(name: string, tag: string | undefined, options: TransferOptions = {}): Promise<PushOutcome[]> {
    const { ref } = parseRef(tag ? `${name}:${tag}` : name);
    if (ref.digest) throw new InvalidArgumentError(`cannot push a digest reference (${ref.ref}): push a tag`);
    const state = this.store.state();
    const explicit = tag !== undefined || name.slice(name.lastIndexOf('/') + 1).includes(':');
    const tagged = explicit
      ? [ref.ref]
      : Object.values(state.images).flatMap((i) => i.tags).filter((t) => t.slice(0, t.lastIndexOf(':')) === ref.repo).sort();
    if (tagged.length === 0 || !tryFindImage(state, tagged[0]!)) {
      throw new NotFoundError(`An image does not exist locally with the tag: ${ref.repo}`);
    }
    const outcomes: PushOutcome[] = [];
    for (const full of tagged) outcomes.push(await this.pushOne(full, options));
    return outcomes;
  }

  private async pushOne(full: string, options: TransferOptions): Promise<PushOutcome> {
    const { ref, remote } = parseRef(full);
    const image = findImage(this.store.state(), full);
    const config = await this.content.readBlob(image.id);
    if (sha256Digest(config) !== image.id) throw new ConflictError(`the config of image ${image.id.slice(7, 19)} in the image store is damaged (its digest changed)`);
    // Blobs may be mounted from the repositories of the same registry the image came from.
    const mountFrom = (image.repoDigests ?? []).map((d) => remoteOf(parseRemote(d).ref)).filter((r) => r.registry === remote.registry).map((r) => r.repository);
    const tag = ref.tag ?? 'latest';
    const lease = await this.layers?.lease();
    try {
      const pushed = await this.driver().push({
        reference: { registry: remote.registry, repository: remote.repository, tag }, config, configDigest: image.id,
        diffIds: image.layers.map((l) => l.diffId), mountFrom,
        ...(options.credentials ? { credentials: options.credentials } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}), ...(options.signal ? { signal: options.signal } : {}),
      }, new ContentStoreLayerSource(this.content));
      await this.record(image.id, (current) => {
        if (!current) throw new NotFoundError(`No such image: ${full} (removed during the push)`);
        return [{
          type: 'ImagePushed',
          data: { id: image.id, name: ref.repo, registry: remote.registry, repository: remote.repository, tag, digest: pushed.digest, layers: pushed.layers.map((l) => l.digest) },
        }];
      });
      this.logger.info(`pushed ${ref.repo}:${tag} (${pushed.digest})`);
      return { tag, digest: pushed.digest, size: pushed.size };
    } catch (error) {
      throw asEngineError(error);
    } finally {
      lease?.release();
    }
  }

  /** Checks credentials with the registry (POST /auth). */
  async login(serverAddress: string, credentials: RegistryCredentials): Promise<void> {
    try {
      await this.driver().login(registryHost(serverAddress), credentials);
    } catch (error) {
      throw asEngineError(error);
    }
  }

  /** The tags of a repository in its registry, for `pull --all-tags` (a tag or digest in `name` is ignored). */
  async tags(name: string, credentials?: RegistryCredentials): Promise<readonly string[]> {
    const { remote } = parseRef(name);
    try {
      return await this.driver().tags(remote, credentials);
    } catch (error) {
      throw asEngineError(error);
    }
  }

  /** What a reference resolves to in its registry (GET /distribution/{name}/json). */
  async resolve(text: string, credentials?: RegistryCredentials): Promise<RemoteDescriptor> {
    const { remote } = parseRef(text);
    try {
      return await this.driver().resolve(remote, credentials);
    } catch (error) {
      throw asEngineError(error);
    }
  }
}

/**
 * The registry host of a login's server address as the docker CLI sends it:
 * "https://index.docker.io/v1/" → docker.io, "http://127.0.0.1:5000" → 127.0.0.1:5000.
 */
export function registryHost(serverAddress: string): string {
  const bare = serverAddress.trim().replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  if (bare === '' || bare === 'index.docker.io' || bare === 'registry-1.docker.io' || bare === 'docker.io') return 'docker.io';
  return bare;
}
