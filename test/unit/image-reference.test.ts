import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidReferenceError, looksLikeTarPath, parseReference } from '../../core/images/index.js';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

describe('image references', () => {
  it('normalizes to the familiar form', () => {
    const cases: [string, object][] = [
      ['busybox', { repo: 'busybox', tag: 'latest', ref: 'busybox:latest' }],
      ['busybox:1.36', { repo: 'busybox', tag: '1.36', ref: 'busybox:1.36' }],
      ['docker.io/library/x:v1', { repo: 'x', tag: 'v1', ref: 'x:v1' }],
      ['index.docker.io/library/x', { repo: 'x', tag: 'latest', ref: 'x:latest' }],
      ['library/ubuntu', { repo: 'ubuntu', tag: 'latest', ref: 'ubuntu:latest' }],
      ['docker.io/foo/bar', { repo: 'foo/bar', tag: 'latest', ref: 'foo/bar:latest' }],
      ['foo/bar/baz:Tag_1.x-y', { repo: 'foo/bar/baz', tag: 'Tag_1.x-y', ref: 'foo/bar/baz:Tag_1.x-y' }],
      ['localhost/x', { repo: 'localhost/x', tag: 'latest', ref: 'localhost/x:latest' }],
      ['localhost:5000/a/b:c', { repo: 'localhost:5000/a/b', tag: 'c', ref: 'localhost:5000/a/b:c' }],
      ['registry.example.com:443/team/app', { repo: 'registry.example.com:443/team/app', tag: 'latest', ref: 'registry.example.com:443/team/app:latest' }],
      ['[::1]:5000/x:y', { repo: '[::1]:5000/x', tag: 'y', ref: '[::1]:5000/x:y' }],
      ['my_app.v2__x--y', { repo: 'my_app.v2__x--y', tag: 'latest', ref: 'my_app.v2__x--y:latest' }],
      [`busybox@${DIGEST}`, { repo: 'busybox', digest: DIGEST, ref: `busybox@${DIGEST}` }],
      [`busybox:1@${DIGEST}`, { repo: 'busybox', tag: '1', digest: DIGEST, ref: `busybox:1@${DIGEST}` }],
    ];
    for (const [input, expected] of cases) assert.deepEqual(parseReference(input), expected, input);
  });

  it('refuses invalid references with a reason', () => {
    const cases: [string, RegExp][] = [
      ['', /empty/],
      ['Busybox', /must be lowercase/],
      ['foo/Bar', /must be lowercase/],
      ['busybox:', /invalid tag/],
      ['busybox:-x', /invalid tag/],
      [`busybox:${'t'.repeat(129)}`, /invalid tag/],
      ['busybox@sha256:abc', /digest/],
      ['a//b', /component ""/],
      ['-x', /component/],
      ['x_', /component/],
      [':tag', /no repository/],
      ['a b', /component/],
      ['0123456789abcdef'.repeat(4), /hexadecimal/],
      ['bad_host.com/x', /registry host/],
      [`${'a'.repeat(250)}/b`, /255/],
    ];
    for (const [input, pattern] of cases) {
      assert.throws(() => parseReference(input), (error: unknown) => error instanceof InvalidReferenceError && pattern.test(error.message), input);
    }
  });

  it('tells tarball paths from references', () => {
    for (const path of ['/tmp/busybox.tar', './image.tar', '../x', '~/img.tgz', 'busybox.tar', 'rootfs.TAR.GZ', '/abs/no-extension']) {
      assert.equal(looksLikeTarPath(path), true, path);
    }
    for (const ref of ['busybox', 'busybox:latest', 'localhost:5000/a/b', 'foo/bar.tarball', 'tar']) {
      assert.equal(looksLikeTarPath(ref), false, ref);
    }
  });
});
