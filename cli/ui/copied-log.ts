import { Router } from '../../core/api/router.js';
import { MemoryHistory } from '../../core/api/ui-history.js';
import { registerUiRoutesOn } from '../../core/api/ui-routes.js';
import type { EventEnvelope } from '../../events/index.js';
import { readOfflineLog } from '../lib/offline-replay.js';

/**
 * The page's routes over a copied log (`ui --log FILE|DIR`, the same places `replay --log` reads),
 * read once, read-only, and held in memory with fold checkpoints: no daemon is involved.
 */
export async function copiedLogRouter(path: string, warn: (message: string) => void): Promise<{ router: Router; events: number }> {
  const events: EventEnvelope[] = [];
  for await (const e of readOfflineLog(path, undefined, warn)) events.push(e);
  const router = new Router();
  registerUiRoutesOn(router, new MemoryHistory(events));
  return { router, events: events.length };
}
