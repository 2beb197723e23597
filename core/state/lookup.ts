import { NotFoundError, InvalidArgumentError } from '../engine/errors.js';
import type { ContainerState, EngineState, ImageState } from './engine-state.js';

/**
 * Finds a container by full id, name (with or without the leading "/"), or unique id prefix,
 * in that order, like Docker. Throws NotFoundError naming the reference.
 */
export function findContainer(state: EngineState, ref: string): ContainerState {
  const found = tryFindContainer(state, ref);
  if (!found) throw new NotFoundError(`No such container: ${ref}`);
  return found;
}

export function tryFindContainer(state: EngineState, ref: string): ContainerState | undefined {
  if (ref === '') return undefined;
  const exact = state.containers[ref];
  if (exact) return exact;
  const name = ref.startsWith('/') ? ref.slice(1) : ref;
  const all = Object.values(state.containers);
  const byName = all.find((c) => c.name === name);
  if (byName) return byName;
  if (!/^[0-9a-f]+$/.test(ref)) return undefined;
  const matches = all.filter((c) => c.id.startsWith(ref));
  if (matches.length > 1) throw new InvalidArgumentError(`multiple containers match the prefix ${ref}: give more characters`);
  return matches[0];
}

export function containerByName(state: EngineState, name: string): ContainerState | undefined {
  return Object.values(state.containers).find((c) => c.name === name);
}

/** Adds ":latest" to a reference without a tag (and without a digest). */
export function normaliseTag(ref: string): string {
  const lastSlash = ref.lastIndexOf('/');
  const tail = ref.slice(lastSlash + 1);
  return tail.includes(':') || tail.includes('@') ? ref : `${ref}:latest`;
}

/** Finds an image by id ("sha256:…" or hex), unique id prefix, or tag ("busybox", "busybox:latest"). */
export function tryFindImage(state: EngineState, ref: string): ImageState | undefined {
  const familiar = ref.replace(/^docker\.io\/(library\/)?/, '');
  const tagged = normaliseTag(familiar);
  const all = Object.values(state.images);
  const byTag = all.find((i) => i.tags.includes(tagged));
  if (byTag) return byTag;
  const hex = ref.replace(/^sha256:/, '');
  if (!/^[0-9a-f]+$/.test(hex) || hex.length < 4) return undefined;
  const matches = all.filter((i) => i.id.slice('sha256:'.length).startsWith(hex));
  if (matches.length > 1) throw new InvalidArgumentError(`multiple images match the prefix ${ref}: give more characters`);
  return matches[0];
}

export function findImage(state: EngineState, ref: string): ImageState {
  const found = tryFindImage(state, ref);
  if (!found) throw new NotFoundError(`No such image: ${ref.includes(':') || ref.includes('@') ? ref : normaliseTag(ref)}`);
  return found;
}
