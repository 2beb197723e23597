// Unit: the events line format (exact nanoseconds) and --filter encoding.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { filtersJson, formatEventLine, parseEventLine } from '../../cli/lib/events-view.js';

describe('events view', () => {
  const raw = '{"status":"create","id":"ffff","from":"alpine","Type":"container","Action":"create","Actor":{"ID":"ffff","Attributes":{"name":"demo","image":"alpine"}},"scope":"local","time":1795881891,"timeNano":1795881891592270080}';

  it('prints docker\'s line with the exact time and sorted attributes', () => {
    const e = parseEventLine(raw);
    assert.equal(e.nanos, 1795881891592270080n);
    assert.equal(formatEventLine(e.event, e.nanos), '2026-11-28T16:04:51.592270080Z container create ffff (image=alpine, name=demo)');
  });

  it('falls back to whole seconds and omits empty attributes', () => {
    const e = parseEventLine('{"Type":"daemon","Action":"start","Actor":{"ID":"/var/lib/mini-docker","Attributes":{}},"time":1795881891}');
    assert.equal(formatEventLine(e.event, e.nanos), '2026-11-28T16:04:51.000000000Z daemon start /var/lib/mini-docker');
  });

  it('encodes repeated --filter flags as the API\'s filters JSON', () => {
    assert.equal(filtersJson(undefined), undefined);
    assert.equal(filtersJson(['type=container', 'container=web', 'container=db', 'event=die']), '{"type":{"container":true},"container":{"web":true,"db":true},"event":{"die":true}}');
    assert.throws(() => filtersJson(['nonsense']), /bad format of filter/);
  });
});
