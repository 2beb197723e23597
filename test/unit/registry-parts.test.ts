import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { credentialsFromHeader } from '../../core/api/registry-routes.js';
import { registryHost } from '../../core/engine/registry-service.js';
import { parseReference } from '../../core/images/image-reference.js';
import { unsafeEntry } from '../../core/images/layer-ingest.js';
import { PULL_LEASE_MS, PullLease, blobsKeptByPullLeases } from '../../core/images/pull-lease.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';
import { parsePlatform, remoteOf } from '../../core/images/remote-name.js';
import type { TarHeader } from '../../core/archive/tar-header.js';
import type { EngineEvent } from '../../events/index.js';
import { given } from '../fixtures/event-envelopes.js';
import { parseChallenge } from '../../plugins/distribution-registry/registry-auth.js';
import { checkLayerType, parseManifest, selectPlatform, type Descriptor } from '../../plugins/distribution-registry/manifests.js';
import { isLoopback } from '../../plugins/distribution-registry/registry-transport.js';
import { authKeyOf, registryOfName } from '../../cli/lib/registry-config.js';

const D = (n: number): string => `sha256:${String(n).repeat(64).slice(0, 64)}`;

describe('registry names, platforms and credentials (unit)', () => {
  it('reads names as Docker does: docker.io and library/, a host with a port, digests', () => {
    assert.deepEqual(remoteOf(parseReference('busybox')), { registry: 'docker.io', repository: 'library/busybox', tag: 'latest' });
    assert.deepEqual(remoteOf(parseReference('team/app:v1')), { registry: 'docker.io', repository: 'team/app', tag: 'v1' });
    assert.deepEqual(remoteOf(parseReference('docker.io/library/redis:7')), { registry: 'docker.io', repository: 'library/redis', tag: '7' });
    assert.deepEqual(remoteOf(parseReference('127.0.0.1:5000/a/b:c')), { registry: '127.0.0.1:5000', repository: 'a/b', tag: 'c' });
    assert.deepEqual(remoteOf(parseReference(`localhost/x@${D(1)}`)), { registry: 'localhost', repository: 'x', digest: D(1) });
    assert.equal(registryOfName('127.0.0.1:5000/a/b'), '127.0.0.1:5000');
    assert.equal(registryOfName('team/app'), 'docker.io');
    assert.equal(authKeyOf('docker.io'), 'https://index.docker.io/v1/');
    assert.equal(authKeyOf('http://127.0.0.1:5000/'), '127.0.0.1:5000');
    assert.equal(registryHost('https://index.docker.io/v1/'), 'docker.io');
    assert.equal(registryHost('127.0.0.1:5000'), '127.0.0.1:5000');
  });

  it('parses --platform, with aliases and an architecture alone', () => {
    assert.deepEqual(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
    assert.deepEqual(parsePlatform('x86_64'), { os: 'linux', architecture: 'amd64' });
    assert.throws(() => parsePlatform('linux//'), /invalid platform "linux\/\/"/);
  });

  it('reads X-Registry-Auth as the docker CLI sends it: username/password, auth, tokens; {} is anonymous', () => {
    const enc = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
    assert.equal(credentialsFromHeader('e30='), undefined);
    assert.equal(credentialsFromHeader(undefined), undefined);
    assert.deepEqual(credentialsFromHeader(enc({ username: 'a', password: 'b', serveraddress: 'x' })), { username: 'a', password: 'b' });
    assert.deepEqual(credentialsFromHeader(enc({ auth: Buffer.from('u:p:q').toString('base64') })), { username: 'u', password: 'p:q' });
    assert.deepEqual(credentialsFromHeader(enc({ identitytoken: 't' })), { identityToken: 't' });
    assert.throws(() => credentialsFromHeader('!!!'), /X-Registry-Auth is not base64-encoded JSON/);
  });

  it('parses WWW-Authenticate challenges, quoted and bare', () => {
    assert.deepEqual(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'), {
      scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' },
    });
    assert.deepEqual(parseChallenge('Basic realm=test'), { scheme: 'basic', params: { realm: 'test' } });
    assert.equal(isLoopback('127.1.2.3'), true);
    assert.equal(isLoopback('[::1]'), true);
    assert.equal(isLoopback('10.0.0.1'), false);
  });
});

