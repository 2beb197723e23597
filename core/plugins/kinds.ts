/**
 * Driver kinds, versioned. A driver's identity is `<kind>.<name>`, e.g. `storage.v1.overlayfs`.
 * Third-party plugins copy these strings; they never import engine internals.
 */
export const DriverKinds = {
  storage: 'storage.v1',
  limiter: 'limiter.v1',
  network: 'network.v1',
  log: 'log.v1',
  isolator: 'isolator.v1',
  exporter: 'exporter.v1',
  /** Image sources and sinks: registries (OCI Distribution API), mirrors, OCI layout folders. */
  distribution: 'distribution.v1',
  /** Volumes: named folders of data that outlive their containers, bound into them (volume create, -v NAME:/path). */
  volume: 'volume.v1',
  /** Drivers that only react to events (audit, metrics): no part in the start order. */
  reactor: 'reactor.v1',
} as const;

export type DriverKind = (typeof DriverKinds)[keyof typeof DriverKinds];

/**
 * The one place that says in which order drivers act when a container starts. Each step's driver
 * must succeed before the next runs; on failure the steps that ran are undone in reverse order.
 * Each step receives the outputs of the steps before it (core/engine/start-pipeline.ts types its
 * input as `KindsBefore<kind>`), so moving a kind ahead of one whose output it reads (the isolator
 * before the limiter, say) is a type error, not an empty cgroup list at run time.
 */
export const START_ORDER = [
  DriverKinds.storage, // the rootfs (mount spec)
  DriverKinds.limiter, // the cgroups the process joins
  DriverKinds.network, // later: the network namespace wiring
  DriverKinds.log, // where output goes
  DriverKinds.isolator, // the process itself, last
] as const;

/** The kinds that take part in starting a container. */
export type StartKind = (typeof START_ORDER)[number];

/** The kinds START_ORDER runs before K (whose outputs K's step may read). */
export type KindsBefore<K extends StartKind, Order extends readonly unknown[] = typeof START_ORDER, Seen = never> =
  Order extends readonly [infer Head, ...infer Rest] ? (Head extends K ? Seen : KindsBefore<K, Rest, Seen | Head>) : never;

export function kindOf(driverId: string): string {
  const m = /^([a-z]+\.v\d+)\./.exec(driverId);
  return m ? m[1]! : driverId;
}
