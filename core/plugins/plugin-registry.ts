import type {
  ChangeListingStorage, Driver, DriverContext, DriverStatus, ExporterDriver, IsolatorDriver, LimiterDriver, LogDriver, StorageCapabilities,
  StorageDriver,
} from './driver.js';
import type { DistributionDriver } from './distribution.js';
import type { NetworkDriver } from './network-driver.js';
import type { OnDemandVolumeDriver, VolumeCapabilities, VolumeDriver } from './volume-driver.js';
import { DriverKinds, kindOf, type DriverKind } from './kinds.js';

/** The interface a driver of each kind implements: what `registry.get(kind)` returns. */
export interface DriverOfKind {
  readonly 'storage.v1': StorageDriver;
  readonly 'limiter.v1': LimiterDriver;
  readonly 'network.v1': NetworkDriver;
  readonly 'log.v1': LogDriver;
  readonly 'isolator.v1': IsolatorDriver;
  readonly 'exporter.v1': ExporterDriver;
  readonly 'reactor.v1': Driver;
  readonly 'distribution.v1': DistributionDriver;
  readonly 'volume.v1': VolumeDriver;
}

type MethodsOf<T> = { [K in keyof T]-?: T[K] extends (...args: never[]) => unknown ? K : never }[keyof T];
type KindMethods = { readonly [K in DriverKind]: readonly Exclude<MethodsOf<DriverOfKind[K]>, MethodsOf<Driver>>[] };

/**
 * The methods each kind's interface requires beyond Driver's. A driver whose id names a kind is
 * checked against this list once, when it is registered, and marked "error" (naming what it lacks)
 * if it does not implement the kind: after that the engine calls it through the kind's interface.
 */
const KIND_METHODS: KindMethods = {
  [DriverKinds.storage]: ['applyLayer', 'hasLayer', 'removeLayer', 'prepare', 'diff', 'usage', 'mountReadOnly', 'remove', 'held'],
  [DriverKinds.limiter]: ['validate', 'create', 'paths', 'update', 'stats', 'oomKilled', 'freeze', 'thaw', 'pids', 'remove', 'held'],
  [DriverKinds.network]: ['ensureNetwork', 'removeNetwork', 'attach', 'detach', 'publish', 'unpublish', 'serveNames', 'list'],
  [DriverKinds.log]: ['validateOptions', 'open', 'read', 'remove', 'held'],
  [DriverKinds.isolator]: ['start', 'connect', 'isAlive', 'exitStatus', 'kill', 'exec', 'cleanup', 'held', 'endExec'],
  [DriverKinds.exporter]: ['exportDiff', 'exportTree'],
  [DriverKinds.reactor]: [],
  [DriverKinds.distribution]: ['pull', 'push', 'login', 'tags', 'resolve', 'configure'],
  [DriverKinds.volume]: ['validateOptions', 'create', 'remove', 'usage', 'held'],
};

/** For each capability of a kind: the values it takes, and the methods a driver declaring it (true) must have. */
type CapabilityRules<Capabilities, Capable> = {
  readonly [K in keyof Capabilities]-?: { readonly values: readonly Capabilities[K][]; readonly methods?: readonly MethodsOf<Capable>[] };
};
type AnyCapabilityRules = Readonly<Record<string, { readonly values: readonly unknown[]; readonly methods?: readonly string[] }>>;

const STORAGE_CAPABILITIES: CapabilityRules<StorageCapabilities, ChangeListingStorage> = {
  rootfs: { values: ['mount', 'memory'] },
  changes: { values: [true, false], methods: ['changes'] },
};
const VOLUME_CAPABILITIES: CapabilityRules<VolumeCapabilities, OnDemandVolumeDriver> = {
  onDemandMounts: { values: [true, false], methods: ['mountsOnDemand', 'mount', 'unmount', 'mounted'] },
};

/**
 * The kinds whose drivers declare a `capabilities` object (one typed object, checked here once):
 * the engine then branches on what is declared (listsChanges, hasOnDemandMounts), never on
 * whether an optional method is there.
 */
const KIND_CAPABILITIES: { readonly [K in DriverKind]?: AnyCapabilityRules } = {
  [DriverKinds.storage]: STORAGE_CAPABILITIES,
  [DriverKinds.volume]: VOLUME_CAPABILITIES,
};

