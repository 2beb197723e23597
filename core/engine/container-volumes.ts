import { existsSync } from 'node:fs';
import { chown, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ContainerVolume, HostConfig } from '../../events/index.js';
import type { BindSpec } from '../plugins/driver.js';
import type { ContainerState, EngineState, ImageState } from '../state/engine-state.js';
import { findContainer } from '../state/lookup.js';
import { bindsOf, byMountDepth, mountRequestsOf, parseVolumeFlag, parseVolumesFrom, type MountRequest } from './binds.js';
import type { EngineContext } from './engine-context.js';
import { messageOf } from './engine-context.js';
import { ConflictError } from './errors.js';
import type { IdMapping } from '../security/id-map.js';
import { volumeLock, volumeOwner } from './volume-context.js';
import { copyUpAtFirstMount } from './volume-copy-up.js';
import { createVolumeLocked, removeAnonymousVolume } from './volume-service.js';

/** The driver volumes made by a container's create use (Docker's `HostConfig.VolumeDriver` default). */
export const DEFAULT_VOLUME_DRIVER = 'local';

/** A volume a container will mount: `name` "" for an anonymous one still to make. */
export interface PlannedVolume {
  readonly name: string;
  readonly destination: string;
  readonly readOnly: boolean;
  readonly anonymous: boolean;
  readonly noCopy: boolean;
}

/**
 * Which volumes a new container mounts, pure: its own (`-v NAME:/p`, `-v /p`, `--mount
 * type=volume`), then those of `--volumes-from` containers (their binds too, returned as `-v`
 * strings), then an anonymous one for each of the image's VOLUME paths nothing else is mounted at.
 * Two mounts on one path are refused (own mounts), or the first one wins (inherited and image ones).
 */
export function planVolumes(
  hostConfig: Pick<HostConfig, 'Binds' | 'Mounts' | 'VolumesFrom'>,
  image: Pick<ImageState, 'config'>,
  from: (ref: string) => { readonly volumes: readonly ContainerVolume[]; readonly binds: readonly string[] },
): { volumes: PlannedVolume[]; inheritedBinds: string[] } {
  const own = mountRequestsOf(hostConfig);
  const taken = new Set(own.map((r: MountRequest) => (r.kind === 'bind' ? r.bind.target : r.volume.target)));
  const volumes: PlannedVolume[] = own.flatMap((r) => (r.kind === 'volume'
    ? [{ name: r.volume.name, destination: r.volume.target, readOnly: r.volume.readOnly, anonymous: r.volume.name === '', noCopy: r.volume.noCopy }]
    : []));
  const inheritedBinds: string[] = [];
  for (const spec of hostConfig.VolumesFrom ?? []) {
    const { container, mode } = parseVolumesFrom(spec);
    const other = from(container);
    for (const v of other.volumes) {
      if (taken.has(v.destination)) continue;
      taken.add(v.destination);
      volumes.push({ name: v.name, destination: v.destination, readOnly: mode === '' ? v.readOnly : mode === 'ro', anonymous: false, noCopy: true });
    }
    for (const bind of other.binds) {
      const m = parseVolumeFlag(bind);
      if (m.kind !== 'bind' || taken.has(m.bind.target)) continue;
      taken.add(m.bind.target);
      const readOnly = mode === '' ? m.bind.readOnly : mode === 'ro';
      inheritedBinds.push(`${m.bind.source}:${m.bind.target}${readOnly ? ':ro' : ''}`);
    }
  }
  for (const path of Object.keys(image.config.Volumes ?? {}).sort()) {
    const destination = path.replace(/(.)\/+$/, '$1');
    if (!destination.startsWith('/') || destination === '/' || taken.has(destination)) continue;
    taken.add(destination);
    volumes.push({ name: '', destination, readOnly: false, anonymous: true, noCopy: false });
  }
  return { volumes, inheritedBinds };
}

/**
 * Every bind of a container as the isolator (and cp's view of a stopped container) mounts them:
 * its host binds and its volumes (a bind of each volume's folder), a parent path before what is
 * mounted under it. `hostBinds` are the host paths alone (a start makes a missing one).
 */
