import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DAEMON_STREAM, type EventEnvelope } from '../../events/index.js';
import { MemoryEventLog } from '../../core/eventlog/memory-event-log.js';
import { EventTimeIndex } from '../../core/eventlog/time-index.js';

describe('unit: the event time index (nedb projection of the log)', () => {
  const dir = mkdtempSync(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'time-index-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function logWith(n: number): Promise<{ log: MemoryEventLog; events: EventEnvelope[] }> {
    const log = new MemoryEventLog();
    await log.open();
    const events: EventEnvelope[] = [];
    for (let i = 0; i < n; i++) {
      events.push(...await log.append(DAEMON_STREAM, [{ type: 'DaemonStopped', data: { pid: i + 1 } }], 'any'));
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 1)); // let the clock move
    }
    return { log, events };
  }

  it('gives read bounds that include every event at or after (or before) a time', async () => {
    const { log, events } = await logWith(300);
    const index = new EventTimeIndex(join(dir, 'a'), 16);
    assert.equal(await index.open(log), 300);
    for (const target of [events[0]!, events[100]!, events[257]!, events[299]!]) {
      const after = await index.readAfterFor(target.time);
      const firstAtTime = events.find((e) => e.time >= target.time)!;
      assert.ok(after < firstAtTime.position, `read after ${after} includes position ${firstAtTime.position}`);
      assert.ok(firstAtTime.position - after <= 2 * 16 + 1, 'and skips what lies well before');
      const until = await index.readUntilFor(target.time);
      const lastAtTime = [...events].reverse().find((e) => e.time <= target.time)!;
      assert.ok(until === undefined || until >= lastAtTime.position, `read until ${until} includes ${lastAtTime.position}`);
    }
  });

  it('catches up with new events, and rebuilds when damaged or ahead of the log', async () => {
    const { log, events } = await logWith(40);
    const index = new EventTimeIndex(join(dir, 'b'), 8);
    await index.open(log);
    const more = await log.append(DAEMON_STREAM, [{ type: 'DaemonStopped', data: { pid: 99 } }], 'any');
    await index.observe(more[0]!);
    assert.ok((await index.readAfterFor(more[0]!.time)) < more[0]!.position);

    writeFileSync(join(dir, 'b', 'time-index.db'), '{not json\n{"_id":"x","position":"bad"}\n');
    const warnings: string[] = [];
    const rebuilt = new EventTimeIndex(join(dir, 'b'), 8);
    await rebuilt.open(log, (m) => warnings.push(m));
    assert.ok((await rebuilt.readAfterFor(events[20]!.time)) < 21);

    const shorter = (await logWith(5)).log;
    const again = new EventTimeIndex(join(dir, 'b'), 8);
    await again.open(shorter, (m) => warnings.push(m));
    assert.ok(warnings.some((w) => /ahead of the log/.test(w)), warnings.join('\n'));
  });
});
