import { PassThrough } from 'node:stream';
import type { HistoryEntry, LayerDescriptor } from '../../events/index.js';
import { failpoint } from '../failpoints.js';
import type { LayerBlob } from '../images/content-store.js';
import { ociArchitecture, type ImageConfigDocument } from '../images/image-config.js';
import { normaliseRepoTag } from '../images/image-rules.js';
import type { StorageDriver } from '../plugins/driver.js';
import type { ContainerState, ImageState } from '../state/engine-state.js';
import { applyConfigChanges } from './config-changes.js';
import type { CommitRequest, ProgressReporter } from './engine.js';
import { ConflictError } from './errors.js';
import type { ImageParts } from './image-records.js';
import { streamInto } from './image-streams.js';

/**
 * A new image: the container's image plus one layer of the container's changes (the storage
 * driver's diff stream, through the exporter, straight into the content store: one pass that
 * hashes and stores), with the container's Cmd, Entrypoint, Env, WorkingDir, User and Labels,
 * then the `changes` (`-c 'ENV A=1'`) applied. Under a lease, so the garbage collection cannot
 * take the new layer before its ImageCreated is recorded.
 */
export async function commitContainer(
  parts: ImageParts, container: ContainerState, storage: StorageDriver, request: CommitRequest, progress?: ProgressReporter,
): Promise<string> {
  const parent = parts.records.state().images[container.image.id];
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
  const lease = await parts.layers.lease();
  try {
    // Stored, not unpacked: the first container (or export) of the new image unpacks it.
    const blob = await diffIntoStore(parts, container.id, parent, storage, progress);
    failpoint('commit.after-layer');
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
    const id = await parts.layers.content.writeImageConfig(doc);
    await parts.records.create({
      id, origin: 'commit', source: container.id, parent: parent.id, layers, config: doc.config, history: doc.history,
      created: doc.created, architecture: doc.architecture, os: doc.os,
    });
    if (repoTag) await parts.records.tag(id, repoTag);
    return id;
  } finally {
    lease.release();
  }
}

/**
 * storage.diff → exporter.exportDiff → content store, piped: the layer is hashed and stored as it
 * is written. Whichever side fails first ends the other (its stream destroyed) and is the error.
 */
async function diffIntoStore(parts: ImageParts, containerId: string, parent: ImageState, storage: StorageDriver, progress?: ProgressReporter): Promise<LayerBlob> {
  const diff = storage.diff(containerId, parent.layers.map((l) => l.diffId));
  const layer = new PassThrough({ highWaterMark: 1 << 20 });
  let cause: { error: unknown } | undefined;
  const stop = (error: unknown): never => {
    cause ??= { error };
    layer.destroy(error instanceof Error ? error : new Error(String(error)));
    diff.destroy();
    throw error;
  };
  const exporting = parts.exporter().exportDiff(diff, layer).catch(stop);
  const importing = parts.layers.content.importLayerTar(layer, {
    onProgress: (bytes) => progress?.({ phase: 'Committing', current: bytes }),
  }).catch(stop);
  const [, imported] = await Promise.allSettled([exporting, importing]);
  if (cause !== undefined) throw cause.error;
  if (imported.status === 'rejected') throw imported.reason;
  return imported.value;
}

/**
 * The container's filesystem as one tar (docker export), read from a read-only view the storage
 * driver mounts (the kernel applied the whiteouts: no conversion) and released in `finally`.
 * `prepare` first: a container that never ran gets its (empty) writable layer, so the view is
 * its image's filesystem.
 */
export async function exportContainer(
  parts: ImageParts, container: ContainerState, image: ImageState, storage: StorageDriver, out: NodeJS.WritableStream, progress?: ProgressReporter,
): Promise<void> {
  const exporter = parts.exporter();
  const layers = image.layers.map((l) => l.diffId);
  await parts.layers.ensureUnpacked(layers);
  await storage.prepare(container.id, layers);
  const view = await storage.mountReadOnly(container.id, layers);
  try {
    await streamInto(out, (bytes) => progress?.({ phase: 'Exporting', current: bytes }), (sink) => exporter.exportTree(view.path, sink));
  } finally {
    await view.release();
  }
}