function isKind(kind: string): kind is DriverKind {
  return Object.prototype.hasOwnProperty.call(KIND_METHODS, kind);
}

const shown = (value: unknown): string => JSON.stringify(value) ?? String(value);

/** What is wrong with the capabilities a driver of `kind` declares ("" when nothing). */
function capabilityProblem(kind: DriverKind, members: Readonly<Record<string, unknown>>): string {
  const rules = KIND_CAPABILITIES[kind];
  if (rules === undefined) return '';
  const names = Object.keys(rules);
  const declared = members.capabilities;
  if (typeof declared !== 'object' || declared === null) {
    return `it does not declare its ${kind} capabilities: add capabilities: {${names.join(', ')}}`;
  }
  const capabilities = declared as Readonly<Record<string, unknown>>;
  for (const name of names) {
    const rule = rules[name]!;
    const value = capabilities[name];
    if (!rule.values.includes(value)) {
      return `its ${kind} capability ${name} is ${shown(value)}: it takes ${rule.values.map(shown).join(' or ')}`;
    }
    const lacking = value === true ? (rule.methods ?? []).filter((m) => typeof members[m] !== 'function') : [];
    if (lacking.length > 0) return `it declares the ${kind} capability ${name} without implementing ${lacking.join(', ')}`;
  }
  const unknown = Object.keys(capabilities).filter((k) => !names.includes(k));
  return unknown.length === 0 ? '' : `it declares ${unknown.join(', ')}, which ${kind} does not know (its capabilities: ${names.join(', ')})`;
}

/**
 * What a driver lacks of its kind's interface ("" when nothing): a method, or its capabilities (a
 * value the kind does not take, a capability declared without its methods). Checked once at registration.
 */
export function missingKindMethods(driver: Driver): string {
  const kind = kindOf(driver.id);
  if (!isKind(kind)) return `its kind ${kind} is not one of ${Object.keys(KIND_METHODS).join(', ')}`;
  const members = driver as unknown as Readonly<Record<string, unknown>>;
  const missing = KIND_METHODS[kind].filter((m) => typeof members[m] !== 'function');
  if (missing.length > 0) return `it does not implement ${kind}: ${missing.join(', ')} missing`;
  return capabilityProblem(kind, members);
}

/**
 * The capabilities of a storage.v1 or volume.v1 driver written for those kinds' first interface,
 * which declared none (a storage driver had a `rootfs` property and maybe `changes`; a volume
 * driver maybe the on-demand mount methods): as that interface implied them from the driver's
 * shape, so such a driver keeps working. Undefined when the driver declares `capabilities`, its
 * kind has none, or it is not of that shape either (a storage driver without `rootfs`).
 */
export function impliedCapabilities(driver: Driver): StorageCapabilities | VolumeCapabilities | undefined {
  const members = driver as unknown as Readonly<Record<string, unknown>>;
  if (members.capabilities !== undefined) return undefined;
  switch (kindOf(driver.id)) {
    case DriverKinds.storage: {
      const rootfs = members.rootfs;
      if (rootfs !== 'mount' && rootfs !== 'memory') return undefined;
      return { rootfs, changes: typeof members.changes === 'function' };
    }
    case DriverKinds.volume:
      return { onDemandMounts: (VOLUME_CAPABILITIES.onDemandMounts.methods ?? []).every((m) => typeof members[m] === 'function') };
    default:
      return undefined;
  }
}

/**
 * Gives a driver of the first storage.v1/volume.v1 interface the capabilities its shape implied
 * (impliedCapabilities) as its own `capabilities` property, with one warning naming it; true when it did.
 */
function adoptImpliedCapabilities(driver: Driver, warn: (message: string) => void): boolean {
  const implied = impliedCapabilities(driver);
  if (implied === undefined) return false;
  try {
    Object.defineProperty(driver, 'capabilities', { value: implied, enumerable: true });
  } catch {
    return false; // a frozen driver: the registration check says it declares none
  }
  warn(`driver ${driver.id} declares no capabilities (it was written for ${kindOf(driver.id)}'s first interface): `
    + `taken from its shape as ${JSON.stringify(implied)}; declare them (docs/writing-a-driver.md, section 1)`);
  return true;
}

