// Unit: --cap-add / --cap-drop / --privileged as Docker reads them, against a host given as text
// (this machine's root lacks CAP_SYS_RESOURCE: bounding set 000001fffeffffff).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CAPABILITY_NAMES, DEFAULT_CAPABILITIES, capabilityHostFrom, capabilityMask, capabilityNames, containerCapabilities, normalizeCapabilities,
} from '../../core/security/capabilities.js';

const STATUS = 'Name:\tnode\nCapInh:\t0000000000000000\nCapPrm:\t000001fffeffffff\nCapEff:\t000001fffeffffff\nCapBnd:\t000001fffeffffff\nCapAmb:\t0000000000000000\n';
const host = capabilityHostFrom('40\n', STATUS);

describe('capabilities', () => {
  it('Docker\'s default set is 0xa80425fb', () => {
    assert.equal(capabilityMask(DEFAULT_CAPABILITIES).toString(16), 'a80425fb');
    assert.deepEqual(capabilityNames(0xa80425fbn), [...DEFAULT_CAPABILITIES].sort((a, b) => CAPABILITY_NAMES.indexOf(a) - CAPABILITY_NAMES.indexOf(b)));
  });

  it('reads the kernel\'s known capabilities and what the daemon holds', () => {
    assert.equal(host.known.length, 41);
    assert.equal(host.held.length, 40);
    assert.ok(!host.held.includes('CAP_SYS_RESOURCE'));
    const older = capabilityHostFrom('37', STATUS);
    assert.equal(older.known.at(-1), 'CAP_AUDIT_READ');
    assert.ok(!older.held.includes('CAP_BPF'), 'a capability the kernel does not know is not held');
  });

  it('normalizes names with or without CAP_, in any case, and ALL', () => {
    assert.deepEqual(normalizeCapabilities(['net_admin', 'CAP_SYS_TIME', 'Sys_Nice', 'all', 'NET_ADMIN'], host.known, 'CapAdd'), ['CAP_NET_ADMIN', 'CAP_SYS_TIME', 'CAP_SYS_NICE', 'ALL']);
  });

  it('refuses an unknown capability with Docker\'s message', () => {
    assert.throws(() => normalizeCapabilities(['foo'], host.known, 'CapAdd'), { message: 'invalid CapAdd: unknown capability: "CAP_FOO"' });
    assert.throws(() => normalizeCapabilities(['CAP_BPF'], capabilityHostFrom('37', STATUS).known, 'CapDrop'), { message: 'invalid CapDrop: unknown capability: "CAP_BPF"' });
  });

  it('computes the set as moby\'s TweakCapabilities', () => {
    const set = (capAdd: string[], capDrop: string[], privileged = false): string => capabilityMask(containerCapabilities({ capAdd, capDrop, privileged }, host)).toString(16);
    assert.equal(set([], []), 'a80425fb');
    assert.equal(set([], ['ALL']), '0');
    assert.equal(set(['CAP_NET_ADMIN'], ['ALL']), '1000');
    assert.equal(set(['CAP_SYS_ADMIN'], []), 'a82425fb');
    assert.equal(set([], ['CAP_NET_RAW', 'CAP_MKNOD']), 'a00405fb');
    // ALL and privileged: what the daemon holds (no CAP_SYS_RESOURCE here), not an error at start.
    assert.equal(set(['ALL'], []), '1fffeffffff');
    assert.equal(set(['ALL'], ['CAP_SYS_ADMIN']), '1fffedfffff');
    assert.equal(set([], ['ALL'], true), '1fffeffffff');
  });

  it('refuses at once a capability the daemon does not hold', () => {
    assert.throws(() => containerCapabilities({ capAdd: ['CAP_SYS_RESOURCE'], capDrop: [], privileged: false }, host), /invalid CapAdd: CAP_SYS_RESOURCE: the daemon does not hold it/);
  });
});
