import type { Driver } from './driver.js';

// ---------------------------------------------------------------------------------------------
// distribution.v1: images from and to somewhere else (a registry, a mirror, an OCI layout folder).
// ---------------------------------------------------------------------------------------------

/** A repository in a registry: `{registry: "docker.io", repository: "library/busybox"}`. */
export interface RemoteName {
  /** "docker.io", "localhost:5000", "127.0.0.1:5443". */
  readonly registry: string;
  /** The path in the registry: "library/busybox", "team/app". */
  readonly repository: string;
}

/** What to fetch: a tag or a digest ("sha256:…") of a repository. */
export interface RemoteReference extends RemoteName {
  readonly tag?: string;
  readonly digest?: string;
}

/** The platform an index (manifest list) is resolved to: the host's unless `--platform` says. */
export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/** Credentials for one registry, as the docker CLI sends them (X-Registry-Auth, config.json). */
export interface RegistryCredentials {
  readonly username?: string;
  readonly password?: string;
  /** A refresh token the registry's token server gave at login (OAuth2). */
  readonly identityToken?: string;
  /** A bearer token to send as is. */
  readonly registryToken?: string;
}

/** How to reach registries: set by the daemon's flags (--insecure-registry, --registry-certs-dir). */
export interface TransportOptions {
  /** Hosts ("host:port" or "host") spoken to in plain HTTP; 127.0.0.0/8 and ::1 always are. */
  readonly insecureRegistries: readonly string[];
  /** Folder of `<host:port>/ca.crt` (and `*.crt`) files trusted for that registry, as Docker's certs.d. */
  readonly certsDir: string;
  /** Longest wait for a connection or for bytes on one, in milliseconds. */
  readonly timeoutMs: number;
}

/** One line of progress about one layer (or the image: id undefined), in Docker's words. */
export interface DistributionProgress {
  /** The layer's short id (12 hex digits of its digest), or undefined for the image. */
  readonly id?: string;
  /** "Pulling fs layer", "Waiting", "Downloading", "Verifying Checksum", "Download complete", "Already exists", "Pushing", "Pushed", "Layer already exists", "Mounted from …". */
  readonly status: string;
  readonly current?: number;
  readonly total?: number;
}

/** What a layer must be to enter the store. */
export interface LayerExpectation {
  /** Digest of the bytes as fetched (compressed): the manifest's descriptor. */
  readonly digest: string;
  /** Their size, from the same descriptor. */
  readonly size: number;
  /** sha256 of the uncompressed tar: the config's `rootfs.diff_ids[i]`. */
  readonly diffId: string;
}

/**
 * Where a distribution driver puts what it fetches: the engine's content store. The bytes may be
 * gzip-compressed or a plain tar (told by their first bytes, as Docker does). It verifies: a
 * layer enters the store (under its diff id) only when the bytes fetched have the digest and size
 * of the descriptor and the uncompressed tar has the diff id, and no entry escapes the root; until
 * then it is a temporary file, removed on any failure. So a pull cut at any point leaves only
 * whole, verified layers, which the next pull skips (`hasLayer`).
 */
export interface LayerSink {
  hasLayer(diffId: string): Promise<boolean>;
  /** Streams one layer in; rejects with a one-line message naming the layer when it is not what was expected. */
  storeLayer(bytes: AsyncIterable<Buffer>, expected: LayerExpectation, onBytes?: (fetched: number) => void): Promise<void>;
}

/** A gzip-compressed copy of a layer: a file, its sha256 (the blob digest a registry knows it by) and size. */
export interface CompressedLayer {
  readonly path: string;
  readonly digest: string;
  readonly size: number;
}