export interface RegisteredDriver {
  readonly driver: Driver;
  /** The plugin package that contributed it, e.g. "@tiny-docker/storage-overlayfs". */
  readonly packageName: string;
}

export interface DriverRecord extends RegisteredDriver {
  readonly status: 'ok' | 'skipped' | 'error';
  readonly reason?: string;
}

/** A plugin package that could not be imported or bound no driver: listed by `info` and `plugins` with why. */
export interface PluginLoadFailure {
  readonly packageName: string;
  readonly reason: string;
}

/** One line of `info`/`plugins`: a driver with its status, or a package that failed to load. */
export interface PluginListing {
  /** The driver id, or `(package)` for a package that failed to load before it contributed one. */
  readonly id: string;
  readonly package: string;
  readonly status: 'ok' | 'skipped' | 'error';
  readonly reason?: string;
}

/** No usable driver of a kind: a conflict with the host's state (the API answers 409). */
export class DriverUnavailableError extends Error {
  readonly status = 409;
  constructor(message: string) {
    super(message);
    this.name = 'DriverUnavailableError';
  }
}

export class PluginGraphError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PluginGraphError';
  }
}

/**
 * Orders drivers so that each comes after what it `requires` (a driver id, or a kind meaning
 * every driver of that kind). Refuses duplicate ids and cycles, naming them.
 */
