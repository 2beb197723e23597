// Unit: the table of docs/writing-a-driver.md that lists the methods each kind requires, against
// the registry's own check (missingKindMethods): a driver with exactly the methods the table lists
// is accepted, and without any one of them refused, naming it; every kind of DriverKinds has its row.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import * as pluginApi from '../../core/plugin-api.js';
import type { Driver } from '../../core/plugins/driver.js';
import { DriverKinds } from '../../core/plugins/kinds.js';
import { missingKindMethods } from '../../core/plugins/plugin-registry.js';

/** What the storage.v1 and volume.v1 registrations also check: a declaration that needs no more methods. */
const CAPABILITIES: Readonly<Record<string, unknown>> = {
  'storage.v1': { rootfs: 'mount', changes: false },
  'volume.v1': { onDemandMounts: false },
};

function driverWith(kind: string, methods: readonly string[]): Driver {
  const driver: Driver & Record<string, unknown> = {
    id: `${kind}.docs`,
    init: () => Promise.resolve({ status: 'ok' }),
  };
  if (CAPABILITIES[kind] !== undefined) driver.capabilities = CAPABILITIES[kind];
  for (const m of methods) driver[m] = (): void => undefined;
  return driver;
}

describe('unit: docs/writing-a-driver.md and the kinds\' interfaces', async () => {
  const doc = await readFile(new URL('../../../docs/writing-a-driver.md', import.meta.url), 'utf8');
  const rows = new Map<string, string[]>();
  for (const m of doc.matchAll(/^\| `([a-z]+\.v\d+)` \| `[A-Za-z]+` \| ([^|]*) \|/gm)) {
    rows.set(m[1]!, [...m[2]!.matchAll(/`([A-Za-z]+)`/g)].map((x) => x[1]!));
  }

  it('every kind has its row of required methods', () => {
    assert.deepEqual([...rows.keys()].sort(), Object.values(DriverKinds).map(String).sort());
  });

  it('a driver with exactly the methods listed is accepted, and without any one of them refused, naming it', () => {
    for (const [kind, methods] of rows) {
      assert.equal(missingKindMethods(driverWith(kind, methods)), '', `${kind}: the methods listed are all it needs`);
      for (const m of methods) {
        const problem = missingKindMethods(driverWith(kind, methods.filter((x) => x !== m)));
        assert.equal(problem, `it does not implement ${kind}: ${m} missing`, `${kind}: ${m} is required`);
      }
    }
  });

  it('the plugin API exports every kind\'s interface the table names', async () => {
    const api = await readFile(new URL('../../../core/plugin-api.ts', import.meta.url), 'utf8');
    const reexported = [...api.matchAll(/^export \* from '\.\/plugins\/([a-z-]+)\.js';$/gm)].map((m) => m[1]!);
    const declared = new Map<string, string>();
    for (const file of reexported) {
      const text = await readFile(new URL(`../../../core/plugins/${file}.ts`, import.meta.url), 'utf8');
      for (const m of text.matchAll(/^export interface ([A-Za-z]+)/gm)) declared.set(m[1]!, file);
    }
    const named = [...doc.matchAll(/^\| `[a-z]+\.v\d+` \| `([A-Za-z]+)` \|/gm)].map((m) => m[1]!);
    assert.ok(named.includes('NetworkDriver'), 'the table names the network driver\'s interface');
    for (const name of named) assert.ok(declared.has(name), `${name} is exported from tiny-docker/plugin-api`);
    assert.equal(pluginApi.NetworkDriverOptions, Symbol.for('tiny-docker.network.Options'), 'the network driver\'s options token is exported too');
    assert.equal(new pluginApi.PortAllocatedError('0.0.0.0', 8080).message, 'Bind for 0.0.0.0:8080 failed: port is already allocated', 'and its error for a taken port');
  });
});
