/**
 * What every volume command takes from the engine (volume-service.ts, volume-copy-up.ts,
 * volume-mounts.ts, container-volumes.ts): the name of a volume's lock, the driver a volume names,
 * and who owns a new volume's root.
 */
import { DriverKinds } from '../plugins/kinds.js';
import type { VolumeDriver, VolumeOwner } from '../plugins/volume-driver.js';
import type { EngineContext } from './engine-context.js';
import { NotFoundError } from './errors.js';

/** The lock of a volume's name (`ctx.serial`): one command at a time per volume. */
export function volumeLock(name: string): string {
  return `volume:${name}`;
}

/** The driver `--driver NAME` selects ("local"). */
export function volumeDriver(ctx: EngineContext, name: string): VolumeDriver {
  const d = ctx.registry.allOf(DriverKinds.volume).find((x) => x.name === name);
  if (!d) throw new NotFoundError(`error looking up volume plugin ${name}: plugin "${name}" not found (${ctx.registry.whyMissing(DriverKinds.volume)})`);
  return d;
}

/**
 * Who owns a new volume's root: under `--userns-remap`, the daemon's remapped root (as dockerd's
 * root identity), so a remapped container's root can write into it; otherwise the host's root.
 */
export function volumeOwner(ctx: EngineContext): VolumeOwner | undefined {
  const remap = ctx.infoBase.usernsRemap;
  return remap ? { uid: remap.uid, gid: remap.gid } : undefined;
}