export function orderDrivers(drivers: readonly RegisteredDriver[]): RegisteredDriver[] {
  const byId = new Map<string, RegisteredDriver>();
  for (const d of drivers) {
    const other = byId.get(d.driver.id);
    if (other) {
      throw new PluginGraphError(`driver ${d.driver.id} is registered twice (by ${other.packageName} and ${d.packageName}): uninstall one of them`);
    }
    byId.set(d.driver.id, d);
  }
  const deps = (d: RegisteredDriver): RegisteredDriver[] =>
    (d.driver.requires ?? []).flatMap((r) => {
      const exact = byId.get(r);
      if (exact) return [exact];
      return drivers.filter((x) => kindOf(x.driver.id) === r && x !== d);
    });
  const ordered: RegisteredDriver[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (d: RegisteredDriver, path: readonly string[]): void => {
    const s = state.get(d.driver.id);
    if (s === 'done') return;
    if (s === 'visiting') throw new PluginGraphError(`plugin requirements form a cycle: ${[...path, d.driver.id].join(' -> ')}`);
    state.set(d.driver.id, 'visiting');
    for (const dep of deps(d)) visit(dep, [...path, d.driver.id]);
    state.set(d.driver.id, 'done');
    ordered.push(d);
  };
  for (const d of [...drivers].sort((a, b) => a.driver.id.localeCompare(b.driver.id))) visit(d, []);
  return ordered;
}

/**
 * Holds every driver with its status after init: ok, skipped (the host lacks something; with the
 * reason) or error (init threw). Lookups by kind return only drivers that are ok.
 */
export class PluginRegistry {
  private records: DriverRecord[] = [];
  private failures: PluginLoadFailure[] = [];

  /** `warn`: where a driver registered with implied capabilities (impliedCapabilities) is named (the daemon's log). */
  constructor(private readonly warn: (message: string) => void = () => undefined) {}

  /**
   * Initialises drivers in dependency order; a driver whose requirement is not ok is skipped.
   * Called again (plugins reload), it initialises only the new drivers, after those already known,
   * and returns their records; a new driver whose id is taken is refused as a duplicate.
   */
  async initialise(drivers: readonly RegisteredDriver[], contextFor: (d: Driver) => Promise<DriverContext>): Promise<readonly DriverRecord[]> {
    for (const d of drivers) {
      const known = this.records.find((r) => r.driver.id === d.driver.id);
      if (known) throw new PluginGraphError(`driver ${d.driver.id} is registered twice (by ${known.packageName} and ${d.packageName}): uninstall one of them`);
    }
    const ordered = orderDrivers(drivers);
    const records: DriverRecord[] = [];
    const statusOf = (id: string): DriverRecord | undefined => records.find((r) => r.driver.id === id) ?? this.records.find((r) => r.driver.id === id);
    for (const d of ordered) {
      const missing = (d.driver.requires ?? []).find((req) => {
        const exact = statusOf(req);
        if (exact) return exact.status !== 'ok';
        const ofKind = [...this.records, ...records].filter((r) => kindOf(r.driver.id) === req);
        return ofKind.length === 0 || ofKind.every((r) => r.status !== 'ok');
      });
      if (missing) {
        records.push({ ...d, status: 'skipped', reason: `requires ${missing}, which is not available` });
        continue;
      }
      adoptImpliedCapabilities(d.driver, this.warn);
      const lacking = missingKindMethods(d.driver);
      if (lacking !== '') {
        records.push({ ...d, status: 'error', reason: lacking });
        continue;
      }
      let result: DriverStatus;
      try {
        result = await d.driver.init(await contextFor(d.driver));
      } catch (err) {
        records.push({ ...d, status: 'error', reason: err instanceof Error ? err.message : String(err) });
        continue;
      }
      records.push(result.status === 'ok' ? { ...d, status: 'ok' } : { ...d, status: 'skipped', reason: result.reason });
    }
    this.records = [...this.records, ...records];
    return records;
  }

  /** Remembers packages that failed to load, so `info`, `plugins` and missing-driver errors can say why. */
  recordLoadFailures(failures: readonly PluginLoadFailure[]): void {
    for (const f of failures) {
      this.failures = [...this.failures.filter((x) => x.packageName !== f.packageName), f];
    }
  }

  /** Drops a package's failure once it loaded (a reload after the author fixed it). */
  clearLoadFailure(packageName: string): void {
    this.failures = this.failures.filter((f) => f.packageName !== packageName);
  }

  all(): readonly DriverRecord[] {
    return this.records;
  }

  /** Every driver with its status, then every package that failed to load (status error, with why). */
  listing(): readonly PluginListing[] {
    return [
      ...this.records.map((r) => ({ id: r.driver.id, package: r.packageName, status: r.status, ...(r.reason ? { reason: r.reason } : {}) })),
      ...this.failures.map((f) => ({ id: '(package)', package: f.packageName, status: 'error' as const, reason: `failed to load: ${f.reason}` })),
    ];
  }

  /**
   * Why no driver of a kind is usable, for the errors that name a missing driver: each driver of
   * the kind with its status and reason, and every package that failed to load (it may have been
   * meant to provide it).
   */
  whyMissing(kind: string): string {
    const recs = this.records.filter((r) => kindOf(r.driver.id) === kind);
    const parts = recs.map((r) => `${r.driver.id} ${r.status}${r.reason ? ` (${r.reason})` : ''}`);
    if (parts.length === 0) parts.push(`no ${kind} driver is installed`);
    for (const f of this.failures) parts.push(`plugin package ${f.packageName} failed to load (${f.reason})`);
    return parts.join('; ');
  }


  /**
   * Every ok driver of a kind, typed as the kind's interface (checked when it was registered). A
   * driver's id says its kind, so this is the one place the engine turns a Driver into its kind.
   */
  allOf<K extends DriverKind>(kind: K): DriverOfKind[K][] {
    return this.records
      .filter((r) => r.status === 'ok' && kindOf(r.driver.id) === kind)
      .map((r) => r.driver as DriverOfKind[K]);
  }

  /**
   * The driver of a kind for work that cannot do without it; when none is ok, an error (409) that
   * says why, driver by driver and package by package (whyMissing).
   */
  require<K extends DriverKind>(kind: K): DriverOfKind[K] {
    const d = this.get(kind);
    if (!d) throw new DriverUnavailableError(`no ${kind} driver is available: ${this.whyMissing(kind)}`);
    return d;
  }

  /** The one driver of a kind to use: the preferred id if given and ok, else the first ok one. */
  get<K extends DriverKind>(kind: K, preferred?: string): DriverOfKind[K] | undefined {
    const ok = this.allOf(kind);
    return (preferred ? ok.find((d) => d.id === preferred) : undefined) ?? ok[0];
  }

  okDrivers(): readonly Driver[] {
    return this.records.filter((r) => r.status === 'ok').map((r) => r.driver);
  }
}
