/**
 * The core pieces `replay` needs beyond the API: the read-only file log reader and the fold.
 * Kept in this one module (and loaded with a dynamic import) so commands that do not replay
 * never load them.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { EventEnvelope } from '../../events/index.js';
import { FileEventLog } from '../../core/eventlog/file-event-log.js';
import { evolve, initialState } from '../../core/state/evolve.js';

export { evolve, initialState };

/**
 * Where the log is, given `--log`: the log file itself, its directory (`…/events`), or a whole
 * data root (then `<root>/events`).
 */
export function logLocation(path: string): string {
  if (existsSync(path) && statSync(path).isDirectory()) {
    const nested = join(path, 'events');
    if (!existsSync(join(path, FileEventLog.FILE_NAME)) && existsSync(join(nested, FileEventLog.FILE_NAME))) return nested;
  }
  return path;
}

/**
 * Reads a copied log directly, read-only (no lock, nothing written; a torn tail is skipped with
 * a warning), up to `untilPosition` if given. No daemon is involved.
 */
export async function* readOfflineLog(path: string, untilPosition: number | undefined, warn: (message: string) => void): AsyncGenerator<EventEnvelope> {
  const location = logLocation(path);
  if (!existsSync(location)) throw new Error(`no event log at ${path}`);
  const log = new FileEventLog(location, { readOnly: true, warn });
  await log.open();
  try {
    yield* log.read(untilPosition === undefined ? {} : { until: untilPosition });
  } finally {
    await log.close();
  }
}
