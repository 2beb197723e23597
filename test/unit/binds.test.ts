// Unit: binds and volumes from the API's Binds and Mounts (core/engine/binds.ts), as inspect shows them,
// and the CLI's -v and --mount values (cli/lib/create-body.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { presentMounts } from '../../core/api/presenters.js';
import { bindsOf, byMountDepth, mountRequestsOf, parseBind, parseMount, parseMountEntry, parseVolumeFlag, parseVolumesFrom } from '../../core/engine/binds.js';
import { absoluteBind, parseMountFlag } from '../../cli/lib/create-body.js';

describe('binds', () => {
  it('reads -v host:container[:options], cleaning both paths', () => {
    assert.deepEqual(parseBind('/srv/data:/data'), { source: '/srv/data', target: '/data', readOnly: false });
    assert.deepEqual(parseBind('/srv/data/:/data/:ro'), { source: '/srv/data', target: '/data', readOnly: true });
    assert.deepEqual(parseBind('/a//b:/x/../y:rw,z'), { source: '/a/b', target: '/y', readOnly: false });
    assert.deepEqual(parseBind('/a:/b:Z,ro'), { source: '/a', target: '/b', readOnly: true });
  });

  it('reads -v NAME:/path[:opts] as a named volume and -v /path as an anonymous one', () => {
    assert.deepEqual(parseVolumeFlag('data:/data'), { kind: 'volume', volume: { name: 'data', target: '/data', readOnly: false, noCopy: false } });
    assert.deepEqual(parseVolumeFlag('data:/data/:ro,nocopy'), { kind: 'volume', volume: { name: 'data', target: '/data', readOnly: true, noCopy: true } });
    assert.deepEqual(parseVolumeFlag('/srv/'), { kind: 'volume', volume: { name: '', target: '/srv', readOnly: false, noCopy: false } });
    assert.deepEqual(parseVolumeFlag('/h:/c:ro'), { kind: 'bind', bind: { source: '/h', target: '/c', readOnly: true } });
    assert.throws(() => parseVolumeFlag('/h:/c:nocopy'), /unsupported option "nocopy"/, 'nocopy is for volumes');
    assert.throws(() => parseVolumeFlag('./rel:/c'), /neither a volume name nor an absolute host path/);
    assert.throws(() => parseVolumeFlag('rel'), /must be absolute/);
    assert.throws(() => parseBind('data:/data'), /^InvalidArgumentError: 'data:\/data' is a volume, not a bind of a host path$/);
  });

  it('refuses relative or root destinations and unknown options, in one line each', () => {
    assert.throws(() => parseBind('/a:b'), /invalid volume specification '\/a:b': the container path "b" must be absolute/);
    assert.throws(() => parseBind('/a:/'), /destination can't be '\/'/);
    assert.throws(() => parseBind('/a:/b:ro,rw'), /ro and rw given twice/);
    assert.throws(() => parseBind('/a:/b:shared'), /unsupported option "shared"/);
    assert.throws(() => parseBind('/a:/b:ro:x'), /invalid volume specification/);
    assert.throws(() => parseBind(':/b'), /invalid volume specification/);
  });

  it('reads --mount entries of type bind and volume', () => {
    assert.deepEqual(parseMount({ Type: 'bind', Source: '/h/', Target: '/c', ReadOnly: true }), { source: '/h', target: '/c', readOnly: true });
    assert.deepEqual(parseMountEntry({ Type: 'volume', Source: 'v', Target: '/c', ReadOnly: false, VolumeOptions: { NoCopy: true } }), { kind: 'volume', volume: { name: 'v', target: '/c', readOnly: false, noCopy: true } });
    assert.deepEqual(parseMountEntry({ Type: 'volume', Source: '', Target: '/c/', ReadOnly: true }), { kind: 'volume', volume: { name: '', target: '/c', readOnly: true, noCopy: false } });
    assert.throws(() => parseMountEntry({ Type: 'volume', Source: '/abs', Target: '/c', ReadOnly: false }), /invalid volume name "\/abs" \(a host path needs type=bind\)/);
    assert.throws(() => parseMountEntry({ Type: 'npipe', Source: 'v', Target: '/c', ReadOnly: false }), /mounts of type "npipe" are not supported yet/);
    assert.throws(() => parseMount({ Type: 'bind', Source: '', Target: '/c', ReadOnly: false }), /Source must not be empty/);
    assert.throws(() => parseMount({ Type: 'bind', Source: 'rel', Target: '/c', ReadOnly: false }), /must be absolute/);
  });

  it('refuses two mounts on one container path; binds are the host paths only; parents mount first', () => {
    assert.equal(bindsOf({}).length, 0);
    assert.throws(() => mountRequestsOf({ Binds: ['v:/x'], Mounts: [{ Type: 'volume', Source: 'w', Target: '/x/', ReadOnly: false }] }), /Duplicate mount point: \/x/);
    assert.deepEqual(bindsOf({ Binds: ['v:/x', '/h:/y', '/z'] }).map((b) => b.target), ['/y']);
    assert.deepEqual(byMountDepth([{ target: '/a/b/c' }, { target: '/a' }, { target: '/b/c' }, { target: '/z' }]).map((b) => b.target), ['/a', '/z', '/b/c', '/a/b/c']);
    assert.deepEqual(parseVolumesFrom('web:ro'), { container: 'web', mode: 'ro' });
    assert.deepEqual(parseVolumesFrom('web'), { container: 'web', mode: '' });
    assert.throws(() => parseVolumesFrom('web:rx'), /invalid --volumes-from 'web:rx': use CONTAINER\[:ro\|rw\]/);
    assert.deepEqual(bindsOf({ Binds: ['/a:/x'], Mounts: [{ Type: 'bind', Source: '/b', Target: '/y', ReadOnly: false }] }).map((b) => b.target), ['/x', '/y']);
    assert.throws(() => bindsOf({ Binds: ['/a:/x', '/b:/x/'] }), /^InvalidArgumentError: Duplicate mount point: \/x$/);
  });

  it('shows binds in inspect as Docker does', () => {
    assert.deepEqual(presentMounts({ Binds: ['/a:/x:ro', '/b:/y'], Mounts: [{ Type: 'bind', Source: '/c', Target: '/z', ReadOnly: false }] }), [
      { Type: 'bind', Source: '/a', Destination: '/x', Mode: 'ro', RW: false, Propagation: 'rprivate' },
      { Type: 'bind', Source: '/b', Destination: '/y', Mode: '', RW: true, Propagation: 'rprivate' },
      { Type: 'bind', Source: '/c', Destination: '/z', Mode: '', RW: true, Propagation: 'rprivate' },
    ]);
    const volumes = [{ name: 'data', destination: '/data', readOnly: true, anonymous: false }, { name: 'gone', destination: '/g', readOnly: false, anonymous: true }];
    assert.deepEqual(presentMounts({ Binds: ['data:/data:ro', '/b:/y'] }, volumes, (n) => (n === 'data' ? { driver: 'local', mountpoint: '/v/data/_data' } : undefined)), [
      { Type: 'bind', Source: '/b', Destination: '/y', Mode: '', RW: true, Propagation: 'rprivate' },
      { Type: 'volume', Name: 'data', Source: '/v/data/_data', Destination: '/data', Driver: 'local', Mode: 'ro', RW: false, Propagation: '' },
      { Type: 'volume', Name: 'gone', Source: '', Destination: '/g', Driver: 'local', Mode: 'z', RW: true, Propagation: '' },
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
    assert.equal(parseMountFlag('source=v,target=/b', '/w', 125).Type, 'volume', 'docker\'s default type');
    assert.deepEqual(parseMountFlag('type=volume,src=v,dst=/b,readonly,volume-nocopy', '/w', 125), { Type: 'volume', Source: 'v', Target: '/b', ReadOnly: true, VolumeOptions: { NoCopy: true } });
    assert.deepEqual(parseMountFlag('type=volume,dst=/b', '/w', 125), { Type: 'volume', Source: '', Target: '/b', ReadOnly: false });
    assert.throws(() => parseMountFlag('type=bind,src=/a,dst=/b,volume-nocopy', '/w', 125), /volume-nocopy is only for type=volume/);
    assert.throws(() => parseMountFlag('type=bind,source=/a', '/w', 125), /invalid argument "type=bind,source=\/a" for "--mount" flag: target is required/);
    assert.throws(() => parseMountFlag('type=bind,source=/a,target=/b,color=red', '/w', 125), /unexpected key 'color'/);
    assert.throws(() => parseMountFlag('type=bind,/a', '/w', 125), /must be a key=value pair/);
  });
});
