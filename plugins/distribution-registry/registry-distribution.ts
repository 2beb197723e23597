import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import {
  DistributionError, DriverKinds, injectable,
  type DistributionDriver, type DriverContext, type DriverStatus, type LayerSink, type LayerSource, type PullRequest,
  type PulledImage, type PushRequest, type PushedImage, type RegistryCredentials, type RemoteDescriptor, type RemoteName, type RemoteReference,
  type TransportOptions,
} from '../../core/plugin-api.js';
import { RegistryAuth, unauthorized } from './registry-auth.js';
import { MANIFEST_ACCEPT, MediaTypes, checkLayerType, diffIdsOf, parseManifest, selectPlatform, type Descriptor, type Manifest } from './manifests.js';
import { RegistryTransport, readBody, type HttpRequest, type HttpResponse } from './registry-transport.js';

/** Layers fetched or sent at once, as Docker (max-concurrent-downloads / uploads). */
export const CONCURRENT_LAYERS = 3;
/** A layer's `Downloading` progress at most this often (and at its end), as moby's progress reader (a rate limiter of 100 ms). */
const PROGRESS_EVERY_MS = 100;
const MANIFEST_LIMIT = 4 << 20;
/** A push compresses in pieces of this size (zlib's default is 16 KiB; under glibc's 128 KiB mmap threshold, which keeps the RSS down). */
const PUSH_CHUNK = 64 << 10;
const CONFIG_LIMIT = 8 << 20;

const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const shortId = (digest: string): string => digest.slice(7, 19);