describe('manifests (unit)', () => {
  const entry = (architecture: string, variant?: string, n = 1): Descriptor => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: D(n), size: 1, platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
  });

  it('picks the platform of an index: variants default as Docker (arm64 = v8), attestations never match', () => {
    const list = [{ ...entry('unknown', undefined, 9), platform: { os: 'unknown', architecture: 'unknown' } }, entry('amd64', undefined, 1), entry('arm', 'v6', 2), entry('arm', 'v7', 3), entry('arm64', undefined, 4)];
    assert.equal(selectPlatform(list, { os: 'linux', architecture: 'amd64' }, 'x').digest, D(1));
    assert.equal(selectPlatform(list, { os: 'linux', architecture: 'arm' }, 'x').digest, D(3));
    assert.equal(selectPlatform(list, { os: 'linux', architecture: 'arm', variant: 'v6' }, 'x').digest, D(2));
    assert.equal(selectPlatform(list, { os: 'linux', architecture: 'arm64', variant: 'v8' }, 'x').digest, D(4));
    assert.throws(() => selectPlatform(list, { os: 'windows', architecture: 'amd64' }, 'x'), /no matching manifest for windows\/amd64 in the manifest list entries of x \(it has linux\/amd64, linux\/arm\/v6, linux\/arm\/v7, linux\/arm64\)/);
  });

  it('refuses schema 1, non-images and zstd layers with the reason', () => {
    assert.throws(() => parseManifest(Buffer.from('{"schemaVersion":1}'), undefined, 'x:1'), /x:1 is an image of Docker's manifest schema 1/);
    assert.throws(() => parseManifest(Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.cncf.helm.config"}'), undefined, 'x:1'), /x:1 is not an image/);
    const m = parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: D(1), size: 2 }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: D(2), size: 3 }] })), 'application/vnd.oci.image.manifest.v1+json', 'x:1');
    assert.equal(m.kind, 'image');
    if (m.kind === 'image') assert.throws(() => checkLayerType(m.layers[0]!, 0, 'x:1'), /layer 1 of x:1 is compressed with zstd/);
    assert.throws(() => parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: 'md5:x', size: 2 }, layers: [] })), undefined, 'x:1'), /only sha256 digests/);
  });

  it('finds tar entries that leave the root: ../ names, hardlinks out, relative symlinks climbing above it', () => {
    const h = (path: string, type: TarHeader['type'] = 'file', linkname = ''): TarHeader => ({
      path, type, linkname, mode: 0o644, uid: 0, gid: 0, uname: '', gname: '', size: 0, mtime: 0, devmajor: 0, devminor: 0, xattrs: {},
    });
    assert.equal(unsafeEntry(h('etc/passwd')), undefined);
    assert.equal(unsafeEntry(h('./a/../b')), undefined);
    assert.equal(unsafeEntry(h('/abs/ok')), undefined);
    assert.match(unsafeEntry(h('../x')) ?? '', /entry "\.\.\/x" points outside the root/);
    assert.match(unsafeEntry(h('a/../../x')) ?? '', /points outside the root/);
    assert.match(unsafeEntry(h('l', 'hardlink', '../../etc/shadow')) ?? '', /hardlink "l" -> "\.\.\/\.\.\/etc\/shadow"/);
    assert.equal(unsafeEntry(h('usr/lib/x', 'symlink', '../../lib/x')), undefined);
    assert.equal(unsafeEntry(h('bin/sh', 'symlink', '/bin/busybox')), undefined);
    assert.match(unsafeEntry(h('usr/x', 'symlink', '../../../etc')) ?? '', /symlink "usr\/x" -> "\.\.\/\.\.\/\.\.\/etc" points outside the root/);
  });
});

describe('ImagePulled and ImagePushed in the fold (unit)', () => {
  it('record name@digest as RepoDigests once, newest last; the events validate', () => {
    const id = D(7);
    const events: EngineEvent[] = [
      {
        type: 'ImageCreated',
        data: {
          id, origin: 'pull', source: `127.0.0.1:5000/a@${D(1)}`, parent: null, layers: [{ diffId: D(2), size: 10 }],
          config: { Env: [], Cmd: ['sh'], Entrypoint: null, WorkingDir: '', User: '', Labels: {} }, history: [], created: '', architecture: 'amd64', os: 'linux',
        },
      },
      { type: 'ImageTagged', data: { id, ref: '127.0.0.1:5000/a:v1' } },
      { type: 'ImagePulled', data: { id, name: '127.0.0.1:5000/a', registry: '127.0.0.1:5000', repository: 'a', reference: 'v1', digest: D(1), layers: [D(3)] } },
      { type: 'ImagePushed', data: { id, name: '127.0.0.1:5000/b', registry: '127.0.0.1:5000', repository: 'b', tag: 'v2', digest: D(4), layers: [D(3)] } },
      { type: 'ImagePulled', data: { id, name: '127.0.0.1:5000/a', registry: '127.0.0.1:5000', repository: 'a', reference: 'v1', digest: D(1), layers: [D(3)] } },
    ];
    const state = given(events);
    assert.deepEqual(state.images[id]!.repoDigests, [`127.0.0.1:5000/b@${D(4)}`, `127.0.0.1:5000/a@${D(1)}`]);
    assert.equal(state.images[id]!.origin, 'pull');
  });
});

describe('pull leases on disk (unit)', () => {
  it('keep the layers they name until they expire or are released; expired and broken files go', async () => {
    const dir = await makeScratchDir('pull-lease');
    try {
      const now = Date.parse('2026-01-01T00:00:00Z');
      const lease = PullLease.open(dir.path, now);
      await lease.add(D(1));
      await lease.add(D(2));
      assert.deepEqual([...(await blobsKeptByPullLeases(dir.path, now + 1000))].sort(), [D(1), D(2)]);
      await mkdir(join(dir.path, 'leases'), { recursive: true });
      await writeFile(join(dir.path, 'leases', 'pull-broken.json'), '{');
      assert.deepEqual([...(await blobsKeptByPullLeases(dir.path, now + PULL_LEASE_MS + 1))], []);
      assert.deepEqual(await readdir(join(dir.path, 'leases')), []);
      const second = PullLease.open(dir.path, now);
      await second.add(D(3));
      await second.release();
      assert.deepEqual([...(await blobsKeptByPullLeases(dir.path, now))], []);
    } finally {
      await dir.dispose();
    }
  });
});
