import type { Driver } from './driver.js';

// ---------------------------------------------------------------------------------------------
// volume.v1: data that outlives its container.
// ---------------------------------------------------------------------------------------------

/** What a driver made for a volume: the host folder containers bind (Docker's `Mountpoint`). */
export interface CreatedVolume {
  readonly mountpoint: string;
}

/** The owner of a volume's root folder. */
export interface VolumeOwner {
  readonly uid: number;
  readonly gid: number;
}

/** The disk a volume takes, for `system df` (-1 when the driver cannot tell, as Docker's UsageData). */
export interface VolumeUsage {
  readonly size: number;
}

/**
 * Keeps volumes: named folders of data that outlive the containers that mount them. The engine
 * records which volumes exist, their labels and options, and which containers use them (the event
 * log is the only record); the driver only makes, measures and removes what is on the host. A
 * volume reaches a container as a bind of its `mountpoint` (the isolator's BindSpec), so a driver
 * needs no part in starting a container.
 *
 * `name` is what `volume create --driver NAME` selects ("local"). Every method is idempotent: a
 * daemon that died midway calls `create` or `remove` again (core/engine/volume-service.ts).
 *
 * Example: `validateOptions({type: "none", o: "bind", device: "/srv/data"})` accepts a bind of
 * a host folder; `create("data", {})` makes `<stateDir>/data/_data` and returns it as the
 * mountpoint; `usage("data")` sums its files' bytes; `held()` lists "data"; `remove("data")`
 * deletes `<stateDir>/data` (never the device of a bind volume).
 */
export interface VolumeDriver extends Driver {
  readonly name: string;
  /** Checks `--opt` values for this driver; throws a one-line message naming what is wrong. */
  validateOptions(options: Readonly<Record<string, string>>): void;
  /**
   * Makes the volume on the host (nothing else may exist in its place); idempotent. `owner`: who
   * owns a new volume's root folder (the daemon's remapped root under `--userns-remap`; absent:
   * the host's root); a folder of the user's (a bind volume's device) is left as it is.
   */
  create(name: string, options: Readonly<Record<string, string>>, owner?: VolumeOwner): Promise<CreatedVolume>;
  /** Deletes what `create` made; a no-op when it is not there. */
  remove(name: string): Promise<void>;
  usage(name: string): Promise<VolumeUsage>;
  /** Names of the volumes it keeps (recovery: one the log does not account for is removed). */
  held(): Promise<readonly string[]>;
  /** What it declares it can do; the registry checks it once, when the driver is registered. */
  readonly capabilities: VolumeCapabilities;
}

/**
 * A volume driver's capabilities: one object the driver declares and the registry checks once at
 * registration (a capability declared without its methods makes the driver an error); the engine
 * branches on the declaration (`hasOnDemandMounts`), never on whether a method is there.
 */
export interface VolumeCapabilities {
  /**
   * Some of its volumes exist only while mounted (a tmpfs, a block device: Docker's local driver
   * with `--opt type=`): it implements `mountsOnDemand`, `mount`, `unmount` and `mounted`
   * (OnDemandVolumeDriver). False: every volume is a folder that is always there.
   */
  readonly onDemandMounts: boolean;
}

/**
 * A volume driver that declared `capabilities.onDemandMounts`. `mountsOnDemand` says which options
 * make such a volume; the engine then calls `mount` before the first container that uses it
 * starts (and around a `cp` into a stopped one), and `unmount` when the last of them has stopped;
 * both idempotent. `mounted` lists what is mounted now (from the kernel's mount table), so
 * recovery can unmount what no running container uses.
 */
export interface OnDemandVolumeDriver extends VolumeDriver {
  mountsOnDemand(options: Readonly<Record<string, string>>): boolean;
  mount(name: string, options: Readonly<Record<string, string>>, owner?: VolumeOwner): Promise<void>;
  unmount(name: string): Promise<void>;
  mounted(): Promise<readonly string[]>;
}

/** Whether the driver declared volumes mounted on demand (and so, being registered, has their four methods). */
export function hasOnDemandMounts(driver: VolumeDriver): driver is OnDemandVolumeDriver {
  return driver.capabilities.onDemandMounts;
}

/** Whether a volume with these options exists only while mounted: the driver declared the capability and says so of them. */
export function mountedOnDemand(driver: VolumeDriver, options: Readonly<Record<string, string>>): boolean {
  return hasOnDemandMounts(driver) && driver.mountsOnDemand(options);
}
