/**
 * isolator.v1.namespaces through the isolator conformance suite (needs root, the kernel's
 * namespaces and the built shim; the driver skips itself otherwise): the same cases the in-memory
 * isolator of the engine's unit tests passes (test/unit/memory-drivers-conformance.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { NamespaceIsolator } from '../../plugins/isolator-namespaces/namespace-isolator.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';
import { isolatorConformance } from '../isolator-conformance.js';
import { memoryLogger } from '../limiter-conformance.js';

/** A root filesystem with busybox and the applets the suite runs. */
function busyboxRoot(dir: string): void {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'etc'), { recursive: true });
  copyFileSync('/bin/busybox', join(dir, 'bin', 'busybox'));
  chmodSync(join(dir, 'bin', 'busybox'), 0o755);
  const available = new Set(execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n'));
  for (const applet of ['sh', 'echo', 'cat', 'sleep']) if (available.has(applet)) symlinkSync('busybox', join(dir, 'bin', applet));
}

isolatorConformance('namespaces', async () => {
  const scratch = await makeScratchDir('isolator-conformance');
  const rootfs = join(scratch.path, 'rootfs');
  busyboxRoot(rootfs);
  const driver = new NamespaceIsolator();
  return {
    driver,
    rootfs,
    context: {
      dataRoot: join(scratch.path, 'data'), execRoot: join(scratch.path, 'run'),
      stateDir: join(scratch.path, 'data', driver.id), runDir: join(scratch.path, 'run', driver.id), logger: memoryLogger(),
    },
    dispose: () => scratch.dispose(),
  };
});
