// Unit: what the daemon binds for its network driver: --dns (the embedded resolver's upstreams) and
// the nft table named after the exec root, so daemons side by side never share one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_EXEC_ROOT, networkTableFor } from '../../core/daemon/daemon-config.js';
import { parseDaemonOptions } from '../../core/daemon/daemon-options.js';

const env = {};

describe('unit: the daemon\'s network options', () => {
  it('--dns is repeatable, IP or IP:PORT; absent, the host\'s nameservers are used (undefined here)', () => {
    assert.deepEqual(parseDaemonOptions(['--dns', '127.0.0.1', '--dns', '10.0.0.53:5353'], env, '/root').dns, ['127.0.0.1', '10.0.0.53:5353']);
    assert.equal(parseDaemonOptions([], env, '/root').dns, undefined);
    assert.throws(() => parseDaemonOptions(['--dns', 'resolver.example'], env, '/root'), /^Error: --dns resolver\.example: expected an IPv4 address, optionally with :PORT$/);
  });

  it('the nft table: "mini-docker" for the default exec root, else one named by the exec root\'s hash', () => {
    assert.equal(networkTableFor(DEFAULT_EXEC_ROOT), 'mini-docker');
    const a = networkTableFor('/tmp/a/run');
    assert.match(a, /^mini-docker-[0-9a-f]{8}$/);
    assert.equal(networkTableFor('/tmp/a/run'), a, 'the same exec root, the same table (a restarted daemon finds its rules)');
    assert.notEqual(networkTableFor('/tmp/b/run'), a);
  });
});
