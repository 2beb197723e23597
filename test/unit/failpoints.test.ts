import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { FAILPOINTS, commandOf, parseFailpoints } from '../../core/failpoints.js';

describe('unit: failpoints', () => {
  it('docs/failpoints.md lists exactly the declared failpoints, with their descriptions', async () => {
    const doc = await readFile(new URL('../../../docs/failpoints.md', import.meta.url), 'utf8');
    const listed = [...doc.matchAll(/^\| `([a-z0-9.-]+)` \| (.*) \|$/gm)].map((m) => [m[1]!, m[2]!] as const);
    assert.deepEqual(listed, Object.entries(FAILPOINTS));
  });

  it('every point belongs to one of the commands whose recovery the crash test walks', () => {
    const commands = new Set(Object.keys(FAILPOINTS).map(commandOf));
    assert.deepEqual([...commands].sort(), ['commit', 'exec', 'kill', 'pull', 'rm', 'rmi', 'start', 'stop']);
    for (const name of Object.keys(FAILPOINTS)) assert.match(name, /^[a-z]+\.(after|before)-[a-z-]+$/);
  });

  it('arms known points (at the N-th hit with @N) and refuses unknown ones, naming them', () => {
    const armed = parseFailpoints('start.after-intent, rm.before-final@3');
    assert.deepEqual([...armed.keys()], ['start.after-intent', 'rm.before-final']);
    assert.equal(armed.get('rm.before-final')!.hitToDie, 3);
    assert.throws(() => parseFailpoints('start.after-nothing'), /unknown failpoint "start\.after-nothing"/);
    assert.throws(() => parseFailpoints('start after'), /invalid failpoint/);
  });
});
