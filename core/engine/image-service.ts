import type { StorageDriver } from '../plugins/driver.js';
import type { ContainerState, ImageState } from '../state/engine-state.js';
import type { CommitRequest, ImportRequest, ProgressReporter } from './engine.js';

/**
 * Images: resolving references, importing tarballs (the original project's `run /tmp/x.tar`),
 * tags, removal, commit, export, save and load. Content lives in the image store; which images
 * exist and their tags live only in the event log (ImageCreated, ImageTagged...).
 */
export interface ImageService {
  /** An image for `create`: a known reference, or a tarball path imported once and cached by digest. */
  resolveForCreate(ref: string, progress?: ProgressReporter): Promise<ImageState>;
  /** At daemon start: deletes the blobs and unpacked layers no image in the fold references (a crash mid-rmi or mid-import). */
  recover(): Promise<void>;
  /** Makes the default images (busybox from the host's static busybox) when missing. */
  ensureBuiltins(): Promise<void>;
  importImage(source: NodeJS.ReadableStream | string, request: ImportRequest, progress?: ProgressReporter): Promise<string>;
  tag(ref: string, repo: string, tag?: string): Promise<void>;
  remove(ref: string, force: boolean): Promise<readonly { Untagged?: string; Deleted?: string }[]>;
  commit(container: ContainerState, storage: StorageDriver, request: CommitRequest, progress?: ProgressReporter): Promise<string>;
  exportContainer(container: ContainerState, image: ImageState, storage: StorageDriver, out: NodeJS.WritableStream, progress?: ProgressReporter): Promise<void>;
  save(refs: readonly string[], out: NodeJS.WritableStream, progress?: ProgressReporter): Promise<void>;
  load(source: NodeJS.ReadableStream, progress?: ProgressReporter): Promise<readonly string[]>;
  /** Unused untagged images, or with `all` every unused image: what was untagged and deleted. */
  prune(all?: boolean): Promise<{ deleted: readonly { Untagged?: string; Deleted?: string }[]; spaceReclaimed: number }>;
}
