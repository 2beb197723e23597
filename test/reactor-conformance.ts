import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Driver, DriverContext } from '../core/plugins/driver.js';
import { DriverKinds, kindOf } from '../core/plugins/kinds.js';
import { MemoryEventLog } from '../core/eventlog/memory-event-log.js';
import { containerStream, DAEMON_STREAM, type EventEnvelope } from '../events/index.js';

/** Events of every kind a reactor may see, stored through a real (in-memory) log so they are valid. */
async function sampleEnvelopes(): Promise<EventEnvelope[]> {
  const log = new MemoryEventLog();
  await log.open();
  const id = 'f'.repeat(64);
  const out: EventEnvelope[] = [];
  out.push(...await log.append(DAEMON_STREAM, [{ type: 'DaemonStarted', data: { pid: 1, version: '0.0.0', plugins: [] } }], 'any'));
  out.push(...await log.append(containerStream(id), [
    {
      type: 'ContainerCreated',
      data: {
        id, name: 'c', image: { ref: 'busybox', id: `sha256:${'a'.repeat(64)}` },
        config: { Cmd: ['true'], Entrypoint: null, Env: [], WorkingDir: '', User: '', Hostname: 'h', Tty: false, OpenStdin: false, StdinOnce: false, AttachStdin: false, AttachStdout: true, AttachStderr: true, Labels: {} },
        hostConfig: { AutoRemove: false, LogConfig: { Type: 'json-file', Config: {} } },
      },
    },
    { type: 'ContainerStarted', data: { id, pid: 2, shimPid: 1, drivers: [] } },
    { type: 'ContainerExited', data: { id, name: 'c', exitCode: 0, signal: null, oomKilled: false, finishedAt: '2026-01-01T00:00:00Z' } },
    { type: 'ContainerRemoved', data: { id } },
  ], 'no-stream'));
  return out;
}

/**
 * What every reactor.v1 driver must do, whoever wrote it: a `reactor.v1.<name>` id, an init that
 * reports ok or skipped with a reason, an onEvent that takes every event in order without
 * throwing, and a close (if any) that can be called after use.
 */
export function reactorConformance(name: string, factory: () => Promise<Driver>): void {
  describe(`reactor conformance: ${name}`, () => {
    const dir = mkdtempSync(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'reactor-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const context: DriverContext = {
      dataRoot: dir, execRoot: dir, stateDir: dir, runDir: dir,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    };

    it('has a reactor.v1 id', async () => {
      const d = await factory();
      assert.equal(kindOf(d.id), DriverKinds.reactor);
      assert.match(d.id, /^reactor\.v1\.[a-z0-9-]+$/);
    });

    it('init reports ok, or skipped with a reason', async () => {
      const s = await (await factory()).init(context);
      assert.ok(s.status === 'ok' || (s.status === 'skipped' && s.reason.length > 0));
    });

    it('takes every event in order without throwing, and closes', async () => {
      const d = await factory();
      const s = await d.init(context);
      if (s.status !== 'ok') return;
      assert.ok(d.onEvent, 'a reactor acts in onEvent');
      for (const e of await sampleEnvelopes()) await d.onEvent(e);
      await d.close?.();
    });
  });
}
