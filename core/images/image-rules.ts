import type { ImageCreated, ImageEvent, ImageTagged } from '../../events/index.js';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../engine/errors.js';
import type { EngineState, ImageState } from '../state/engine-state.js';
import { findImage } from '../state/lookup.js';
import { InvalidReferenceError, parseReference } from './image-reference.js';

/**
 * The rules of images (tag, rmi, prune, record), as pure functions from (command, state) to the
 * events to append, or a typed EngineError. The image service appends what they return with the
 * image stream's version it read; tests read "given events, when command, then events or error".
 */

/** One line of `rmi`'s and `image prune`'s answer, as Docker words it. */
export interface ImageDeleteItem {
  readonly Untagged?: string;
  readonly Deleted?: string;
}

/** `repo[:tag]` as the familiar `name:tag` a tag event records; a digest or a bad name is a 400. */
export function normaliseRepoTag(repo: string, tag?: string): string {
  const full = tag ? `${repo}:${tag}` : repo;
  try {
    const ref = parseReference(full);
    if (!ref.tag) throw new InvalidArgumentError(`${full}: a tag is needed here, not a digest`);
    return ref.ref;
  } catch (err) {
    if (err instanceof InvalidReferenceError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

/** Tags an image; nothing when it has the tag already. The fold moves a tag another image had. */
export function decideTag(image: ImageState, repoTag: string): ImageTagged[] {
  return image.tags.includes(repoTag) ? [] : [{ type: 'ImageTagged', data: { id: image.id, ref: repoTag } }];
}

/** Records a new image; nothing when the fold has it (a second load or commit of the same bytes). */
export function decideCreateImage(state: EngineState, data: ImageCreated['data']): ImageCreated[] {
  return state.images[data.id] ? [] : [{ type: 'ImageCreated', data }];
}

export interface RemoveDecision {
  readonly image: ImageState;
  readonly events: readonly ImageEvent[];
  readonly report: readonly ImageDeleteItem[];
  /** True when the image itself goes (ImageRemoved): its layers may then be collected. */
  readonly removed: boolean;
}

function byTagOf(image: ImageState, ref: string): string | undefined {
  try {
    const parsed = parseReference(ref);
    return parsed.tag && image.tags.includes(parsed.ref) ? parsed.ref : undefined;
  } catch {
    return undefined; // an id, not a reference
  }
}

function untagOnly(image: ImageState, tag: string): RemoveDecision {
  return { image, events: [{ type: 'ImageUntagged', data: { id: image.id, ref: tag } }], report: [{ Untagged: tag }], removed: false };
}

/**
 * `docker rmi [-f] ref`, as Docker decides it: by a tag the image has among others, only that tag
 * goes; an image a container uses is refused (409) unless forced, and a running container's image
 * cannot be deleted even forced (by tag, a forced removal only untags it); an image with several
 * tags named by id needs force. Otherwise every tag goes, then the image.
 */
export function decideRemoveImage(state: EngineState, ref: string, force: boolean): RemoveDecision {
  const image = findImage(state, ref);
  const byTag = byTagOf(image, ref);
  if (byTag && image.tags.length > 1) return untagOnly(image, byTag);
  const users = Object.values(state.containers).filter((c) => c.image.id === image.id);
  if (users.length > 0) {
    const running = users.find((c) => c.status === 'running' || c.status === 'paused');
    if (running && force && byTag) return untagOnly(image, byTag);
    if (running && force) {
      throw new ConflictError(`conflict: unable to delete ${image.id.slice(7, 19)} (cannot be forced) - image is being used by running container ${running.id.slice(0, 12)}`);
    }
    if (running || !force) {
      const c = running ?? users[0]!;
      throw new ConflictError(`conflict: unable to remove repository reference "${ref}" (must force) - container ${c.id.slice(0, 12)} is ${running ? 'running' : 'using its referenced image'} ${image.id.slice(7, 19)}`);
    }
  }
  if (!byTag && image.tags.length > 1 && !force) {
    throw new ConflictError(`conflict: unable to delete ${image.id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`);
  }
  const events: ImageEvent[] = image.tags.map((t) => ({ type: 'ImageUntagged', data: { id: image.id, ref: t } }));
  events.push({ type: 'ImageRemoved', data: { id: image.id } });
  return { image, events, report: [...image.tags.map((t) => ({ Untagged: t })), { Deleted: image.id }], removed: true };
}

/** `image prune`: dangling (untagged) images no container uses; with `all` (-a), every image no container uses. */
export function pruneVictims(state: EngineState, all: boolean): readonly ImageState[] {
  const used = new Set(Object.values(state.containers).map((c) => c.image.id));
  return Object.values(state.images).filter((i) => !used.has(i.id) && (all || i.tags.length === 0));
}

/**
 * The blobs the fold references: every image's config (its id) and layers (diff ids). The layer
 * store's garbage collection deletes only what is not in this set.
 */
export function referencedBlobs(state: EngineState): ReadonlySet<string> {
  const used = new Set<string>();
  for (const image of Object.values(state.images)) {
    used.add(image.id);
    for (const layer of image.layers) used.add(layer.diffId);
  }
  return used;
}

/** An image the fold does not know, as a 404 (for callers that look up by id). */
export function requireImage(state: EngineState, id: string): ImageState {
  const image = state.images[id];
  if (!image) throw new NotFoundError(`No such image: ${id}`);
  return image;
}
