import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileEventLog } from '../../core/eventlog/file-event-log.js';
import { MemoryEventLog } from '../../core/eventlog/memory-event-log.js';
import type { EventLog } from '../../core/eventlog/event-log.js';
import { eventLogConformance } from './event-log-conformance.js';

eventLogConformance('MemoryEventLog', async () => {
  const log = new MemoryEventLog();
  await log.open();
  return { log, dispose: () => log.close() };
});

eventLogConformance('FileEventLog', async () => {
  const directory = await mkdtemp(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'event-log-'));
  let log: EventLog = new FileEventLog(join(directory, 'events'));
  await log.open();
  return {
    get log() {
      return log;
    },
    async reopen() {
      await log.close();
      log = new FileEventLog(join(directory, 'events'));
      await log.open();
      return log;
    },
    async dispose() {
      await log.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
});
