import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Container } from 'inversify';
import { concatMap, type Observable, type Subscription } from 'rxjs';
import type { EventEnvelope } from '../../events/index.js';
import type { PluginReloadResult } from '../api/route-support.js';
import type { Driver, DriverContext } from '../plugins/driver.js';
import type { Logger } from '../plugins/logger.js';
import { discoverPlugins, loadDrivers, type PluginPackage } from '../plugins/plugin-loader.js';
import type { DriverRecord, PluginRegistry } from '../plugins/plugin-registry.js';
import type { DaemonConfig } from './daemon-config.js';

/**
 * The daemon's side of plugins: finds the packages (built-ins and the CLI's installed or linked
 * ones), loads each into its own child container, initialises the drivers in the order they
 * require, and feeds every ok driver that has `onEvent` the stored events, in order. `reload()`
 * does the same for packages installed since (a package already loaded is not loaded again:
 * an ES module cannot be unloaded, so a changed package needs a daemon restart).
 */
export class PluginHost {
  private readonly subscriptions: Subscription[] = [];
  private reloads = 0;

  constructor(
    private readonly config: DaemonConfig,
    private readonly root: Container,
    private readonly registry: PluginRegistry,
    private readonly events: Observable<EventEnvelope>,
    private readonly logger: Logger,
  ) {}

  /** Loads every package found; returns the records of the drivers it initialised. */
  async loadAll(): Promise<readonly DriverRecord[]> {
    // At start, duplicates and cycles stop the daemon (naming them), as design.md asks.
    return (await this.load(await discoverPlugins(this.config.packageRoot), { refuseGraphErrors: true })).records;
  }

  /** Loads the packages that are new since the last load (or that failed then and may be fixed now). */
  async reload(): Promise<PluginReloadResult> {
    const known = new Set(this.registry.all().map((r) => r.packageName));
    const fresh = (await discoverPlugins(this.config.packageRoot)).filter((p) => !known.has(p.name));
    // A package that failed before is imported under a new URL, so a fixed file is read again.
    this.reloads += 1;
    const tag = `?reload=${this.reloads}`;
    const { records, failures } = await this.load(fresh.map((p) => ({ ...p, moduleUrl: `${pathToFileURL(p.modulePath).href}${tag}` })));
    return {
      loaded: [...new Set(records.map((r) => r.packageName))],
      failed: failures.map((f) => ({ package: f.packageName, reason: f.reason })),
      plugins: this.registry.listing(),
    };
  }

  /** Stops delivering events and closes every ok driver. */
  async close(): Promise<void> {
    for (const s of this.subscriptions) s.unsubscribe();
    for (const d of this.registry.okDrivers()) await d.close?.().catch(() => undefined);
  }

  private async load(packages: readonly (PluginPackage & { moduleUrl?: string })[], options: { refuseGraphErrors?: boolean } = {}): Promise<{ records: readonly DriverRecord[]; failures: readonly { packageName: string; reason: string }[] }> {
    const { drivers, failures } = await loadDrivers(packages, this.root);
    for (const f of failures) this.logger.error(`plugin ${f.packageName} failed to load: ${f.reason}`);
    this.registry.recordLoadFailures(failures);
    let records: readonly DriverRecord[] = [];
    try {
      records = await this.registry.initialise(drivers, (d) => this.contextFor(d));
    } catch (err) {
      if (options.refuseGraphErrors) throw err;
      // Duplicates or cycles among the new packages: none of them is taken, the daemon serves on.
      const reason = err instanceof Error ? err.message : String(err);
      const refused = [...new Set(drivers.map((d) => d.packageName))].map((packageName) => ({ packageName, reason }));
      this.registry.recordLoadFailures(refused);
      for (const f of refused) this.logger.error(`plugin ${f.packageName} was not taken: ${reason}`);
      return { records: [], failures: [...failures, ...refused] };
    }
    for (const r of records) {
      this.registry.clearLoadFailure(r.packageName);
      const line = `driver ${r.driver.id} (${r.packageName}): ${r.status}${r.reason ? ` - ${r.reason}` : ''}`;
      if (r.status === 'error') this.logger.error(line);
      else this.logger.info(line);
      if (r.status === 'ok') this.subscribe(r.driver);
    }
    return { records, failures };
  }

  /** Every ok driver with onEvent sees each stored event once, in order, after the append. */
  private subscribe(d: Driver): void {
    if (!d.onEvent) return;
    const handler = d.onEvent.bind(d);
    this.subscriptions.push(this.events.pipe(concatMap(async (e) => {
      try {
        await handler(e);
      } catch (err) {
        this.logger.error(`driver ${d.id} failed on ${e.type} #${e.position}: ${err instanceof Error ? err.message : String(err)}`);
      }
    })).subscribe());
  }

  private async contextFor(d: Driver): Promise<DriverContext> {
    const stateDir = join(this.config.dataRoot, d.id);
    const runDir = join(this.config.execRoot, d.id);
    await mkdir(stateDir, { recursive: true, mode: 0o711 });
    await mkdir(runDir, { recursive: true, mode: 0o711 });
    const prefix = `[${d.id}] `;
    const logger = this.logger;
    return {
      dataRoot: this.config.dataRoot, execRoot: this.config.execRoot, stateDir, runDir,
      logger: { info: (m) => logger.info(prefix + m), warn: (m) => logger.warn(prefix + m), error: (m) => logger.error(prefix + m) },
    };
  }
}
