import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { HistoryEntry, ImageConfig } from '../../events/index.js';
import { readTar } from '../archive/index.js';
import { gunzipIfGzip } from './decompress.js';
import { DIGEST_PATTERN, digestHex, sha256Digest } from './image-config.js';
import { InvalidReferenceError, parseReference } from './image-reference.js';

// ---------------------------------------------------------------------------------------------
// Names of the formats.
// ---------------------------------------------------------------------------------------------

/** Media types of the OCI image spec and of Docker's distribution manifests that archives carry. */
export const MediaTypes = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/** The OCI annotation naming a manifest in an index: a tag ("latest") as docker writes it, or a whole reference. */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
/** containerd's (and docker 25+'s) annotation with the fully qualified name: "docker.io/library/x:latest". */
export const IMAGE_NAME_ANNOTATION = 'io.containerd.image.name';

/** File names at the top of an archive. */
export const ArchiveFiles = {
  dockerManifest: 'manifest.json',
  ociIndex: 'index.json',
  ociLayout: 'oci-layout',
  repositories: 'repositories',
} as const;

/** A malformed or unsupported image archive; the message says what and where. */
export class ImageArchiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageArchiveError';
  }
}

/** `blobs/sha256/<hex>`: where a blob lives in an OCI layout (and in docker 25+ archives). */
export function blobPathOf(digest: string): string {
  const match = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/.exec(digest);
  if (!match) throw new ImageArchiveError(`invalid digest ${JSON.stringify(digest)}`);
  return `blobs/${match[1]}/${match[2]}`;
}

/** "x:latest" → "docker.io/library/x:latest", "reg:5000/a/b:v1" stays as it is. */
export function fullyQualifiedName(familiarRef: string): string {
  const slash = familiarRef.indexOf('/');
  const first = slash === -1 ? '' : familiarRef.slice(0, slash);
  if (first !== '' && (/[.:]/.test(first) || first === 'localhost')) return familiarRef;
  return slash === -1 ? `docker.io/library/${familiarRef}` : `docker.io/${familiarRef}`;
}

// ---------------------------------------------------------------------------------------------
// Writing: docker-archive and OCI layout in one tar (what docker 25+ `docker save` writes).
// ---------------------------------------------------------------------------------------------

/** An OCI content descriptor. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly platform?: { readonly architecture: string; readonly os: string; readonly variant?: string };
}

/** One image to put in an archive. */
export interface ArchiveImage {
  /** The config blob's digest: the image id. */
  readonly configDigest: string;
  readonly configSize: number;
  /** Bottom layer first; each stored uncompressed, so its digest is its diff id. */
  readonly layers: readonly { readonly diffId: string; readonly size: number }[];
  /** Familiar references ("x:latest", "foo/bar:v1") the archive names the image by; may be empty. */
  readonly repoTags: readonly string[];
  readonly architecture: string;
  readonly os: string;
}

/** A small file of the archive, made in memory. */
export interface ArchiveFile {
  readonly path: string;
  readonly data: Buffer;
}

/** What `docker save` writes besides the config and layer blobs. */
export interface ArchiveDocuments {
  /** The OCI manifest of each image (in the order given), to be stored as blobs. */
  readonly manifests: readonly { readonly digest: string; readonly data: Buffer }[];
  /** manifest.json, index.json, oci-layout and (when there are tags) repositories. */
  readonly files: readonly ArchiveFile[];
}

