// Unit: a remapped container's ids and the host's (core/security/id-map.ts): what the daemon writes
// for a container under --userns-remap (cp, copy-up, a volume's root) and what cp out shows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OVERFLOW_ID, toContainerIds, toHostIds, UnmappedIdError } from '../../core/security/id-map.js';

describe('unit: userns id mapping', () => {
  const map = { uid: 300000, gid: 400000, size: 65536 };

  it('container ids are shifted to the range on the host, uid and gid by their own bases', () => {
    assert.deepEqual(toHostIds(map, { uid: 0, gid: 0 }), { uid: 300000, gid: 400000 });
    assert.deepEqual(toHostIds(map, { uid: 1234, gid: 4321 }), { uid: 301234, gid: 404321 });
    assert.deepEqual(toHostIds(map, { uid: 65535, gid: 65535 }), { uid: 365535, gid: 465535 });
  });

  it('an id the range does not hold becomes the overflow id (nobody), never a host id outside the range', () => {
    assert.deepEqual(toHostIds(map, { uid: 70000, gid: 100000 }), { uid: 300000 + OVERFLOW_ID, gid: 400000 + OVERFLOW_ID });
  });

  it('an id a range without 65534 cannot hold is refused, never mapped to the range\'s first id (the container\'s root)', () => {
    const small = { uid: 500000, gid: 600000, size: 1000 };
    assert.deepEqual(toHostIds(small, { uid: 999, gid: 0 }), { uid: 500999, gid: 600000 });
    assert.throws(() => toHostIds(small, { uid: 5000, gid: 0 }), (error: unknown) => error instanceof UnmappedIdError && error.id === 5000
      && error.message.startsWith('Container ID 5000 cannot be mapped to a host ID'));
    assert.throws(() => toHostIds(small, { uid: 0, gid: 65534 }), /Container ID 65534 cannot be mapped to a host ID/, 'the gid as well');
    assert.throws(() => toHostIds(small, { uid: -1, gid: 0 }), UnmappedIdError);
  });

  it('host ids are seen in the container shifted back; ids outside the range are nobody, as the kernel shows them', () => {
    assert.deepEqual(toContainerIds(map, { uid: 300000, gid: 400000 }), { uid: 0, gid: 0 });
    assert.deepEqual(toContainerIds(map, { uid: 301000, gid: 400033 }), { uid: 1000, gid: 33 });
    assert.deepEqual(toContainerIds(map, { uid: 0, gid: 0 }), { uid: OVERFLOW_ID, gid: OVERFLOW_ID });
    assert.deepEqual(toContainerIds(map, { uid: 365536, gid: 399999 }), { uid: OVERFLOW_ID, gid: OVERFLOW_ID });
  });

  it('round trips every mapped id', () => {
    for (const id of [0, 1, 999, 65534, 65535]) assert.deepEqual(toContainerIds(map, toHostIds(map, { uid: id, gid: id })), { uid: id, gid: id });
  });
});
