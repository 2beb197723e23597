/**
 * The in-memory drivers the engine's unit tests run on (test/memory-drivers.ts) pass the same
 * conformance suites as the real plugins: what the engine's handlers are tested against is what
 * a real driver does. Unit: nothing of the kernel.
 */
import { join } from 'node:path';
import { CommitExporter } from '../../plugins/exporter-commit/commit-exporter.js';
import { exporterConformance } from '../exporter-conformance.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';
import { isolatorConformance } from '../isolator-conformance.js';
import { memoryLogger } from '../limiter-conformance.js';
import { MemoryStorage, ScriptedIsolator } from '../memory-drivers.js';
import { storageConformance } from '../storage-conformance.js';

isolatorConformance('scripted', async () => {
  const scratch = await makeScratchDir('scripted-isolator');
  const driver = new ScriptedIsolator();
  return {
    driver,
    rootfs: join(scratch.path, 'rootfs'),
    context: {
      dataRoot: join(scratch.path, 'data'), execRoot: join(scratch.path, 'run'),
      stateDir: join(scratch.path, 'data', driver.id), runDir: join(scratch.path, 'run', driver.id), logger: memoryLogger(),
    },
    dispose: () => scratch.dispose(),
  };
});

// The exporter kind needs nothing of the kernel (streams and a folder walk): the engine's unit
// tests use the real one, which runs its suite here, in the unit lane.
exporterConformance('commit', () => new CommitExporter());

// The storage contract (layers, prepare, diff, changes, usage, views, held, remove), without the
// mount cases: the driver declares `rootfs: 'memory'`, and the suite reaches its files through it.
storageConformance('memory', () => new MemoryStorage(), { files: (driver, id) => driver.files(id) });
