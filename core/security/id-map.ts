/**
 * A container's id mapping under `--userns-remap`: its ids 0..size-1 are the host's uid..uid+size-1
 * (gid likewise). What the daemon writes on a remapped container's behalf (a volume's copy-up, the
 * files `cp` extracts, a new volume's root) is owned by the host ids its container ids map to, so
 * the container sees the owners the archive or the image gave and its root can change them.
 */
export interface IdMapping {
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
}

/** An owner as a pair of ids. */
export interface Ids {
  readonly uid: number;
  readonly gid: number;
}

/** The id a container shows for a host id it does not map (the kernel's overflowuid). */
export const OVERFLOW_ID = 65534;

/**
 * A container id neither the range nor its overflow id can stand for: refused (Docker's
 * "Container ID N cannot be mapped to a host ID"), never written as some other owner.
 */
export class UnmappedIdError extends Error {
  constructor(readonly id: number, readonly size: number) {
    super(`Container ID ${id} cannot be mapped to a host ID: the container's user namespace holds ids 0-${size - 1} (give the file an owner in that range)`);
    this.name = 'UnmappedIdError';
  }
}

/**
 * The host ids of a container's ids. An id the range does not hold (the range is smaller than
 * 65536) becomes the container's overflow id (nobody) when the range holds that; otherwise it is
 * refused with an UnmappedIdError. Never the range's first id: that is the container's root, and
 * a setuid file of an unmapped owner would become setuid root.
 */
export function toHostIds(map: IdMapping, ids: Ids): Ids {
  const one = (id: number, base: number): number => {
    if (Number.isInteger(id) && id >= 0 && id < map.size) return base + id;
    if (OVERFLOW_ID < map.size) return base + OVERFLOW_ID;
    throw new UnmappedIdError(id, map.size);
  };
  return { uid: one(ids.uid, map.uid), gid: one(ids.gid, map.gid) };
}

/** The container's view of host ids: inside the range, shifted down; outside it, the overflow id (as `ls -n` shows in the container). */
export function toContainerIds(map: IdMapping, ids: Ids): Ids {
  const one = (id: number, base: number): number => (id >= base && id < base + map.size ? id - base : OVERFLOW_ID);
  return { uid: one(ids.uid, map.uid), gid: one(ids.gid, map.gid) };
}
