import { join } from 'node:path';
import { readFile, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { Server as NetServer } from 'node:net';
import { Container } from 'inversify';
import { DAEMON_STREAM } from '../../events/index.js';
import { createApiServer } from '../api/api-server.js';
import { ContainerEngine } from '../engine/container-engine.js';
import { Engine } from '../engine/engine.js';
import { EventStore } from '../engine/event-store.js';
import { reconcile } from '../engine/reconciler.js';
import { StoreImageService } from '../engine/store-image-service.js';
import { DEFAULT_TRANSPORT, RegistryService } from '../engine/registry-service.js';
import { EventLog } from '../eventlog/event-log.js';
import { FileEventLog } from '../eventlog/file-event-log.js';
import { SnapshotStore } from '../eventlog/snapshot-store.js';
import { EventTimeIndex } from '../eventlog/time-index.js';
import { DEFAULT_STATS_HISTORY, StatsHistory } from '../stats/stats-history.js';
import { Logger } from '../plugins/logger.js';
import { PluginRegistry } from '../plugins/plugin-registry.js';
import { parseResolvConf } from '../network/container-files.js';
import { NetworkDriverOptions } from '../plugins/network-driver.js';
import { DaemonConfig, networkTableFor } from './daemon-config.js';
import { serveContainerNames } from '../engine/network-commands.js';
import { PluginHost } from './plugin-host.js';
import { closeTcp, listenTcp } from './tcp-listeners.js';
import { LISTEN_BACKLOG } from '../api/request-limits.js';

export interface RunningDaemon {
  readonly engine: ContainerEngine;
  stop(): Promise<void>;
}

function listen(server: Server, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ path: socketPath, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The host's IPv4 nameservers (/etc/resolv.conf): where the embedded resolver forwards when no --dns was given. */
async function hostNameservers(): Promise<string[]> {
  const text = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  return parseResolvConf(text).nameservers.filter((ip) => /^\d{1,3}(\.\d{1,3}){3}$/.test(ip));
}

/**
 * Wires the daemon: the event log (durable, locked to this daemon), the fold rebuilt from snapshot
 * + tail, the plugins (discovered, ordered by what they require, initialised: ok/skipped/error),
 * the engine, reconciliation with what happened while no daemon ran, then the API socket.
 */
export async function startDaemon(config: DaemonConfig, logger: Logger): Promise<RunningDaemon> {
  const container = new Container({ defaultScope: 'Singleton' });
  container.bind<DaemonConfig>(DaemonConfig).toConstantValue(config);
  container.bind<Logger>(Logger).toConstantValue(logger);

  const logDir = join(config.dataRoot, 'events');
  const log = new FileEventLog(logDir, { warn: (m) => logger.warn(`event log: ${m}`) });
  await log.open();
  container.bind<EventLog>(EventLog).toConstantValue(log);
  const timeIndex = new EventTimeIndex(logDir);
  await timeIndex.open(log, (m) => logger.warn(m));
  const store = new EventStore(log, new SnapshotStore(logDir, { warn: (m) => logger.warn(`snapshot: ${m}`) }), timeIndex);
  const loaded = await store.load((m) => logger.warn(m));
  container.bind(EventStore).toConstantValue(store);
  logger.info(`state rebuilt: ${loaded.eventsReplayed} events replayed${loaded.snapshotPosition !== null ? ` after the snapshot at ${loaded.snapshotPosition}` : ''}`);

  container.bind<NetworkDriverOptions>(NetworkDriverOptions).toConstantValue({
    table: networkTableFor(config.execRoot), upstreamDns: config.dns ?? (await hostNameservers()),
  });

  const registry = new PluginRegistry((m) => logger.warn(m));
  const plugins = new PluginHost(config, container, registry, store.events, logger);
  const records = await plugins.loadAll();
  container.bind(PluginRegistry).toConstantValue(registry);

  const images = new StoreImageService(store, registry, config, logger);
  const engine = new ContainerEngine(store, registry, images, logger, {
    id: config.dataRoot, version: config.version, dataRoot: config.dataRoot, execRoot: config.execRoot, usernsRemap: config.usernsRemap ?? null,
  });
  container.bind<Engine>(Engine).toConstantValue(engine);
  const registryService = new RegistryService(store, registry, config.dataRoot, config.registries ?? DEFAULT_TRANSPORT, logger, images.layers);
  registryService.start();

  const started = records.map((r) => ({ id: r.driver.id, status: r.status, ...(r.reason ? { reason: r.reason } : {}) }));
  await store.append(DAEMON_STREAM, [{ type: 'DaemonStarted', data: { pid: process.pid, version: config.version, plugins: started } }], 'any');
  await images.recover().catch((err: unknown) => logger.warn(`the image store's garbage collection failed: ${err instanceof Error ? err.message : String(err)}`));
  if (config.builtinBusybox) {
    await images.ensureBuiltins().catch((err: unknown) => logger.warn(`the default busybox image could not be made: ${err instanceof Error ? err.message : String(err)}`));
  }
  const reconciled = await reconcile(engine, store, logger);
  if (reconciled.running.length + reconciled.exited.length > 0) {
    logger.info(`reconciled: ${reconciled.running.length} reattached, ${reconciled.exited.length} exited while the daemon was down`);
  }
  serveContainerNames(engine.context);
  await engine.networks.start();

  const statsHistory = new StatsHistory(logDir, {
    running: () => Object.values(engine.state().containers).filter((c) => c.status === 'running').map((c) => c.id),
    stats: (id) => engine.stats(id),
  }, { ...DEFAULT_STATS_HISTORY, intervalMs: config.statsHistoryMs ?? DEFAULT_STATS_HISTORY.intervalMs }, (m) => logger.warn(m));
  await statsHistory.start();

  await rm(config.socketPath, { force: true });
  const server = createApiServer(engine, { version: config.version, logger, reloadPlugins: () => plugins.reload(), registry: registryService, statsHistory, networks: engine.networks });
  await listen(server, config.socketPath);
  const tcpServers: NetServer[] = [];
  try {
    for (const t of config.tcp ?? []) tcpServers.push(await listenTcp(server, t));
  } catch (err) {
    server.close();
    await statsHistory.stop();
    await closeTcp(tcpServers);
    await rm(config.socketPath, { force: true });
    throw err;
  }

  return {
    engine,
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closeTcp(tcpServers);
      await closed;
      await statsHistory.stop();
      await engine.shutdown();
      await store.append(DAEMON_STREAM, [{ type: 'DaemonStopped', data: { pid: process.pid } }], 'any').catch(() => undefined);
      await store.snapshot().catch((err: unknown) => logger.warn(`snapshot on shutdown failed: ${String(err)}`));
      await plugins.close();
      store.complete();
      await log.close();
      await rm(config.socketPath, { force: true });
    },
  };
}
