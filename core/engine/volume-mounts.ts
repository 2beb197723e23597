import { DriverKinds } from '../plugins/kinds.js';
import { hasOnDemandMounts, mountedOnDemand, type OnDemandVolumeDriver } from '../plugins/volume-driver.js';
import type { EngineState } from '../state/engine-state.js';
import type { EngineContext } from './engine-context.js';
import { messageOf } from './engine-context.js';
import { volumeDriver, volumeLock, volumeOwner } from './volume-context.js';

/**
 * Volumes that exist only while mounted (the local driver's tmpfs and block-device volumes; a
 * driver declares `capabilities.onDemandMounts` and says which by `mountsOnDemand`): mounted before the first container that uses one starts,
 * unmounted when the last of them has stopped, as Docker's local driver counts its users. Nothing
 * of this is recorded: who holds a volume is a fold of the log (the containers that list it and
 * run, are paused, or are starting), and what is mounted is the kernel's mount table (the driver's
 * `mounted`), so after a crash recovery unmounts what no running container holds. Every decision
 * is taken under the volume's lock (`volume:<name>`), after the container's own.
 */

/** The containers (other than `except`) that hold a volume's mount: those using it that run, are paused, or are starting. */
export function volumeHolders(state: EngineState, name: string, except?: string): string[] {
  return Object.values(state.containers)
    .filter((c) => c.id !== except && c.volumes.some((v) => v.name === name))
    .filter((c) => c.status === 'running' || c.status === 'paused' || c.starting)
    .map((c) => c.id)
    .sort();
}

/**
 * The on-demand volumes a container uses, by name (once each). A volume whose driver this daemon
 * does not have fails the lookup (a start: *error looking up volume plugin*), or with `skipMissing`
 * (a release) is left out: no driver of this daemon mounted it.
 */
function onDemandVolumesOf(ctx: EngineContext, containerId: string, skipMissing = false): string[] {
  const state = ctx.state();
  const c = state.containers[containerId];
  if (!c) return [];
  const names = [...new Set(c.volumes.map((v) => v.name))];
  return names.filter((name) => {
    const v = state.volumes[name];
    if (v === undefined) return false;
    if (skipMissing && !ctx.registry.allOf(DriverKinds.volume).some((d) => d.name === v.driver)) return false;
    return mountedOnDemand(volumeDriver(ctx, v.driver), v.options);
  }).sort();
}

/** The driver of an on-demand volume: one that declared the capability (onDemandVolumesOf chose the volume by it). */
function onDemandDriver(ctx: EngineContext, name: string, driverName: string): OnDemandVolumeDriver {
  const driver = volumeDriver(ctx, driverName);
  if (!hasOnDemandMounts(driver)) throw new Error(`volume ${name}: its driver ${driver.id} does not mount volumes on demand`);
  return driver;
}

/** Mounts the container's on-demand volumes that are not mounted yet (a start, a `cp` into a stopped container). */
export async function mountContainerVolumes(ctx: EngineContext, containerId: string): Promise<void> {
  for (const name of onDemandVolumesOf(ctx, containerId)) {
    await ctx.serial(volumeLock(name), async () => {
      const v = ctx.state().volumes[name];
      if (v?.status !== 'created') throw new Error(`volume ${name} of the container is gone: create the container again`);
      const driver = onDemandDriver(ctx, name, v.driver);
      try {
        await driver.mount(name, v.options, volumeOwner(ctx));
      } catch (err) {
        throw new Error(`error while mounting volume ${name}: ${messageOf(err)}`);
      }
    });
  }
}

/** Unmounts the container's on-demand volumes that no other container holds (after its exit, a failed start, a `cp`). */
export async function releaseContainerVolumes(ctx: EngineContext, containerId: string): Promise<void> {
  for (const name of onDemandVolumesOf(ctx, containerId, true)) {
    await ctx.serial(volumeLock(name), async () => {
      if (volumeHolders(ctx.state(), name, containerId).length > 0) return;
      const v = ctx.state().volumes[name];
      if (!v) return;
      await onDemandDriver(ctx, name, v.driver).unmount(name);
    }).catch((e: unknown) => ctx.logger.warn(`unmounting volume ${name} failed: ${messageOf(e)}`));
  }
}

/**
 * At daemon start, after the containers are reconciled: every volume a driver has mounted that no
 * running (or starting) container holds, or that the log does not know, is unmounted, with a warning.
 */
export async function recoverVolumeMounts(ctx: EngineContext): Promise<void> {
  for (const driver of ctx.registry.allOf(DriverKinds.volume).filter(hasOnDemandMounts)) {
    for (const name of await driver.mounted()) {
      await ctx.serial(volumeLock(name), async () => {
        if (ctx.state().volumes[name] && volumeHolders(ctx.state(), name).length > 0) return;
        ctx.logger.warn(`${driver.id}: volume ${name} is mounted and no running container uses it: unmounting it`);
        await driver.unmount(name);
      });
    }
  }
}
