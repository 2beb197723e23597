// Unit: bind mounts from the API's Binds and Mounts (core/engine/binds.ts), as inspect shows them,
// and the CLI's -v and --mount values (cli/lib/create-body.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { presentMounts } from '../../core/api/presenters.js';
import { bindsOf, parseBind, parseMount } from '../../core/engine/binds.js';
import { absoluteBind, parseMountFlag } from '../../cli/lib/create-body.js';

describe('binds', () => {
  it('reads -v host:container[:options], cleaning both paths', () => {
    assert.deepEqual(parseBind('/srv/data:/data'), { source: '/srv/data', target: '/data', readOnly: false });
    assert.deepEqual(parseBind('/srv/data/:/data/:ro'), { source: '/srv/data', target: '/data', readOnly: true });
    assert.deepEqual(parseBind('/a//b:/x/../y:rw,z'), { source: '/a/b', target: '/y', readOnly: false });
    assert.deepEqual(parseBind('/a:/b:Z,ro'), { source: '/a', target: '/b', readOnly: true });
  });

  it('refuses volumes, relative or root destinations and unknown options, in one line each', () => {
    assert.throws(() => parseBind('data:/data'), /^InvalidArgumentError: named volumes are not supported yet: 'data:\/data' \(bind a host folder instead: -v \/host\/path:\/data\)$/);
    assert.throws(() => parseBind('/data'), /anonymous volumes are not supported yet/);
    assert.throws(() => parseBind('/a:b'), /invalid volume specification '\/a:b': the container path "b" must be absolute/);
    assert.throws(() => parseBind('/a:/'), /destination can't be '\/'/);
    assert.throws(() => parseBind('/a:/b:ro,rw'), /ro and rw given twice/);
    assert.throws(() => parseBind('/a:/b:shared'), /unsupported option "shared"/);
    assert.throws(() => parseBind('/a:/b:ro:x'), /invalid volume specification/);
    assert.throws(() => parseBind(':/b'), /invalid volume specification/);
  });

  it('reads --mount entries of type bind only', () => {
    assert.deepEqual(parseMount({ Type: 'bind', Source: '/h/', Target: '/c', ReadOnly: true }), { source: '/h', target: '/c', readOnly: true });
    assert.throws(() => parseMount({ Type: 'volume', Source: 'v', Target: '/c', ReadOnly: false }), /mounts of type "volume" are not supported yet/);
    assert.throws(() => parseMount({ Type: 'bind', Source: '', Target: '/c', ReadOnly: false }), /Source must not be empty/);
    assert.throws(() => parseMount({ Type: 'bind', Source: 'rel', Target: '/c', ReadOnly: false }), /must be absolute/);
  });

  it('refuses two binds on one container path', () => {
    assert.equal(bindsOf({}).length, 0);
    assert.deepEqual(bindsOf({ Binds: ['/a:/x'], Mounts: [{ Type: 'bind', Source: '/b', Target: '/y', ReadOnly: false }] }).map((b) => b.target), ['/x', '/y']);
    assert.throws(() => bindsOf({ Binds: ['/a:/x', '/b:/x/'] }), /^InvalidArgumentError: Duplicate mount point: \/x$/);
  });

  it('shows binds in inspect as Docker does', () => {
    assert.deepEqual(presentMounts({ Binds: ['/a:/x:ro', '/b:/y'], Mounts: [{ Type: 'bind', Source: '/c', Target: '/z', ReadOnly: false }] }), [
      { Type: 'bind', Source: '/a', Destination: '/x', Mode: 'ro', RW: false, Propagation: 'rprivate' },
      { Type: 'bind', Source: '/b', Destination: '/y', Mode: '', RW: true, Propagation: 'rprivate' },
      { Type: 'bind', Source: '/c', Destination: '/z', Mode: '', RW: true, Propagation: 'rprivate' },
    ]);
  });

  it('CLI: makes relative host paths absolute, leaves names and absolute paths', () => {
    assert.equal(absoluteBind('./data:/data:ro', '/home/u'), '/home/u/data:/data:ro');
    assert.equal(absoluteBind('sub/dir:/d', '/w'), '/w/sub/dir:/d');
    assert.equal(absoluteBind('/abs:/d', '/w'), '/abs:/d');
    assert.equal(absoluteBind('named:/d', '/w'), 'named:/d');
  });

  it('CLI: reads --mount CSV like the docker CLI', () => {
    assert.deepEqual(parseMountFlag('type=bind,source=/a,target=/b', '/w', 125), { Type: 'bind', Source: '/a', Target: '/b', ReadOnly: false });
    assert.deepEqual(parseMountFlag('type=bind,src=rel,dst=/b,readonly', '/w', 125), { Type: 'bind', Source: '/w/rel', Target: '/b', ReadOnly: true });
    assert.deepEqual(parseMountFlag('type=bind,source=/a,destination=/b,ro=false', '/w', 125), { Type: 'bind', Source: '/a', Target: '/b', ReadOnly: false });
    assert.equal(parseMountFlag('source=v,target=/b', '/w', 125).Type, 'volume', 'docker\'s default type; the daemon refuses it');
    assert.throws(() => parseMountFlag('type=bind,source=/a', '/w', 125), /invalid argument "type=bind,source=\/a" for "--mount" flag: target is required/);
    assert.throws(() => parseMountFlag('type=bind,source=/a,target=/b,color=red', '/w', 125), /unexpected key 'color'/);
    assert.throws(() => parseMountFlag('type=bind,/a', '/w', 125), /must be a key=value pair/);
  });
});
