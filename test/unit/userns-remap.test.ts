import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseDaemonOptions } from '../../core/daemon/daemon-options.js';
import { checkUsernsMode, parseRemapFlag, resolveRemap, usernsFor, type IdFiles } from '../../core/security/userns-remap.js';
import { serializeSpec } from '../../plugins/isolator-namespaces/shim-protocol.js';

describe('unit: --userns-remap', () => {
  const dir = mkdtempSync(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'userns-remap-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Copies of the id files, as given; returns their paths. */
  const files = (name: string, text: { passwd: string; group: string; subuid?: string; subgid?: string }): IdFiles => {
    const paths: IdFiles = { passwd: join(dir, `${name}.passwd`), group: join(dir, `${name}.group`), subuid: join(dir, `${name}.subuid`), subgid: join(dir, `${name}.subgid`) };
    writeFileSync(paths.passwd, text.passwd);
    writeFileSync(paths.group, text.group);
    if (text.subuid !== undefined) writeFileSync(paths.subuid, text.subuid);
    if (text.subgid !== undefined) writeFileSync(paths.subgid, text.subgid);
    return paths;
  };
  const passwd = 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n';
  const group = 'root:x:0:\nalice:x:1000:\nstaff:x:50:\n';

  it('reads the flag as dockerd does: default, USER, USER:GROUP; refuses the rest', () => {
    assert.deepEqual(parseRemapFlag('default'), { user: 'mini-docker', group: 'mini-docker', makeDefault: true });
    assert.deepEqual(parseRemapFlag('alice'), { user: 'alice', group: undefined, makeDefault: false });
    assert.deepEqual(parseRemapFlag('alice:staff'), { user: 'alice', group: 'staff', makeDefault: false });
    for (const bad of ['', ':x', 'a:', 'a:b:c']) assert.throws(() => parseRemapFlag(bad), /expected default, USER or USER:GROUP/, bad);
    assert.equal(parseDaemonOptions(['--userns-remap', 'alice:staff'], {}).usernsRemap, 'alice:staff');
    assert.equal(parseDaemonOptions([], {}).usernsRemap, undefined);
    assert.throws(() => parseDaemonOptions(['--userns-remap', 'a:b:c'], {}), /--userns-remap a:b:c/);
  });

  it('maps a user (by name or id) to its first ranges in subuid and subgid, at most 65536 ids', () => {
    const f = files('named', { passwd, group, subuid: 'bob:100000:65536\n1000:165536:100000\n', subgid: 'alice:300000:65536\nstaff:400000:1000\n' });
    assert.deepEqual(resolveRemap('alice', f), { user: 'alice', group: 'alice', uid: 165536, gid: 300000, size: 65536 });
    assert.deepEqual(resolveRemap('1000:staff', f), { user: 'alice', group: 'staff', uid: 165536, gid: 400000, size: 1000 });
  });

  it('says what is missing in one line', () => {
    const f = files('missing', { passwd, group, subuid: 'alice:100000:65536\n', subgid: '' });
    assert.throws(() => resolveRemap('carol', f), /^Error: --userns-remap carol: no user carol in .*missing\.passwd: create it, or use --userns-remap default$/);
    assert.throws(() => resolveRemap('alice:wheel', f), /no group wheel in /);
    assert.throws(() => resolveRemap('alice', f), /no range for alice in .*missing\.subgid: add a line "alice:START:65536"/);
    const zero = files('zero', { passwd, group, subuid: 'alice:0:65536\n', subgid: 'alice:0:65536\n' });
    assert.throws(() => resolveRemap('alice', zero), /a range starting at 0 would map the container's root to the host's/);
  });

  it('default: makes the user with useradd when missing, and ranges after every existing one', () => {
    const f = files('default', { passwd, group, subuid: 'alice:100000:65536\n', subgid: 'alice:100000:200000' });
    // A stand-in for useradd that writes the copies of the id files this test gave (never the host's).
    const useradd = join(dir, 'useradd');
    writeFileSync(useradd, `#!/bin/sh\necho "mini-docker:x:998:998::/nonexistent:/usr/sbin/nologin" >> ${f.passwd}\necho "mini-docker:x:998:" >> ${f.group}\n`);
    chmodSync(useradd, 0o755);
    assert.deepEqual(resolveRemap('default', f, useradd), { user: 'mini-docker', group: 'mini-docker', uid: 165536, gid: 300000, size: 65536 });
    assert.equal(readFileSync(f.subuid, 'utf8'), 'alice:100000:65536\nmini-docker:165536:65536\n');
    assert.equal(readFileSync(f.subgid, 'utf8'), 'alice:100000:200000\nmini-docker:300000:65536\n');
    // Again: nothing more is made.
    assert.deepEqual(resolveRemap('default', f, join(dir, 'no-such-useradd')), { user: 'mini-docker', group: 'mini-docker', uid: 165536, gid: 300000, size: 65536 });
    assert.equal(readFileSync(f.subuid, 'utf8').split('\n').filter((l) => l.startsWith('mini-docker:')).length, 1);
    const failing = files('failing', { passwd, group, subuid: '', subgid: '' });
    assert.throws(() => resolveRemap('default', failing, join(dir, 'no-such-useradd')), /--userns-remap default: making the user mini-docker failed/);
  });

  it('a container gets the mapping unless it asked for --userns host; other modes are refused', () => {
    const remap = { user: 'alice', group: 'alice', uid: 165536, gid: 300000, size: 65536 };
    assert.deepEqual(usernsFor(undefined, remap), { uid: 165536, gid: 300000, size: 65536 });
    assert.equal(usernsFor('host', remap), null);
    assert.equal(usernsFor(undefined, null), null);
    checkUsernsMode('');
    checkUsernsMode('host');
    assert.throws(() => checkUsernsMode('private'), /^Error: invalid --userns private: only "host" is supported/);
  });

  it('the shim spec carries the mapping as "userns <uid> <gid> <size>", and refuses mapping root to root', () => {
    const base = { id: 'c', rootfs: '/r', args: ['sh'] };
    assert.match(serializeSpec({ ...base, userns: { uid: 165536, gid: 300000, size: 65536 } }), /\nuserns 165536 300000 65536\n/);
    assert.doesNotMatch(serializeSpec(base), /userns/);
    assert.throws(() => serializeSpec({ ...base, userns: { uid: 0, gid: 0, size: 65536 } }), /spec userns 0 0 65536/);
  });
});
