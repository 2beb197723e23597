// Unit: the table of docs/writing-a-driver.md that lists the methods each kind requires, against
// the registry's own check (missingKindMethods): a driver with exactly the methods the table lists
// is accepted, and without any one of them refused, naming it; every kind of DriverKinds has its row.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
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
});
