import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  canonicalJson, digestHex, imageConfigBytes, imageIdFor, importedImageDocument, ociArchitecture, type ImageConfigDocument,
} from '../../core/images/index.js';

const diffId = `sha256:${'ab'.repeat(32)}`;
const document: ImageConfigDocument = {
  architecture: 'amd64',
  os: 'linux',
  created: '2024-01-02T03:04:05Z',
  config: { Env: ['PATH=/bin'], Cmd: ['sh'], Entrypoint: null, WorkingDir: '/', User: '', Labels: { b: '2', a: '1' } },
  rootfs: { type: 'layers', diff_ids: [diffId] },
  history: [{ created: '2024-01-02T03:04:05Z', created_by: 'test' }],
};

describe('image configs and ids', () => {
  it('writes canonical JSON: sorted keys at every level, no whitespace, no undefined', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined }], c: null }, u: undefined }), '{"a":{"c":null,"d":[3,{"z":1}]},"b":1}');
  });

  it('the image id is the sha256 of the canonical config bytes, whatever the key order', () => {
    const id = imageIdFor(document);
    assert.match(id, /^sha256:[a-f0-9]{64}$/);
    assert.equal(id, `sha256:${createHash('sha256').update(imageConfigBytes(document)).digest('hex')}`);
    const reordered: ImageConfigDocument = {
      history: document.history,
      rootfs: { diff_ids: [diffId], type: 'layers' },
      config: { ...document.config, Labels: { a: '1', b: '2' } },
      created: document.created,
      os: 'linux',
      architecture: 'amd64',
    };
    assert.equal(imageIdFor(reordered), id);
    assert.notEqual(imageIdFor({ ...document, config: { ...document.config, Cmd: ['true'] } }), id);
    const parsed = JSON.parse(imageConfigBytes(document).toString()) as ImageConfigDocument;
    assert.deepEqual(parsed.rootfs, { type: 'layers', diff_ids: [diffId] });
  });

  it('checks digests and names architectures the OCI way', () => {
    assert.equal(digestHex(diffId), 'ab'.repeat(32));
    assert.throws(() => digestHex('sha256:AB'), /invalid digest/);
    assert.throws(() => digestHex(`sha512:${'ab'.repeat(32)}`), /invalid digest/);
    assert.equal(ociArchitecture('x64'), 'amd64');
    assert.equal(ociArchitecture('arm64'), 'arm64');
  });

  it('describes an imported tarball: no command, one history entry, a stable id for a fixed date', () => {
    const imported = importedImageDocument(diffId, '/tmp/busybox.tar', '1970-01-01T00:00:00Z');
    assert.deepEqual(imported.rootfs.diff_ids, [diffId]);
    assert.equal(imported.config.Cmd, null);
    assert.equal(imported.history[0]!.comment, 'Imported from /tmp/busybox.tar');
    assert.equal(imageIdFor(imported), imageIdFor(importedImageDocument(diffId, '/tmp/busybox.tar', '1970-01-01T00:00:00Z')));
    assert.throws(() => importedImageDocument('nope', 'x', '1970-01-01T00:00:00Z'), /invalid digest/);
  });
});
