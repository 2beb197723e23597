import type { Logger } from '../plugins/logger.js';
import type { ContainerEngine } from './container-engine.js';
import type { EventStore } from './event-store.js';
import { DAEMON_STREAM } from '../../events/index.js';
import { nowRfc3339Nano } from './process-hub.js';

/**
 * Brings the fold in line with reality after a daemon start: a container the log says is running
 * is reattached when its shim is alive; if it exited while the daemon was down, its true exit
 * code and time are read from the shim's exit file and recorded. Then DaemonReconciled is appended,
 * and the containers whose restart policy says so are started.
 */
export async function reconcile(engine: ContainerEngine, store: EventStore, logger: Logger): Promise<{ running: string[]; exited: string[] }> {
  const running: string[] = [];
  const exited: string[] = [];
  const isolator = engine.isolatorDriver();
  for (const c of Object.values(store.state().containers)) {
    if (c.status !== 'running' && c.status !== 'paused') continue;
    try {
      if (isolator.isAlive(c.id, c.shimPid)) {
        await engine.reattach(c.id);
        running.push(c.id);
        continue;
      }
      const status = await isolator.exitStatus(c.id);
      if (status) {
        await engine.recordExitWhileDown(c.id, status);
      } else {
        logger.warn(`container ${c.id.slice(0, 12)}: its shim (pid ${c.shimPid}) is gone and left no exit status; recording exit code 255`);
        await engine.recordExitWhileDown(c.id, { exitCode: 255, signal: null, oomKilled: false, finishedAt: nowRfc3339Nano() });
      }
      exited.push(c.id);
    } catch (err) {
      logger.error(`reconciling container ${c.id.slice(0, 12)} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  await store.append(DAEMON_STREAM, [{ type: 'DaemonReconciled', data: { running, exited } }], 'any');
  // Then the restart policies: a container that was restarting, or one with "always" (and
  // "unless-stopped" unless it was stopped on request) that is not running, starts now.
  const restarted = await engine.startByPolicy();
  if (restarted.length > 0) logger.info(`started by their restart policy: ${restarted.map((id) => id.slice(0, 12)).join(', ')}`);
  return { running, exited };
}
