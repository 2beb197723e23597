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
  /** Drivers that only react to events (audit, metrics): no part in the start order. */
  reactor: 'reactor.v1',
} as const;

export type DriverKind = (typeof DriverKinds)[keyof typeof DriverKinds];

/**
 * The one place that says in which order drivers act when a container starts. Each step's driver
 * must succeed before the next runs; on failure the steps that ran are undone in reverse order.
 */
export const START_ORDER: readonly DriverKind[] = [
  DriverKinds.storage, // the rootfs (mount spec)
  DriverKinds.limiter, // the cgroups the process joins
  DriverKinds.network, // later: the network namespace wiring
  DriverKinds.log, // where output goes
  DriverKinds.isolator, // the process itself, last
];

export function kindOf(driverId: string): string {
  const m = /^([a-z]+\.v\d+)\./.exec(driverId);
  return m ? m[1]! : driverId;
}