/** Go's json.Encoder: compact JSON and a newline. */
function encodeJson(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value)}\n`, 'utf8');
}

/** The OCI image manifest of an image whose layers are stored uncompressed. */
export function ociManifestFor(image: ArchiveImage): Buffer {
  return Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config: { mediaType: MediaTypes.ociConfig, digest: image.configDigest, size: image.configSize },
    layers: image.layers.map((l) => ({ mediaType: MediaTypes.ociLayer, digest: l.diffId, size: l.size })),
  }), 'utf8');
}

/**
 * The documents of an archive that both `docker load` (manifest.json, and repositories for
 * clients older than 1.10) and OCI tools (oci-layout, index.json and the manifests) read:
 *
 *     manifest.json   [{"Config":"blobs/sha256/<config>","RepoTags":["x:latest"],"Layers":["blobs/sha256/<diff id>"]}]
 *     index.json      {"schemaVersion":2,"mediaType":"…index.v1+json","manifests":[{…manifest…, "annotations":
 *                       {"io.containerd.image.name":"docker.io/library/x:latest","org.opencontainers.image.ref.name":"latest"}}]}
 *     oci-layout      {"imageLayoutVersion":"1.0.0"}
 *     repositories    {"x":{"latest":"<hex of the top layer>"}}
 *
 * An image has one index entry per tag (none tagged: one entry without annotations).
 */
export function buildArchiveDocuments(images: readonly ArchiveImage[]): ArchiveDocuments {
  const manifests: { digest: string; data: Buffer }[] = [];
  const indexEntries: Descriptor[] = [];
  const dockerEntries: { Config: string; RepoTags: readonly string[] | null; Layers: readonly string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const image of images) {
    const data = ociManifestFor(image);
    const digest = sha256Digest(data);
    manifests.push({ digest, data });
    const base: Descriptor = {
      mediaType: MediaTypes.ociManifest, digest, size: data.length, platform: { architecture: image.architecture, os: image.os },
    };
    if (image.repoTags.length === 0) indexEntries.push(base);
    for (const repoTag of image.repoTags) {
      const ref = parseReference(repoTag);
      if (ref.tag === undefined) throw new ImageArchiveError(`${repoTag}: a tag is needed to name an image in an archive`);
      indexEntries.push({ ...base, annotations: { [IMAGE_NAME_ANNOTATION]: fullyQualifiedName(ref.ref), [REF_NAME_ANNOTATION]: ref.tag } });
      const top = image.layers[image.layers.length - 1];
      if (top) (repositories[ref.repo] ??= {})[ref.tag] = digestHex(top.diffId);
    }
    dockerEntries.push({
      Config: blobPathOf(image.configDigest),
      RepoTags: image.repoTags.length === 0 ? null : image.repoTags.map((t) => parseReference(t).ref),
      Layers: image.layers.map((l) => blobPathOf(l.diffId)),
    });
  }
  const files: ArchiveFile[] = [
    { path: ArchiveFiles.ociLayout, data: Buffer.from('{"imageLayoutVersion":"1.0.0"}', 'utf8') },
    { path: ArchiveFiles.ociIndex, data: Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: indexEntries }), 'utf8') },
    { path: ArchiveFiles.dockerManifest, data: encodeJson(dockerEntries) },
  ];
  if (Object.keys(repositories).length > 0) files.push({ path: ArchiveFiles.repositories, data: encodeJson(repositories) });
  return { manifests, files };
}

// ---------------------------------------------------------------------------------------------
// Reading: parsing the documents (pure).
// ---------------------------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function parseJson(data: Buffer, what: string): Json {
  try {
    return JSON.parse(data.toString('utf8')) as Json;
  } catch (error) {
    throw new ImageArchiveError(`${what} is not valid JSON: ${(error as Error).message}`);
  }
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectAt(value: Json | undefined, what: string): JsonObject {
  if (!isObject(value)) throw new ImageArchiveError(`${what}: expected an object`);
  return value;
}

function stringAt(value: Json | undefined, what: string): string {
  if (typeof value !== 'string') throw new ImageArchiveError(`${what}: expected a string`);
  return value;
}

function optionalString(value: Json | undefined, what: string): string | undefined {
  return value === undefined || value === null ? undefined : stringAt(value, what);
}

function stringsAt(value: Json | undefined, what: string, nullable = false): string[] {
  if ((value === null || value === undefined) && nullable) return [];
  if (!Array.isArray(value)) throw new ImageArchiveError(`${what}: expected an array of strings`);
  return value.map((item, i) => stringAt(item, `${what}[${i}]`));
}

function nullableStrings(value: Json | undefined, what: string): string[] | null {
  return value === null || value === undefined ? null : stringsAt(value, what);
}

function stringRecord(value: Json | undefined, what: string): Record<string, string> {
  if (value === null || value === undefined) return {};
  const obj = objectAt(value, what);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = stringAt(v, `${what}.${k}`);
  return out;
}

function descriptorAt(value: Json | undefined, what: string): Descriptor {
  const obj = objectAt(value, what);
  const size = obj.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new ImageArchiveError(`${what}.size: expected a byte count`);
  const platform = isObject(obj.platform)
    ? {
      architecture: stringAt(obj.platform.architecture, `${what}.platform.architecture`),
      os: stringAt(obj.platform.os, `${what}.platform.os`),
      ...(typeof obj.platform.variant === 'string' ? { variant: obj.platform.variant } : {}),
    }
    : undefined;
  return {
    mediaType: optionalString(obj.mediaType, `${what}.mediaType`) ?? '',
    digest: stringAt(obj.digest, `${what}.digest`),
    size,
    ...(obj.annotations !== undefined && obj.annotations !== null ? { annotations: stringRecord(obj.annotations, `${what}.annotations`) } : {}),
    ...(platform ? { platform } : {}),
  };
}

/** One entry of a docker-archive's manifest.json. */
export interface DockerArchiveEntry {
  /** Path of the config in the archive ("blobs/sha256/<hex>", or "<hex>.json" before docker 25). */
  readonly config: string;
  readonly repoTags: readonly string[];
  /** Paths of the layer tars, bottom first ("blobs/sha256/<hex>", or "<v1 id>/layer.tar"). */
  readonly layers: readonly string[];
}

/** Parses a docker-archive's manifest.json. */
export function parseDockerManifest(data: Buffer): DockerArchiveEntry[] {
  const json = parseJson(data, ArchiveFiles.dockerManifest);
  if (!Array.isArray(json)) throw new ImageArchiveError(`${ArchiveFiles.dockerManifest}: expected an array`);
  return json.map((item, i) => {
    const what = `${ArchiveFiles.dockerManifest}[${i}]`;
    const obj = objectAt(item, what);
    return {
      config: stringAt(obj.Config, `${what}.Config`),
      repoTags: stringsAt(obj.RepoTags, `${what}.RepoTags`, true),
      layers: stringsAt(obj.Layers, `${what}.Layers`, true),
    };
  });
}

/** Parses an OCI image index (index.json) or a Docker manifest list: its manifests. */
export function parseOciIndex(data: Buffer, what: string = ArchiveFiles.ociIndex): Descriptor[] {
  const obj = objectAt(parseJson(data, what), what);
  if (obj.schemaVersion !== 2) throw new ImageArchiveError(`${what}: schemaVersion ${JSON.stringify(obj.schemaVersion)} is not supported (expected 2)`);
  if (!Array.isArray(obj.manifests)) throw new ImageArchiveError(`${what}.manifests: expected an array`);
  return obj.manifests.map((m, i) => descriptorAt(m, `${what}.manifests[${i}]`));
}

/** Parses an OCI image manifest (or a Docker schema 2 manifest): the config and layer descriptors. */
export function parseOciManifest(data: Buffer, what: string): { config: Descriptor; layers: Descriptor[] } {
  const obj = objectAt(parseJson(data, what), what);
  if (obj.schemaVersion !== 2) throw new ImageArchiveError(`${what}: schemaVersion ${JSON.stringify(obj.schemaVersion)} is not supported (expected 2)`);
  if (!Array.isArray(obj.layers)) throw new ImageArchiveError(`${what}.layers: expected an array`);
  return { config: descriptorAt(obj.config, `${what}.config`), layers: obj.layers.map((l, i) => descriptorAt(l, `${what}.layers[${i}]`)) };
}

/** What the engine records of an image config (the ImageCreated data), read from a config blob. */
export interface ParsedImageConfig {
  readonly diffIds: readonly string[];
  readonly config: ImageConfig;
  readonly history: readonly HistoryEntry[];
  readonly created: string;
  readonly architecture: string;
  readonly os: string;
}

/**
 * Reads an image config blob as Docker and OCI tools write it. Fields the engine does not keep
 * (Hostname, Healthcheck, Volumes...) are left in the blob, which is stored byte for byte, so
 * the image id (its digest) does not change; missing ones take Docker's zero values.
 */
export function parseImageConfig(data: Buffer, what = 'the image config'): ParsedImageConfig {
  const obj = objectAt(parseJson(data, what), what);
  const rootfs = objectAt(obj.rootfs, `${what}.rootfs`);
  if (rootfs.type !== 'layers') throw new ImageArchiveError(`${what}.rootfs.type: expected "layers", got ${JSON.stringify(rootfs.type)}`);
  const diffIds = stringsAt(rootfs.diff_ids, `${what}.rootfs.diff_ids`, true);
  diffIds.forEach((d, i) => {
    if (!DIGEST_PATTERN.test(d)) throw new ImageArchiveError(`${what}.rootfs.diff_ids[${i}]: ${JSON.stringify(d)} is not a sha256 digest`);
  });
  const c = obj.config === undefined || obj.config === null ? {} : objectAt(obj.config, `${what}.config`);
  const ports = c.ExposedPorts;
  const config: ImageConfig = {
    Env: stringsAt(c.Env, `${what}.config.Env`, true),
    Cmd: nullableStrings(c.Cmd, `${what}.config.Cmd`),
    Entrypoint: nullableStrings(c.Entrypoint, `${what}.config.Entrypoint`),
    WorkingDir: optionalString(c.WorkingDir, `${what}.config.WorkingDir`) ?? '',
    User: optionalString(c.User, `${what}.config.User`) ?? '',
    Labels: stringRecord(c.Labels, `${what}.config.Labels`),
    ...(isObject(ports) && Object.keys(ports).length > 0 ? { ExposedPorts: Object.fromEntries(Object.keys(ports).map((p) => [p, {}])) } : {}),
  };
  const rawHistory = obj.history === undefined || obj.history === null ? [] : obj.history;
  if (!Array.isArray(rawHistory)) throw new ImageArchiveError(`${what}.history: expected an array`);
  const history = rawHistory.map((item, i): HistoryEntry => {
    const h = objectAt(item, `${what}.history[${i}]`);
    const comment = optionalString(h.comment, `${what}.history[${i}].comment`);
    const author = optionalString(h.author, `${what}.history[${i}].author`);
    return {
      created: optionalString(h.created, `${what}.history[${i}].created`) ?? '',
      created_by: optionalString(h.created_by, `${what}.history[${i}].created_by`) ?? '',
      ...(comment ? { comment } : {}),
      ...(author ? { author } : {}),
      ...(h.empty_layer === true ? { empty_layer: true } : {}),
    };
  });
  return {
    diffIds,
    config,
    history,
    created: optionalString(obj.created, `${what}.created`) ?? '',
    architecture: optionalString(obj.architecture, `${what}.architecture`) ?? '',
    os: optionalString(obj.os, `${what}.os`) ?? '',
  };
}

/** The names an OCI index entry gives its image, familiar ("x:latest"); none for a bare tag. */
export function repoTagsOf(descriptor: Descriptor): string[] {
  const annotations = descriptor.annotations ?? {};
  const named = annotations[IMAGE_NAME_ANNOTATION];
  const refName = annotations[REF_NAME_ANNOTATION];
  // docker writes a bare tag in ref.name next to the full name; skopeo's oci-archive:FILE:name:tag writes "name:tag".
  const candidate = named ?? (refName !== undefined && /[:/]/.test(refName) ? refName : undefined);
  if (candidate === undefined) return [];
  try {
    const ref = parseReference(candidate);
    return ref.tag !== undefined && ref.digest === undefined ? [ref.ref] : [];
  } catch (error) {
    if (error instanceof InvalidReferenceError) return [];
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Reading: what to load from an archive.
// ---------------------------------------------------------------------------------------------

/** The files of an archive being loaded, by their path in it. */
export interface ArchiveReader {
  has(path: string): boolean;
  /** The bytes of a (small) file: a document or a config. */
  read(path: string): Promise<Buffer>;
}

/** A blob the plan refers to: its path in the archive and, when the format says, its digest and media type. */
export interface PlannedBlob {
  readonly path: string;
  readonly digest?: string;
  readonly mediaType?: string;
}

/** One image to load. */
export interface LoadPlanItem {
  readonly format: 'docker-archive' | 'oci-layout';
  readonly config: PlannedBlob;
  /** Bottom first, one per diff id in the config. */
  readonly layers: readonly PlannedBlob[];
  /** Familiar "name:tag" references. */
  readonly repoTags: readonly string[];
}

const MANIFEST_TYPES: readonly string[] = [MediaTypes.ociManifest, MediaTypes.dockerManifest];
const INDEX_TYPES: readonly string[] = [MediaTypes.ociIndex, MediaTypes.dockerManifestList];
const LAYER_TYPES: readonly string[] = [
  MediaTypes.ociLayer, MediaTypes.ociLayerGzip, MediaTypes.dockerLayer, MediaTypes.dockerLayerGzip,
  'application/vnd.oci.image.layer.nondistributable.v1.tar', 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
];

/** Which of an index's manifests is for this platform (index entries for other platforms are skipped). */
export function pickPlatform(manifests: readonly Descriptor[], architecture: string, os = 'linux'): Descriptor | undefined {
  const images = manifests.filter((m) => MANIFEST_TYPES.includes(m.mediaType) || INDEX_TYPES.includes(m.mediaType) || m.mediaType === '');
  const matching = images.filter((m) => m.platform && m.platform.os === os && m.platform.architecture === architecture);
  if (matching.length > 0) return matching[0];
  // Attestation manifests (buildx) say platform unknown/unknown; an entry without a platform is taken as it is.
  const unplatformed = images.filter((m) => !m.platform);
  return unplatformed.length === 1 ? unplatformed[0] : undefined;
}

function archivePath(name: string, what: string): string {
  const cleaned = posix.normalize(name.replace(/^(?:\.?\/)+/, ''));
  if (cleaned === '..' || cleaned.startsWith('../') || cleaned === '.' || cleaned === '') {
    throw new ImageArchiveError(`${what}: ${JSON.stringify(name)} is not a path inside the archive`);
  }
  return cleaned;
}

async function planDockerArchive(archive: ArchiveReader): Promise<LoadPlanItem[]> {
  const entries = parseDockerManifest(await archive.read(ArchiveFiles.dockerManifest));
  return entries.map((entry, i) => ({
    format: 'docker-archive' as const,
    config: { path: archivePath(entry.config, `${ArchiveFiles.dockerManifest}[${i}].Config`) },
    layers: entry.layers.map((layer, j) => ({ path: archivePath(layer, `${ArchiveFiles.dockerManifest}[${i}].Layers[${j}]`) })),
    repoTags: entry.repoTags.map((tag) => {
      let ref: ReturnType<typeof parseReference>;
      try {
        ref = parseReference(tag);
      } catch (error) {
        if (error instanceof InvalidReferenceError) throw new ImageArchiveError(`${ArchiveFiles.dockerManifest}[${i}].RepoTags: ${error.message}`);
        throw error;
      }
      if (ref.digest !== undefined) throw new ImageArchiveError(`${ArchiveFiles.dockerManifest}[${i}].RepoTags: ${JSON.stringify(tag)} is not a name:tag`);
      return ref.ref;
    }),
  }));
}

async function planOciLayout(archive: ArchiveReader, architecture: string): Promise<LoadPlanItem[]> {
  const byManifest = new Map<string, { item: LoadPlanItem; tags: string[] }>();
  const visit = async (descriptor: Descriptor, tags: readonly string[], what: string, depth: number): Promise<void> => {
    if (depth > 4) throw new ImageArchiveError(`${what}: indexes nested too deep`);
    const path = blobPathOf(descriptor.digest);
    if (!archive.has(path)) throw new ImageArchiveError(`${what}: the blob ${descriptor.digest} is not in the archive`);
    if (INDEX_TYPES.includes(descriptor.mediaType)) {
      const nested = parseOciIndex(await archive.read(path), path);
      const chosen = pickPlatform(nested, architecture);
      if (!chosen) throw new ImageArchiveError(`${what}: no image for linux/${architecture} in the index ${descriptor.digest}`);
      await visit(chosen, tags, path, depth + 1);
      return;
    }
    if (!MANIFEST_TYPES.includes(descriptor.mediaType) && descriptor.mediaType !== '') return; // e.g. an artifact
    const known = byManifest.get(descriptor.digest);
    if (known) {
      for (const tag of tags) if (!known.tags.includes(tag)) known.tags.push(tag);
      return;
    }
    const manifest = parseOciManifest(await archive.read(path), path);
    const layers = manifest.layers.map((layer, i) => {
      if (!LAYER_TYPES.includes(layer.mediaType)) throw new ImageArchiveError(`${path}.layers[${i}]: layers of type ${JSON.stringify(layer.mediaType)} cannot be loaded (plain or gzip-compressed tar only)`);
      return { path: blobPathOf(layer.digest), digest: layer.digest, mediaType: layer.mediaType };
    });
    const ownTags = [...tags];
    byManifest.set(descriptor.digest, {
      tags: ownTags,
      item: { format: 'oci-layout', config: { path: blobPathOf(manifest.config.digest), digest: manifest.config.digest, mediaType: manifest.config.mediaType }, layers, repoTags: ownTags },
    });
  };
  const index = parseOciIndex(await archive.read(ArchiveFiles.ociIndex));
  // Every image the index lists is loaded, like docker load does; only nested indexes choose a platform.
  for (const [i, descriptor] of index.entries()) {
    await visit(descriptor, repoTagsOf(descriptor), `${ArchiveFiles.ociIndex}.manifests[${i}]`, 0);
  }
  return [...byManifest.values()].map((v) => v.item);
}

/**
 * What to load from an archive: the images its manifest.json lists (docker-archive: what
 * `docker save` and `skopeo copy … docker-archive:` write), or else the manifests its index.json
 * lists (an OCI layout: `skopeo copy … oci-archive:`, `podman save --format oci-archive`). Nested
 * indexes (multi-platform images) are resolved to the manifest for linux/`architecture`.
 */
export async function planLoad(archive: ArchiveReader, architecture: string): Promise<LoadPlanItem[]> {
  if (archive.has(ArchiveFiles.dockerManifest)) return planDockerArchive(archive);
  if (archive.has(ArchiveFiles.ociIndex)) return planOciLayout(archive, architecture);
  throw new ImageArchiveError('the archive has neither a manifest.json (docker save) nor an index.json (OCI layout): not an image archive');
}

// ---------------------------------------------------------------------------------------------
// Reading: spooling an archive stream to disk.
// ---------------------------------------------------------------------------------------------

/** A file of a spooled archive, on disk. */
export interface SpooledFile {
  /** Where its bytes are on disk. */
  readonly file: string;
  readonly size: number;
  /** sha256 of its bytes. */
  readonly digest: string;
}

/** Documents and configs are read into memory; no real one comes close. */
const MAX_DOCUMENT_SIZE = 64 << 20;

/**
 * An image archive read from a stream into a folder: each regular file is written to disk (and
 * hashed) under a numbered name, so blobs can be read in any order afterwards whatever order the
 * archive has; symlinks and hardlinks (old docker archives link repeated layer.tar files) are
 * followed by archive path. The caller removes the folder.
 */
export class SpooledArchive implements ArchiveReader {
  private constructor(
    private readonly files: ReadonlyMap<string, SpooledFile>,
    private readonly links: ReadonlyMap<string, string>,
  ) {}

  /** Reads `source` (a tar, or a gzip-compressed tar) into `dir`, which must exist and be empty. */
  static async spool(source: AsyncIterable<Uint8Array | string>, dir: string, onProgress?: (bytes: number) => void): Promise<SpooledArchive> {
    const files = new Map<string, SpooledFile>();
    const links = new Map<string, string>();
    let count = 0;
    let entries = 0;
    for await (const { header, body } of readTar(gunzipIfGzip(source, (message) => new ImageArchiveError(`the gzip-compressed archive is corrupt: ${message}`)), { onProgress })) {
      if (++entries > 1_000_000) throw new ImageArchiveError('the archive has more than a million entries: not an image archive');
      if (header.type === 'directory') continue;
      const name = archivePath(header.path, 'an archive entry');
      if (header.type === 'symlink') {
        const target = header.linkname.startsWith('/') ? header.linkname : posix.join(posix.dirname(name), header.linkname);
        links.set(name, archivePath(target, `the symlink ${name}`));
        continue;
      }
      if (header.type === 'hardlink') {
        links.set(name, archivePath(header.linkname, `the hardlink ${name}`));
        continue;
      }
      if (header.type !== 'file') continue;
      const file = join(dir, String(count++));
      const handle = await open(file, 'wx', 0o600);
      const hash = createHash('sha256');
      let size = 0;
      try {
        for await (const chunk of body) {
          hash.update(chunk);
          let offset = 0;
          while (offset < chunk.length) offset += (await handle.write(chunk, offset, chunk.length - offset)).bytesWritten;
          size += chunk.length;
        }
      } finally {
        await handle.close();
      }
      files.set(name, { file, size, digest: `sha256:${hash.digest('hex')}` });
      links.delete(name);
    }
    return new SpooledArchive(files, links);
  }

  /** The spooled file at an archive path (links followed), or undefined. */
  lookup(path: string): SpooledFile | undefined {
    let current = path;
    for (let hops = 0; hops < 16; hops++) {
      const file = this.files.get(current);
      if (file) return file;
      const next = this.links.get(current);
      if (next === undefined) return undefined;
      current = next;
    }
    return undefined;
  }

  /** The spooled file at an archive path; throws ImageArchiveError when the archive has none. */
  get(path: string): SpooledFile {
    const file = this.lookup(path);
    if (!file) throw new ImageArchiveError(`${path} is not in the archive`);
    return file;
  }

  has(path: string): boolean {
    return this.lookup(path) !== undefined;
  }

  async read(path: string): Promise<Buffer> {
    const file = this.get(path);
    if (file.size > MAX_DOCUMENT_SIZE) throw new ImageArchiveError(`${path} is ${file.size} bytes: too large for a manifest or config`);
    return readFile(file.file);
  }
}