/** Runs `work` over `items`, `limit` at a time; the first failure aborts the rest (they settle before it is thrown). */
async function inPool<T>(items: readonly T[], limit: number, work: (item: T, signal: AbortSignal) => Promise<void>, outer?: AbortSignal): Promise<void> {
  const controller = new AbortController();
  const onOuter = (): void => controller.abort();
  outer?.addEventListener('abort', onOuter, { once: true });
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (next < items.length && failure === undefined && !controller.signal.aborted) {
      const item = items[next++]!;
      try {
        await work(item, controller.signal);
      } catch (error) {
        failure ??= error;
        controller.abort();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  } finally {
    outer?.removeEventListener('abort', onOuter);
  }
  // A cancellation first: the transfers it cut fail with their own errors (a truncated body), which are not the cause.
  if (outer?.aborted) throw new DistributionError('the pull was cancelled', 499);
  if (failure !== undefined) throw failure;
}

/** One repository of one registry, with its authorization. */
class Repository {
  readonly auth: RegistryAuth;
  readonly name: string;

  constructor(
    readonly transport: RegistryTransport,
    readonly registry: string,
    readonly path: string,
    readonly credentials: RegistryCredentials | undefined,
    scopes: readonly string[],
  ) {
    this.auth = new RegistryAuth(transport, registry, scopes, credentials);
    this.name = `${registry}/${path}`;
  }

  url(suffix: string): URL {
    return new URL(`/v2/${this.path}/${suffix}`, this.transport.baseUrl(this.registry));
  }

  /** A request with authorization; a 401 once re-authenticates (an expired token), then is Docker's "unauthorized". */
  async send(target: URL, init: HttpRequest = {}, retry = true): Promise<HttpResponse> {
    const response = await this.transport.request(target, { ...init, headers: await this.auth.headers(init.headers ?? {}) });
    if (response.status !== 401) return response;
    response.body.resume();
    const hadCredentials = !!this.credentials && (!!this.credentials.username || !!this.credentials.identityToken || !!this.credentials.registryToken);
    if (retry && (init.body === undefined || Buffer.isBuffer(init.body))) {
      this.auth.reset();
      return this.send(target, init, false);
    }
    throw unauthorized(this.registry, hadCredentials);
  }

  /** A registry error body (`{"errors":[{"code","message"}]}`) as one line. */
  async failure(response: HttpResponse, what: string): Promise<DistributionError> {
    const body = await readBody(response, 64 << 10, what).catch(() => Buffer.alloc(0));
    let detail = '';
    try {
      const errors = (JSON.parse(body.toString('utf8')) as { errors?: { code?: string; message?: string }[] }).errors ?? [];
      detail = errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
    } catch { /* not JSON */ }
    const status = response.status === 404 ? 404 : response.status === 403 ? 403 : 502;
    return new DistributionError(`${what}: ${this.registry} answered ${response.status}${detail ? ` (${detail})` : ''}`, status);
  }
}

/**
 * `distribution.v1.registry`: the OCI Distribution API v2 client. Pull: manifest (an index
 * resolved to the platform), config, then the layers the store lacks, three at a time, each
 * streamed into the sink, which verifies it. Push: each layer gzip-compressed into a scratch file
 * (the store keeps them uncompressed), skipped when the registry has it (HEAD), mounted from a
 * repository it came from when it can, else uploaded; then the config and the manifest.
 */
@injectable()
export class RegistryDistribution implements DistributionDriver {
  readonly id = `${DriverKinds.distribution}.registry`;
  private transport = new RegistryTransport({ insecureRegistries: [], certsDir: '/etc/docker/certs.d', timeoutMs: 30_000 });

  init(_context: DriverContext): Promise<DriverStatus> {
    return Promise.resolve({ status: 'ok' });
  }

  configure(options: TransportOptions): void {
    this.transport.close();
    this.transport = new RegistryTransport(options);
  }

  close(): Promise<void> {
    this.transport.close();
    return Promise.resolve();
  }

  async login(registry: string, credentials: RegistryCredentials): Promise<{ identityToken?: string }> {
    const auth = new RegistryAuth(this.transport, registry, [], credentials);
    const headers = await auth.headers();
    const response = await this.transport.request(new URL('/v2/', this.transport.baseUrl(registry)), { headers });
    response.body.resume();
    if (response.status === 401 || response.status === 403) throw unauthorized(registry, true);
    if (response.status >= 300) throw new DistributionError(`login to ${registry}: GET /v2/ answered ${response.status}`, 502);
    return {};
  }

  async tags(name: RemoteName, credentials?: RegistryCredentials): Promise<readonly string[]> {
    const repo = new Repository(this.transport, name.registry, name.repository, credentials, [`repository:${name.repository}:pull`]);
    const tags: string[] = [];
    let next: URL | undefined = repo.url('tags/list?n=1000');
    // The registry pages with a Link header (`</v2/x/tags/list?n=1000&last=t>; rel="next"`).
    for (let page = 0; next && page < 1000; page++) {
      const response = await repo.send(next);
      if (response.status === 404) {
        response.body.resume();
        throw new DistributionError(`repository ${repo.name} not found: name unknown`, 404);
      }
      if (response.status !== 200) throw await repo.failure(response, `listing the tags of ${repo.name}`);
      const body = await readBody(response, 16 << 20, `the tag list of ${repo.name}`);
      let listed: unknown;
      try {
        listed = (JSON.parse(body.toString('utf8')) as { tags?: unknown }).tags;
      } catch {
        throw new DistributionError(`the tag list ${repo.registry} sent for ${repo.name} is not JSON`, 502);
      }
      if (listed !== null && listed !== undefined && !(Array.isArray(listed) && listed.every((t) => typeof t === 'string'))) {
        throw new DistributionError(`the tag list ${repo.registry} sent for ${repo.name} is not a list of names`, 502);
      }
      tags.push(...((listed ?? []) as string[]));
      const link = response.headers.link;
      const target = typeof link === 'string' ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link)?.[1] : undefined;
      next = target ? new URL(target, next) : undefined;
    }
    return [...new Set(tags)].sort();
  }

  async resolve(reference: RemoteReference, credentials?: RegistryCredentials): Promise<RemoteDescriptor> {
    const repo = new Repository(this.transport, reference.registry, reference.repository, credentials, [`repository:${reference.repository}:pull`]);
    const { bytes, manifest, digest } = await this.fetchManifest(repo, reference.digest ?? reference.tag ?? 'latest', reference.digest);
    return {
      mediaType: manifest.mediaType, digest, size: bytes.length,
      platforms: manifest.kind === 'index' ? manifest.manifests.flatMap((m) => (m.platform ? [m.platform] : [])) : [],
    };
  }

  private async fetchManifest(repo: Repository, reference: string, expectedDigest?: string): Promise<{ bytes: Buffer; manifest: Manifest; digest: string }> {
    const name = `${repo.name}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;
    const response = await repo.send(repo.url(`manifests/${reference}`), { headers: { Accept: MANIFEST_ACCEPT }, followRedirects: true });
    if (response.status === 404) {
      response.body.resume();
      throw new DistributionError(`manifest for ${name} not found: manifest unknown`, 404);
    }
    if (response.status !== 200) throw await repo.failure(response, `fetching the manifest of ${name}`);
    const bytes = await readBody(response, MANIFEST_LIMIT, `the manifest of ${name}`);
    const digest = sha256(bytes);
    if (expectedDigest && digest !== expectedDigest) {
      throw new DistributionError(`the manifest ${repo.registry} sent for ${name} has the digest ${digest}: refused`, 502);
    }
    const contentType = response.headers['content-type'];
    return { bytes, manifest: parseManifest(bytes, typeof contentType === 'string' ? contentType : undefined, name), digest };
  }

  async pull(request: PullRequest, sink: LayerSink): Promise<PulledImage> {
    const { reference, platform } = request;
    const repo = new Repository(this.transport, reference.registry, reference.repository, request.credentials, [`repository:${reference.repository}:pull`]);
    const ref = reference.digest ?? reference.tag ?? 'latest';
    const name = `${repo.name}${reference.digest ? '@' : ':'}${ref}`;
    const top = await this.fetchManifest(repo, ref, reference.digest);
    let image = top;
    if (top.manifest.kind === 'index') {
      const chosen = selectPlatform(top.manifest.manifests, platform, name);
      image = await this.fetchManifest(repo, chosen.digest, chosen.digest);
      if (image.manifest.kind !== 'image') throw new DistributionError(`${name}: the index for ${platform.os}/${platform.architecture} points at another index`, 502);
    }
    const manifest = image.manifest as Extract<Manifest, { kind: 'image' }>;
    manifest.layers.forEach((layer, i) => checkLayerType(layer, i, name));

    const config = await this.fetchBlobBytes(repo, manifest.config, `the image config of ${name}`, request.signal);
    const diffIds = diffIdsOf(config, name);
    if (diffIds.length !== manifest.layers.length) {
      throw new DistributionError(`${name}: the manifest lists ${manifest.layers.length} layers, its config ${diffIds.length}`, 502);
    }

    const progress = request.onProgress;
    const layers = manifest.layers.map((l, i) => ({ descriptor: l, diffId: diffIds[i]!, reused: false }));
    const wanted: typeof layers = [];
    const seen = new Set<string>();
    for (const layer of layers) {
      if (await sink.hasLayer(layer.diffId)) {
        layer.reused = true;
        progress?.({ id: shortId(layer.descriptor.digest), status: 'Already exists' });
      } else if (!seen.has(layer.diffId)) {
        seen.add(layer.diffId);
        wanted.push(layer);
        progress?.({ id: shortId(layer.descriptor.digest), status: 'Pulling fs layer' });
      }
    }
    for (const layer of wanted.slice(CONCURRENT_LAYERS)) progress?.({ id: shortId(layer.descriptor.digest), status: 'Waiting' });
    await inPool(wanted, CONCURRENT_LAYERS, async (layer, signal) => {
      const d = layer.descriptor;
      const id = shortId(d.digest);
      const response = await repo.send(repo.url(`blobs/${d.digest}`), { followRedirects: true, signal });
      if (response.status !== 200) throw await repo.failure(response, `fetching layer ${id} of ${name}`);
      let last = -PROGRESS_EVERY_MS;
      await sink.storeLayer(response.body as AsyncIterable<Buffer>, { digest: d.digest, size: d.size, diffId: layer.diffId }, (bytes) => {
        if (progress === undefined) return;
        const now = performance.now();
        if (now - last >= PROGRESS_EVERY_MS || bytes === d.size) {
          last = now;
          progress({ id, status: 'Downloading', current: bytes, total: d.size });
        }
      }).catch((error: unknown) => {
        response.body.destroy();
        throw error;
      });
      progress?.({ id, status: 'Verifying Checksum' });
      progress?.({ id, status: 'Download complete' });
    }, request.signal);

    return {
      manifestDigest: image.digest, repoDigest: top.digest, config, configDigest: manifest.config.digest,
      layers: layers.map((l) => ({ digest: l.descriptor.digest, diffId: l.diffId, size: l.descriptor.size, reused: l.reused })),
    };
  }

  /** A small blob (a config) whole, its digest and size checked. */
  private async fetchBlobBytes(repo: Repository, d: Descriptor, what: string, signal?: AbortSignal): Promise<Buffer> {
    if (d.size > CONFIG_LIMIT) throw new DistributionError(`${what} is ${d.size} bytes: larger than ${CONFIG_LIMIT}, refused`, 502);
    const response = await repo.send(repo.url(`blobs/${d.digest}`), { followRedirects: true, ...(signal ? { signal } : {}) });
    if (response.status !== 200) throw await repo.failure(response, `fetching ${what}`);
    const bytes = await readBody(response, d.size, what);
    if (bytes.length !== d.size) throw new DistributionError(`${what}: ${bytes.length} bytes arrived, the manifest says ${d.size} (truncated)`, 502);
    if (sha256(bytes) !== d.digest) throw new DistributionError(`${what} has the digest ${sha256(bytes)}, the manifest says ${d.digest}: refused`, 502);
    return bytes;
  }

  async push(request: PushRequest, source: LayerSource): Promise<PushedImage> {
    const { reference } = request;
    const mountFrom = request.mountFrom.filter((r) => r !== reference.repository);
    const scopes = [`repository:${reference.repository}:pull,push`, ...mountFrom.map((r) => `repository:${r}:pull`)];
    const repo = new Repository(this.transport, reference.registry, reference.repository, request.credentials, scopes);
    const name = `${repo.name}:${reference.tag}`;
    const progress = request.onProgress;
    await mkdir(source.scratchDir, { recursive: true });
    const layers: { digest: string; diffId: string; size: number }[] = new Array<{ digest: string; diffId: string; size: number }>(request.diffIds.length);
    const indexed = request.diffIds.map((diffId, i) => ({ diffId, i }));
    for (const { diffId } of indexed) progress?.({ id: shortId(diffId), status: 'Preparing' });
    await inPool(indexed, CONCURRENT_LAYERS, async ({ diffId, i }, signal) => {
      const scratch = join(source.scratchDir, `push-${process.pid}-${randomBytes(6).toString('hex')}`);
      try {
        // Compressed once: a copy the store kept (the bytes a pull fetched, an earlier push's) is sent as it is.
        const { path: file, digest, size } = (await source.compressedLayer?.(diffId)) ?? (await this.compress(source, diffId, scratch, signal));
        const id = shortId(digest);
        layers[i] = { digest, diffId, size };
        if (await this.blobExists(repo, digest, signal)) {
          progress?.({ id, status: 'Layer already exists' });
          return;
        }
        for (const from of mountFrom) {
          const mounted = await repo.send(repo.url(`blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`), { method: 'POST', signal, body: Buffer.alloc(0) });
          mounted.body.resume();
          if (mounted.status === 201) {
            progress?.({ id, status: `Mounted from ${from}` });
            return;
          }
          if (mounted.status === 202) {
            // The registry opened an upload instead: use it.
            await this.upload(repo, String(mounted.headers.location ?? ''), createReadStream(file, { highWaterMark: PUSH_CHUNK }) as AsyncIterable<Buffer>, size, digest, signal, (n) => progress?.({ id, status: 'Pushing', current: n, total: size }));
            progress?.({ id, status: 'Pushed' });
            return;
          }
        }
        await this.uploadBlob(repo, createReadStream(file, { highWaterMark: PUSH_CHUNK }) as AsyncIterable<Buffer>, size, digest, signal, (n) => progress?.({ id, status: 'Pushing', current: n, total: size }));
        progress?.({ id, status: 'Pushed' });
      } finally {
        await rm(scratch, { force: true });
      }
    }, request.signal);

    if (!(await this.blobExists(repo, request.configDigest, request.signal))) {
      await this.uploadBlob(repo, [request.config], request.config.length, request.configDigest, request.signal);
    }
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.dockerManifest,
      config: { mediaType: MediaTypes.dockerConfig, size: request.config.length, digest: request.configDigest },
      layers: layers.map((l) => ({ mediaType: MediaTypes.dockerLayerGzip, size: l.size, digest: l.digest })),
    }, null, 3));
    const put = await repo.send(repo.url(`manifests/${encodeURIComponent(reference.tag)}`), {
      method: 'PUT', headers: { 'Content-Type': MediaTypes.dockerManifest }, body: manifest, ...(request.signal ? { signal: request.signal } : {}),
    });
    if (put.status !== 201 && put.status !== 200) throw await repo.failure(put, `putting the manifest of ${name}`);
    put.body.resume();
    return { digest: sha256(manifest), size: manifest.length, layers };
  }

  /** gzip of a layer's tar into `file`, hashed as it is written; kept by the source for later pushes when it can. */
  private async compress(source: LayerSource, diffId: string, file: string, signal: AbortSignal): Promise<{ path: string; digest: string; size: number }> {
    const hash = createHash('sha256');
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    await pipeline(Readable.from(source.openLayer(diffId)), createGzip({ level: 6, chunkSize: PUSH_CHUNK }), count, createWriteStream(file, { highWaterMark: PUSH_CHUNK }), { signal });
    const digest = `sha256:${hash.digest('hex')}`;
    return (await source.keepCompressed?.(diffId, file, digest)) ?? { path: file, digest, size };
  }

  private async blobExists(repo: Repository, digest: string, signal?: AbortSignal): Promise<boolean> {
    const head = await repo.send(repo.url(`blobs/${digest}`), { method: 'HEAD', followRedirects: true, ...(signal ? { signal } : {}) });
    head.body.resume();
    return head.status === 200;
  }

  private async uploadBlob(repo: Repository, body: AsyncIterable<Buffer> | Buffer[], size: number, digest: string, signal?: AbortSignal, onBytes?: (n: number) => void): Promise<void> {
    const start = await repo.send(repo.url('blobs/uploads/'), { method: 'POST', body: Buffer.alloc(0), ...(signal ? { signal } : {}) });
    if (start.status !== 202) throw await repo.failure(start, `starting the upload of ${shortId(digest)} to ${repo.name}`);
    start.body.resume();
    await this.upload(repo, String(start.headers.location ?? ''), body, size, digest, signal, onBytes);
  }

  /** A monolithic PUT of the blob to the upload `location` the registry gave. */
  private async upload(repo: Repository, location: string, body: AsyncIterable<Buffer> | Buffer[], size: number, digest: string, signal?: AbortSignal, onBytes?: (n: number) => void): Promise<void> {
    if (location === '') throw new DistributionError(`${repo.registry} opened an upload without saying where (no Location)`, 502);
    const target = new URL(location, repo.transport.baseUrl(repo.registry));
    target.searchParams.set('digest', digest);
    let sent = 0;
    async function* counted(): AsyncGenerator<Buffer> {
      for await (const chunk of body) {
        sent += chunk.length;
        onBytes?.(sent);
        yield chunk;
      }
    }
    const response = await repo.send(target, {
      method: 'PUT', headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) }, body: counted(), ...(signal ? { signal } : {}),
    });
    if (response.status !== 201) throw await repo.failure(response, `uploading ${shortId(digest)} to ${repo.name}`);
    response.body.resume();
  }
}

