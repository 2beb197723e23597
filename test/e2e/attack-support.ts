import assert from 'node:assert/strict';
import type { TestDaemon } from './harness.js';

/**
 * After each group of the attack suite: the daemon still answers `ps`, and a new `run` works.
 * `context` names the group in the failure.
 */
export async function assertStillServing(d: TestDaemon, context: string): Promise<void> {
  assert.equal(d.exit, undefined, `${context}: the daemon died (${JSON.stringify(d.exit)}):\n${d.log().slice(-2000)}`);
  const ps = await d.cli(['ps', '-a']);
  assert.equal(ps.code, 0, `${context}: ps failed: ${ps.stderr}`);
  assert.match(ps.stdout, /^CONTAINER ID/, `${context}: ps printed no table`);
  const run = await d.cli(['run', '--rm', 'busybox', 'echo', 'still-serving']);
  assert.equal(run.code, 0, `${context}: a new run failed: ${run.stderr}`);
  assert.equal(run.stdout, 'still-serving\n', `${context}: a new run printed something else`);
}
