import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { LayerDescriptor } from '../../events/index.js';
import { TarFormatError } from '../archive/index.js';
import { ImageArchiveError } from '../images/archive-documents.js';
import { parseImageConfig } from '../images/archive-parse.js';
import type { LayerBlob } from '../images/content-store.js';
import { ociArchitecture, sha256Digest } from '../images/image-config.js';
import { planLoad, type LoadPlanItem } from '../images/load-plan.js';
import { SpooledArchive } from '../images/spooled-archive.js';
import type { ProgressReporter } from './engine.js';
import { ConflictError, InvalidArgumentError } from './errors.js';
import type { ImageParts } from './image-records.js';

/**
 * Loads the images of a docker-archive or OCI-layout tar (plain or gzip-compressed; layers plain
 * or gzip-compressed): spooled to disk once, planned, then each image verified, stored, unpacked
 * and recorded, under a lease. Each layer's uncompressed digest must be the config's diff id: a
 * layer the store has is skipped only when the archive's file is that layer (its digest is the
 * diff id, or a compressed copy's the store keeps), else it is read and checked.
 * Returns the loaded "name:tag"s, or the ids of images the archive does not name.
 */
export async function loadImages(parts: ImageParts, source: NodeJS.ReadableStream, progress?: ProgressReporter): Promise<readonly string[]> {
  parts.storage(); // no storage driver: refused before reading a byte
  const content = parts.layers.content;
  await mkdir(join(content.root, 'tmp'), { recursive: true });
  const dir = await mkdtemp(join(content.root, 'tmp', 'load-'));
  const lease = await parts.layers.lease();
  try {
    const archive = await SpooledArchive.spool(source, dir, (bytes) => progress?.({ phase: 'Loading', current: bytes }));
    const plan = await planLoad(archive, ociArchitecture());
    if (plan.length === 0) throw new ImageArchiveError('the archive lists no image');
    const loaded: string[] = [];
    for (const item of plan) {
      for (const name of await loadImage(parts, item, archive, progress)) if (!loaded.includes(name)) loaded.push(name);
    }
    return loaded;
  } catch (err) {
    if (err instanceof ImageArchiveError || err instanceof TarFormatError) throw new InvalidArgumentError(`invalid image archive: ${err.message}`);
    if (err instanceof Error && !(err instanceof ConflictError) && /not a valid tar archive|compressed with|gzip data is corrupt/.test(err.message)) {
      throw new InvalidArgumentError(`invalid image archive: ${err.message}`);
    }
    throw err;
  } finally {
    lease.release();
    await rm(dir, { recursive: true, force: true });
  }
}

async function loadImage(parts: ImageParts, item: LoadPlanItem, archive: SpooledArchive, progress?: ProgressReporter): Promise<string[]> {
  const content = parts.layers.content;
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
    let blob: Pick<LayerBlob, 'diffId' | 'size'>;
    // Skipped only when the archive's file is known to be the stored layer: a plain tar whose digest is
    // the diff id, or a gzip file whose digest is a compressed copy the store keeps of that layer.
    // Else it is imported and its diff id checked, even when the store has the layer.
    const known = file.digest === expected ? await content.hasLayer(expected) : await content.hasCompressedCopy(expected, file.digest);
    if (known) {
      blob = { diffId: expected, size: await content.layerSize(expected) };
    } else {
      blob = await content.importLayerTar(file.file, { onProgress: (bytes) => progress?.({ phase: `Loading layer ${i + 1}/${item.layers.length}`, current: bytes }) });
      if (blob.diffId !== expected) throw new ImageArchiveError(`invalid diffID for layer ${i}: expected "${expected}", got "${blob.diffId}" (${layer.path})`);
    }
    await parts.layers.apply(blob.diffId);
    layers.push({ diffId: blob.diffId, size: blob.size });
  }
  await content.writeBlob(configBytes);
  await parts.records.create({
    id, origin: 'load', source: item.format, parent: null, layers, config: parsed.config, history: parsed.history,
    created: parsed.created, architecture: parsed.architecture, os: parsed.os,
  });
  for (const tag of item.repoTags) await parts.records.tag(id, tag);
  return item.repoTags.length > 0 ? [...item.repoTags] : [id];
}