/** Where a push reads an image from: the engine's content store (layers uncompressed, and compressed copies). */
export interface LayerSource {
  /** The uncompressed tar of a layer by its diff id. */
  openLayer(diffId: string): AsyncIterable<Buffer>;
  /** Where to keep compressed copies while pushing (a folder of the store's own). */
  readonly scratchDir: string;
  /**
   * A gzip-compressed copy of the layer the store kept (the bytes a pull fetched, or an earlier
   * push compressed), to send as it is instead of compressing the tar again; undefined when none.
   */
  compressedLayer?(diffId: string): Promise<CompressedLayer | undefined>;
  /** Keeps a copy the push compressed (a file in `scratchDir`, moved into the store) for later pushes; where it now is. */
  keepCompressed?(diffId: string, file: string, digest: string): Promise<CompressedLayer>;
}

export interface PullRequest {
  readonly reference: RemoteReference;
  readonly platform: Platform;
  readonly credentials?: RegistryCredentials;
  readonly onProgress?: (progress: DistributionProgress) => void;
  /** Aborts the pull (the client went away); what was stored whole stays. */
  readonly signal?: AbortSignal;
}

export interface PulledImage {
  /** The digest of the image manifest the platform resolved to (not the index). */
  readonly manifestDigest: string;
  /** The digest the reference named: the index's when it named an index, else the manifest's: what `RepoDigests` shows. */
  readonly repoDigest: string;
  /** The image config, verified against the manifest; its digest is the image id. */
  readonly config: Buffer;
  readonly configDigest: string;
  /** Bottom layer first. */
  readonly layers: readonly { readonly digest: string; readonly diffId: string; readonly size: number; readonly reused: boolean }[];
}

export interface PushRequest {
  readonly reference: RemoteName & { readonly tag: string };
  readonly config: Buffer;
  readonly configDigest: string;
  /** Diff ids of the layers, bottom first. */
  readonly diffIds: readonly string[];
  /** Repositories of the same registry the image was pulled from: blobs may be mounted from them. */
  readonly mountFrom: readonly string[];
  readonly credentials?: RegistryCredentials;
  readonly onProgress?: (progress: DistributionProgress) => void;
  readonly signal?: AbortSignal;
}

export interface PushedImage {
  readonly digest: string;
  readonly size: number;
  readonly layers: readonly { readonly digest: string; readonly diffId: string; readonly size: number }[];
}

/** What the registry serves for a reference without fetching the image (GET /distribution/{name}/json). */
export interface RemoteDescriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platforms: readonly Platform[];
}

/**
 * Pulls and pushes images, e.g. with the OCI Distribution API. The engine turns a pull into image
 * events; the driver only talks to the remote side and streams blobs into the `LayerSink`.
 *
 * Example: `pull({reference: {registry: "127.0.0.1:5000", repository: "tools/busybox", tag: "1"},
 * platform: {os: "linux", architecture: "amd64"}}, sink)` fetches the manifest (resolving an
 * index to linux/amd64), the config, then the layers the sink lacks, three at a time, and returns
 * `{manifestDigest, config, layers}`.
 */
export interface DistributionDriver extends Driver {
  pull(request: PullRequest, sink: LayerSink): Promise<PulledImage>;
  push(request: PushRequest, source: LayerSource): Promise<PushedImage>;
  /** Checks credentials against the registry (`docker login`); throws a one-line message when refused. */
  login(registry: string, credentials: RegistryCredentials): Promise<{ readonly identityToken?: string }>;
  /** The tags of a repository (`GET /v2/<name>/tags/list`, every page), for `pull --all-tags`. */
  tags(name: RemoteName, credentials?: RegistryCredentials): Promise<readonly string[]>;
  /** What a reference resolves to, without pulling. */
  resolve(reference: RemoteReference, credentials?: RegistryCredentials): Promise<RemoteDescriptor>;
  /** Sets how registries are reached (the daemon calls it once, after init). */
  configure(options: TransportOptions): void;
}

/** A pull or push the remote side refused or broke; `status` is the HTTP status the API answers with. */
export class DistributionError extends Error {
  constructor(message: string, readonly status: number = 500) {
    super(message);
    this.name = 'DistributionError';
  }
}
