// Unit: docs/events.md against the catalogue (events/catalogue.ts): the tables of events name
// exactly the event types, each once, and each row's Docker column shows the type and action
// DOCKER_ACTIONS gives it, in parentheses when it is an intent or a step (STEP_EVENT_TYPES).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { DOCKER_ACTIONS, EVENT_TYPES, STEP_EVENT_TYPES, isEventType, type EventType } from '../../events/index.js';

interface Row {
  readonly names: readonly string[];
  readonly docker: string;
}

/** The rows of every `| Event | Stream | Data | Docker |` table; a row may name two events (`A / B`). */
function eventRows(doc: string): Row[] {
  const rows: Row[] = [];
  let inTable = false;
  for (const line of doc.split('\n')) {
    if (line.startsWith('| Event | Stream | Data | Docker |')) { inTable = true; continue; }
    if (!line.startsWith('|')) { inTable = false; continue; }
    if (!inTable || line.startsWith('|---')) continue;
    const cells = line.split(' | ').map((c) => c.replace(/^\| ?| ?\|$/g, '').trim());
    assert.equal(cells.length, 4, `a row of four cells: ${line}`);
    rows.push({ names: cells[0]!.split(' / ').map((n) => n.trim()), docker: cells[3]! });
  }
  return rows;
}

describe('unit: docs/events.md and the catalogue', async () => {
  const doc = await readFile(new URL('../../../docs/events.md', import.meta.url), 'utf8');
  const rows = eventRows(doc);

  it('the tables name every event type of the catalogue, once, and no other', () => {
    const listed = rows.flatMap((r) => r.names);
    const unknown = listed.filter((n) => !isEventType(n));
    assert.deepEqual(unknown, [], 'docs/events.md names events the catalogue does not declare');
    const missing = EVENT_TYPES.filter((t) => !listed.includes(t));
    assert.deepEqual(missing, [], 'docs/events.md lacks events of the catalogue');
    assert.equal(new Set(listed).size, listed.length, 'an event listed twice');
    assert.ok(listed.length > 40, `the tables were read (${listed.length} events)`);
  });

  it("each row's Docker column shows the event's type and action, in parentheses for intents and steps", () => {
    for (const row of rows) {
      for (const name of row.names) {
        if (!isEventType(name)) continue; // the test above names it
        const type: EventType = name;
        const [dockerType, action] = DOCKER_ACTIONS[type];
        assert.ok(new RegExp(`(^|[ (])${dockerType} `).test(row.docker), `${name}: the Docker column names the type ${dockerType}: ${row.docker}`);
        assert.ok(new RegExp(`(^|[ (/])${action.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([ );,]|$)`).test(row.docker), `${name}: the Docker column names the action ${action}: ${row.docker}`);
        assert.equal(row.docker.startsWith('('), STEP_EVENT_TYPES.has(type), `${name}: in parentheses exactly when it is an intent or a step: ${row.docker}`);
      }
    }
  });
});