export function containerBinds(state: EngineState, c: Pick<ContainerState, 'hostConfig' | 'volumes'>): { binds: BindSpec[]; hostBinds: BindSpec[] } {
  const hostBinds = bindsOf(c.hostConfig);
  const volumeBinds = c.volumes.map((v): BindSpec => {
    const volume = state.volumes[v.name];
    if (!volume || volume.status !== 'created') throw new Error(`volume ${v.name} of the container is gone: create the container again`);
    return { source: volume.mountpoint, target: v.destination, readOnly: v.readOnly };
  });
  return { binds: byMountDepth([...hostBinds, ...volumeBinds]), hostBinds };
}

/**
 * Makes the missing host folders of `-v /host/path:/p` binds (Docker makes them at start; a
 * `--mount type=bind` source must exist). Under `--userns-remap` every folder made belongs to the
 * daemon's remapped root, as dockerd's MkdirAllAndChownNew, so the container's root can use it.
 */
export async function makeBindSources(ctx: EngineContext, hostBinds: readonly BindSpec[]): Promise<void> {
  const owner = volumeOwner(ctx);
  for (const b of hostBinds) {
    if (existsSync(b.source)) continue;
    const first = await mkdir(b.source, { recursive: true, mode: 0o755 });
    if (!owner || first === undefined) continue;
    for (let path = b.source; ; path = dirname(path)) {
      await chown(path, owner.uid, owner.gid);
      if (path === first || path === dirname(path)) break;
    }
  }
}

/** What `--volumes-from REF` takes from a container of the state: its volumes and its host binds. */
export function volumesOfContainer(ctx: EngineContext, ref: string): { volumes: readonly ContainerVolume[]; binds: readonly string[] } {
  const c = findContainer(ctx.state(), ref);
  const binds = [
    ...(c.hostConfig.Binds ?? []),
    ...(c.hostConfig.Mounts ?? []).filter((m) => m.Type === 'bind').map((m) => `${m.Source}:${m.Target}${m.ReadOnly ? ':ro' : ''}`),
  ];
  return { volumes: c.volumes, binds };
}

/**
 * Makes the planned volumes that do not exist yet (anonymous ones, and named ones on first use:
 * each with copy-up from the image unless nocopy), fills an existing one that no container has
 * mounted yet and that is still empty (copy-up at its first mount, unless nocopy), and runs `record` (the append of
 * ContainerCreated) while holding the lock of every named volume, so a `volume rm` cannot slip in
 * between. When `record` fails, the volumes made here are removed again.
 */
export async function withContainerVolumes(
  ctx: EngineContext, containerId: string, image: ImageState, planned: readonly PlannedVolume[], userns: IdMapping | null,
  record: (volumes: readonly ContainerVolume[]) => Promise<void>,
): Promise<void> {
  const named = [...new Set(planned.filter((p) => p.name !== '').map((p) => p.name))].sort();
  const made: string[] = [];
  const underLocks = async (i: number): Promise<void> => {
    if (i < named.length) {
      await ctx.serial(volumeLock(named[i]!), () => underLocks(i + 1));
      return;
    }
    const volumes: ContainerVolume[] = [];
    for (const p of planned) {
      const existing = p.name !== '' ? ctx.state().volumes[p.name] : undefined;
      if (existing && existing.status !== 'created') throw new ConflictError(`volume ${p.name} is being ${existing.status === 'creating' ? 'created' : 'removed'}: try again`);
      let name = p.name;
      if (!existing) {
        const { volume, created } = await createVolumeLocked(ctx, {
          name: p.name, driver: DEFAULT_VOLUME_DRIVER, labels: {}, options: {}, anonymous: p.anonymous, container: containerId,
          ...(p.noCopy ? {} : { copyUp: { image, path: p.destination, userns } }),
        });
        name = volume.name;
        if (created) made.push(name);
      } else if (!p.noCopy) {
        await copyUpAtFirstMount(ctx, name, containerId, image, p.destination, userns);
      }
      volumes.push({ name, destination: p.destination, readOnly: p.readOnly, anonymous: p.anonymous });
    }
    await record(volumes);
  };
  try {
    await underLocks(0);
  } catch (err) {
    for (const name of made) {
      await removeAnonymousVolume(ctx, name, containerId).catch((e: unknown) => ctx.logger.warn(`removing volume ${name} after a failed create: ${messageOf(e)}`));
    }
    throw err;
  }
}
