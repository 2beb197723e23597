/** The documents of an image archive (docker-archive and OCI layout): names, media types, writing them. */
import { digestHex, sha256Digest } from './image-config.js';
import { parseReference } from './image-reference.js';

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
