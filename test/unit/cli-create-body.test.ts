// Unit: what run/create send as IMAGE: a tarball path made absolute against the CLI's directory
// (the daemon runs elsewhere), names and ids untouched; and the volumes it sends.
import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { absoluteTarPath, createBody } from '../../cli/lib/create-body.js';

describe('cli create body: IMAGE', () => {
  it('makes relative tarball paths absolute, leaves the rest', () => {
    assert.equal(absoluteTarPath('busybox.tar', '/work/x'), '/work/x/busybox.tar');
    assert.equal(absoluteTarPath('./images/b.tar.gz', '/work/x'), '/work/x/images/b.tar.gz');
    assert.equal(absoluteTarPath('../b.tgz', '/work/x'), '/work/b.tgz');
    assert.equal(absoluteTarPath('~/b.tar', '/work/x'), join(homedir(), 'b.tar'));
    assert.equal(absoluteTarPath('/tmp/busybox.tar', '/work/x'), '/tmp/busybox.tar');
    for (const name of ['busybox', 'busybox:latest', 'library/busybox', 'sha256:abc', 'localhost:5000/x:1']) {
      assert.equal(absoluteTarPath(name, '/work/x'), name);
    }
  });

  it('createBody sends the absolute path', () => {
    const body = createBody({ image: 'b.tar', cmd: ['true'], flags: { interactive: false, tty: false, rm: false }, detach: true, consoleSize: [0, 0], exitCode: 125, cwd: '/data' });
    assert.equal(body.Image, '/data/b.tar');
  });

  it('createBody sends volumes as the docker client does: -v as Binds, --mount with VolumeOptions, --volumes-from', () => {
    const body = createBody({
      image: 'busybox', cmd: ['true'], detach: true, consoleSize: [0, 0], exitCode: 125, cwd: '/data',
      flags: { interactive: false, tty: false, rm: false, volume: ['data:/d:ro', '/anon', './rel:/r'], mount: ['type=volume,dst=/m,volume-nocopy'], 'volumes-from': ['web:ro'] },
    });
    assert.deepEqual(body.HostConfig.Binds, ['data:/d:ro', '/anon', '/data/rel:/r']);
    assert.deepEqual(body.HostConfig.Mounts, [{ Type: 'volume', Source: '', Target: '/m', ReadOnly: false, VolumeOptions: { NoCopy: true } }]);
    assert.deepEqual(body.HostConfig.VolumesFrom, ['web:ro']);
  });
});
