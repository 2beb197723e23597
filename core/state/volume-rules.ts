import type { VolumeCreating, VolumeRemoving } from '../../events/index.js';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../engine/errors.js';
import type { ContainerState, EngineState, VolumeState } from './engine-state.js';

/**
 * The rules of volumes, pure: (command, state) → the events to append, or an error with Docker's
 * words. "In use" is a fold too: a volume is used by every container (of any status) whose
 * ContainerCreated lists it.
 */

/** Docker's volume names: at least two characters, the first a letter or digit. */
const VOLUME_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function validateVolumeName(name: string): void {
  if (!VOLUME_NAME_RE.test(name)) {
    throw new InvalidArgumentError(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
}

/** The containers that mount the volume, by id (sorted). */
export function volumeUsers(state: EngineState, name: string): string[] {
  return Object.values(state.containers).filter((c) => c.volumes.some((v) => v.name === name)).map((c) => c.id).sort();
}

/** The volume a reference names, or NotFoundError in Docker's words. */
export function findVolume(state: EngineState, name: string): VolumeState {
  const v = state.volumes[name];
  if (!v || v.status === 'creating') throw new NotFoundError(`get ${name}: no such volume`);
  return v;
}

/**
 * Creating a volume: its intent, or nothing when a volume of that name is already there with the
 * same driver (as Docker, `volume create` of an existing name returns it).
 */
export function decideVolumeCreate(state: EngineState, data: VolumeCreating['data']): VolumeCreating[] {
  validateVolumeName(data.name);
  const existing = state.volumes[data.name];
  if (!existing) return [{ type: 'VolumeCreating', data }];
  if (existing.status === 'creating') throw new ConflictError(`create ${data.name}: the volume is being created: try again`);
  if (existing.status === 'removing') throw new ConflictError(`create ${data.name}: the volume is being removed: try again`);
  if (existing.driver !== data.driver) {
    throw new ConflictError(`create ${data.name}: volume name already exists with a different driver (${existing.driver}): remove it first or choose another name`);
  }
  return [];
}

/** Removing a volume: refused while a container uses it (even a stopped one), as Docker. */
export function decideVolumeRemove(state: EngineState, name: string): VolumeRemoving[] {
  const v = findVolume(state, name);
  const users = volumeUsers(state, name);
  if (users.length > 0) throw new ConflictError(`remove ${name}: volume is in use - [${users.join(', ')}]`);
  if (v.status === 'removing') return [];
  return [{ type: 'VolumeRemoving', data: { name } }];
}

/** The anonymous volumes a container's removal takes with it (`rm -v`): those no other container uses. */
export function anonymousVolumesToRemove(state: EngineState, c: ContainerState): string[] {
  return c.volumes
    .filter((v) => v.anonymous && state.volumes[v.name] !== undefined)
    .filter((v) => volumeUsers(state, v.name).every((id) => id === c.id))
    .map((v) => v.name);
}

/** One volume against `volume ls` and `volume prune` filters (dangling, name, label, driver). */
export function volumeMatches(state: EngineState, v: VolumeState, filters: ReadonlyMap<string, readonly string[]>): boolean {
  const test = (key: string, pred: (value: string) => boolean): boolean => {
    const values = filters.get(key);
    return values === undefined || values.length === 0 || values.some(pred);
  };
  return (
    test('dangling', (value) => {
      const dangling = value === 'true' || value === '1';
      if (!dangling && value !== 'false' && value !== '0') throw new InvalidArgumentError(`invalid filter 'dangling=${value}': use true or false`);
      return (volumeUsers(state, v.name).length === 0) === dangling;
    }) &&
    test('name', (value) => v.name.includes(value)) &&
    test('driver', (value) => v.driver === value) &&
    test('label', (value) => {
      const eq = value.indexOf('=');
      return eq < 0 ? value in v.labels : v.labels[value.slice(0, eq)] === value.slice(eq + 1);
    }) &&
    test('label!', (value) => {
      const eq = value.indexOf('=');
      return eq < 0 ? !(value in v.labels) : v.labels[value.slice(0, eq)] !== value.slice(eq + 1);
    })
  );
}

/** The filter keys `GET /volumes` accepts. */
export const VOLUME_FILTER_KEYS = ['dangling', 'name', 'driver', 'label', 'label!'] as const;

/**
 * What `volume prune` removes: unused volumes that pass the filters; only anonymous ones unless
 * the filter `all=true` (`prune -a`), as Docker since API 1.42.
 */
export function volumesToPrune(state: EngineState, filters: ReadonlyMap<string, readonly string[]>): VolumeState[] {
  const allValues = filters.get('all') ?? [];
  const all = allValues.some((v) => v === 'true' || v === '1');
  const rest = new Map([...filters].filter(([k]) => k !== 'all'));
  return Object.values(state.volumes)
    .filter((v) => v.status === 'created' && (all || v.anonymous) && volumeUsers(state, v.name).length === 0 && volumeMatches(state, v, rest))
    .sort((a, b) => a.name.localeCompare(b.name));
}
