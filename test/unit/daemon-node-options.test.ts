import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DAEMON_NODE_OPTIONS } from '../../core/daemon/daemon-config.js';

describe('the daemon\'s node options', () => {
  it('bin/mini-dockerd\'s shebang passes exactly DAEMON_NODE_OPTIONS (what the autostart and the test harness pass)', () => {
    const bin = fileURLToPath(new URL('../../../bin/mini-dockerd', import.meta.url));
    const shebang = readFileSync(bin, 'utf8').split('\n')[0]!;
    assert.equal(shebang, `#!/usr/bin/env -S node ${DAEMON_NODE_OPTIONS.join(' ')}`);
  });

  it('node accepts every option (a typo would stop the daemon at start)', () => {
    const r = spawnSync(process.execPath, [...DAEMON_NODE_OPTIONS, '-e', 'process.stdout.write("ok")'], { encoding: 'utf8' });
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'ok');
  });
});
