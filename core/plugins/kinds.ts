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
 * The one place that says in which order drivers act when a container starts: stages, one after
 * the other; the kinds of one stage run at the same time (none of them reads another's output),
 * and a stage starts once every kind of the one before has succeeded. When a step fails, the
 * steps that succeeded are undone in reverse order. Each step receives the outputs of the kinds
 * of the stages before its own (core/engine/start-pipeline.ts types its input as
 * `KindsBefore<kind>`), so putting a kind in the same stage as one whose output it reads, or
 * ahead of it (the isolator with or before the limiter, say), is a type error, not an empty
 * cgroup list at run time.
 */
export const START_ORDER = [
  // The writable layer's mount spec, the cgroups, the addresses, ports and /etc files, the log
  // writer: independent of each other, so made together.
  [DriverKinds.storage, DriverKinds.limiter, DriverKinds.network, DriverKinds.log],
  // The process itself, last: it needs all of them (its network is wired at the shim's hold).
  [DriverKinds.isolator],
] as const;

/** The kinds that take part in starting a container. */
export type StartKind = (typeof START_ORDER)[number][number];

/** The kinds of the stages START_ORDER runs before K's (whose outputs K's step may read). */
export type KindsBefore<K extends StartKind, Order extends readonly (readonly unknown[])[] = typeof START_ORDER, Seen = never> =
  Order extends readonly [infer Stage extends readonly unknown[], ...infer Rest extends readonly (readonly unknown[])[]]
    ? (K extends Stage[number] ? Seen : KindsBefore<K, Rest, Seen | Stage[number]>)
    : never;

export function kindOf(driverId: string): string {
  const m = /^([a-z]+\.v\d+)\./.exec(driverId);
  return m ? m[1]! : driverId;
}
