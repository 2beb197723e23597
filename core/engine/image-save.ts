import { TarWriter } from '../archive/index.js';
import { blobPathOf, buildArchiveDocuments, type ArchiveImage } from '../images/archive-documents.js';
import { LayerMissingError, type ContentStore } from '../images/content-store.js';
import { ociArchitecture, sha256Digest } from '../images/image-config.js';
import { parseReference } from '../images/image-reference.js';
import type { EngineState, ImageState } from '../state/engine-state.js';
import { findImage } from '../state/lookup.js';
import type { ProgressReporter } from './engine.js';
import { ConflictError, InvalidArgumentError } from './errors.js';
import { streamInto } from './image-streams.js';

/**
 * The images `refs` name, each with the tags to write for it: `x:v1` → that tag; `x` (a name
 * alone) → every tag of repository x, as docker does; an id → the image without tags.
 */
export function selectForSave(state: EngineState, refs: readonly string[]): { image: ImageState; tags: string[] }[] {
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

/** Bytes of a tar with these entry sizes (headers, padding, the end marker). */
function tarSize(sizes: readonly number[]): number {
  return sizes.reduce((n, size) => n + 512 + size + 511 - ((size + 511) % 512), 1024 + 1024);
}

/**
 * Writes the images as one tar that is both a docker-archive (manifest.json, repositories) and
 * an OCI image layout (oci-layout, index.json, manifests): what docker 25+ `docker save` writes.
 * Documents come first, then the config, manifest and layer blobs (each layer once). Each config
 * is checked against its id and each layer must be in the store before a byte is written.
 */
export async function saveImages(content: ContentStore, state: EngineState, refs: readonly string[], out: NodeJS.WritableStream, progress?: ProgressReporter): Promise<void> {
  if (refs.length === 0) throw new InvalidArgumentError('nothing to save: name at least one image');
  const images: ArchiveImage[] = [];
  const configs = new Map<string, Buffer>();
  for (const { image, tags } of selectForSave(state, refs)) {
    const config = await content.readBlob(image.id);
    if (sha256Digest(config) !== image.id) throw new ConflictError(`the config of image ${image.id.slice(7, 19)} in the image store is damaged (its digest changed)`);
    configs.set(image.id, config);
    const layers: { diffId: string; size: number }[] = [];
    for (const layer of image.layers) {
      const size = await content.layerSize(layer.diffId).catch((error: unknown) => {
        if (error instanceof LayerMissingError) throw new ConflictError(`layer ${layer.diffId} of image ${image.id.slice(7, 19)} is missing from the image store`);
        throw error;
      });
      layers.push({ diffId: layer.diffId, size });
    }
    images.push({
      configDigest: image.id, configSize: config.length, layers, repoTags: tags,
      architecture: image.architecture || ociArchitecture(), os: image.os || 'linux',
    });
  }
  const documents = buildArchiveDocuments(images);
  const layerSizes = new Map(images.flatMap((i) => i.layers.map((l) => [l.diffId, l.size] as const)));
  const blobs: { digest: string; size: number; data?: Buffer }[] = [
    ...[...configs].map(([digest, data]) => ({ digest, size: data.length, data })),
    ...documents.manifests.map(({ digest, data }) => ({ digest, size: data.length, data })),
    ...[...layerSizes].map(([digest, size]) => ({ digest, size })),
  ].filter((blob, i, all) => all.findIndex((b) => b.digest === blob.digest) === i);
  const total = tarSize([...documents.files.map((f) => f.data.length), ...blobs.map((b) => b.size)]);
  await streamInto(out, (bytes) => progress?.({ phase: 'Saving', current: bytes, total }), async (sink) => {
    const writer = new TarWriter(sink);
    const file = (path: string, size: number) => ({ path, type: 'file' as const, size, mode: 0o644, mtime: 0 });
    for (const { path, data } of documents.files) await writer.add(file(path, data.length), data);
    await writer.add({ path: 'blobs', type: 'directory', mode: 0o755, mtime: 0 });
    await writer.add({ path: 'blobs/sha256', type: 'directory', mode: 0o755, mtime: 0 });
    for (const blob of blobs) await writer.add(file(blobPathOf(blob.digest), blob.size), blob.data ?? content.openLayer(blob.digest));
    await writer.finish();
  });
}
