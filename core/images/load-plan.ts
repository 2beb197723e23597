import { posix } from 'node:path';
import { ArchiveFiles, ImageArchiveError, MediaTypes, blobPathOf, type Descriptor } from './archive-documents.js';
import { parseDockerManifest, parseOciIndex, parseOciManifest, repoTagsOf } from './archive-parse.js';
import { InvalidReferenceError, parseReference } from './image-reference.js';

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

/** An archive member's name, cleaned; one that leaves the archive (`../x`) is refused. */
export function archivePath(name: string, what: string): string {
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
