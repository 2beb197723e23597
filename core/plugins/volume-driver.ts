import type { Driver } from './driver.js';

// ---------------------------------------------------------------------------------------------
// volume.v1: data that outlives its container.
// ---------------------------------------------------------------------------------------------

/** What a driver made for a volume: the host folder containers bind (Docker's `Mountpoint`). */
export interface CreatedVolume {
  readonly mountpoint: string;
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
  /** Makes the volume on the host (nothing else may exist in its place); idempotent. */
  create(name: string, options: Readonly<Record<string, string>>): Promise<CreatedVolume>;
  /** Deletes what `create` made; a no-op when it is not there. */
  remove(name: string): Promise<void>;
  usage(name: string): Promise<VolumeUsage>;
  /** Names of the volumes it keeps (recovery: one the log does not account for is removed). */
  held(): Promise<readonly string[]>;
}
