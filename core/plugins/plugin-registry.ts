import type { Driver, DriverContext, DriverStatus } from './driver.js';
import { kindOf } from './kinds.js';

export interface RegisteredDriver {
  readonly driver: Driver;
  /** The plugin package that contributed it, e.g. "@tiny-docker/storage-overlayfs". */
  readonly packageName: string;
}

export interface DriverRecord extends RegisteredDriver {
  readonly status: 'ok' | 'skipped' | 'error';
  readonly reason?: string;
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

  /** Initialises drivers in dependency order; a driver whose requirement is not ok is skipped. */
  async initialise(drivers: readonly RegisteredDriver[], contextFor: (d: Driver) => Promise<DriverContext>): Promise<readonly DriverRecord[]> {
    const ordered = orderDrivers(drivers);
    const records: DriverRecord[] = [];
    const statusOf = (id: string): DriverRecord | undefined => records.find((r) => r.driver.id === id);
    for (const d of ordered) {
      const missing = (d.driver.requires ?? []).find((req) => {
        const exact = statusOf(req);
        if (exact) return exact.status !== 'ok';
        const ofKind = records.filter((r) => kindOf(r.driver.id) === req);
        return ofKind.length === 0 || ofKind.every((r) => r.status !== 'ok');
      });
      if (missing) {
        records.push({ ...d, status: 'skipped', reason: `requires ${missing}, which is not available` });
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
    this.records = records;
    return records;
  }

  all(): readonly DriverRecord[] {
    return this.records;
  }

  /** Drivers of a kind that are ok, in init order. */
  ofKind<T extends Driver>(kind: string, guard: (d: Driver) => d is T): T[] {
    return this.records
      .filter((r) => r.status === 'ok' && kindOf(r.driver.id) === kind)
      .map((r) => r.driver)
      .filter(guard);
  }

  /** The one driver of a kind to use: the preferred id if given and ok, else the first ok one. */
  pick<T extends Driver>(kind: string, guard: (d: Driver) => d is T, preferred?: string): T | undefined {
    const ok = this.ofKind(kind, guard);
    return (preferred ? ok.find((d) => d.id === preferred) : undefined) ?? ok[0];
  }

  okDrivers(): readonly Driver[] {
    return this.records.filter((r) => r.status === 'ok').map((r) => r.driver);
  }
}
