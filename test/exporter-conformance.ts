/**
 * The conformance suite every exporter.v1 driver passes: call `exporterConformance(name, factory)`
 * with a factory that returns a new, uninitialised driver. The suite gives it a fresh state folder
 * and checks the contract the engine relies on: `exportDiff` writes the storage driver's diff
 * stream as the commit's layer, byte for byte, resolving with its size, and stops (rejecting) when
 * the content store destroys `out` or the diff fails; `exportTree` writes a folder as one tar, as
 * it is (no whiteout conversion), resolving with the bytes written. No root, no kernel.
 *
 *   exporterConformance('commit', () => new CommitExporter());
 */
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { readTar } from '../core/archive/index.js';
import type { DriverContext, ExporterDriver } from '../core/plugins/driver.js';
import { makeScratchDir } from './fixtures/scratch-dir.js';
import { buildTar } from './fixtures/tar-builder.js';
import { memoryLogger } from './limiter-conformance.js';

/** A writable that keeps what it was given. */
function collector(): { out: Writable; bytes(): Buffer } {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  return { out, bytes: () => Buffer.concat(chunks) };
}

async function tarEntries(tar: Buffer): Promise<Map<string, { type: string; data: string; mode: number; linkname: string }>> {
  const entries = new Map<string, { type: string; data: string; mode: number; linkname: string }>();
  for await (const { header, body } of readTar(Readable.from([tar]))) {
    const parts: Buffer[] = [];
    for await (const chunk of body) parts.push(Buffer.from(chunk));
    entries.set(header.path.replace(/\/$/, ''), { type: header.type, data: Buffer.concat(parts).toString(), mode: header.mode & 0o7777, linkname: header.linkname });
  }
  return entries;
}

export function exporterConformance(name: string, factory: () => ExporterDriver | Promise<ExporterDriver>): void {
  describe(`exporter conformance: ${name}`, () => {
    let scratch: { path: string; dispose(): Promise<void> };
    let driver: ExporterDriver;

    before(async () => {
      scratch = await makeScratchDir(`exporter-${name}`);
      driver = await factory();
      const context: DriverContext = {
        dataRoot: join(scratch.path, 'data'), execRoot: join(scratch.path, 'run'),
        stateDir: join(scratch.path, 'data', driver.id), runDir: join(scratch.path, 'run', driver.id), logger: memoryLogger(),
      };
      assert.deepEqual(await driver.init(context), { status: 'ok' }, 'an exporter needs nothing of the host');
    });

    after(async () => {
      await driver?.close?.();
      await scratch?.dispose();
    });

    it(`its id is exporter.v1.${name}`, () => {
      assert.equal(driver.id, `exporter.v1.${name}`);
    });

    it("exportDiff writes the diff stream as the commit's layer, byte for byte, and resolves with its size", async () => {
      const layer = await buildTar([
        [{ path: 'etc', type: 'directory' }],
        [{ path: 'etc/written', type: 'file' }, 'by the container'],
        [{ path: 'etc/.wh.base-file', type: 'file' }],
        [{ path: 'opq', type: 'directory' }],
        [{ path: 'opq/.wh..wh..opq', type: 'file' }],
      ]);
      const pieces = [layer.subarray(0, 700), layer.subarray(700, 1500), layer.subarray(1500)];
      const { out, bytes } = collector();
      const size = await driver.exportDiff(Readable.from(pieces), out);
      assert.equal(size, layer.length);
      assert.ok(bytes().equals(layer), 'the layer is the diff as storage made it: whiteouts stay OCI whiteouts');
      const { out: empty, bytes: none } = collector();
      assert.equal(await driver.exportDiff(Readable.from([]), empty), 0, 'an empty diff is an empty layer');
      assert.equal(none().length, 0);
    });

    it('exportDiff stops when the content store destroys out: it rejects and reads the diff no further', async () => {
      let produced = 0;
      const diff = new Readable({
        read() {
          produced += 1;
          this.push(Buffer.alloc(64 * 1024, 1)); // endless: only a stop ends it
        },
      });
      let taken = 0;
      const out = new Writable({
        write(chunk: Buffer, _encoding, done) {
          taken += chunk.length;
          if (taken > 256 * 1024) done(new Error('the content store refused the bytes: digest mismatch'));
          else done();
        },
      });
      await assert.rejects(driver.exportDiff(diff, out), /refused/);
      const after = produced;
      await new Promise((r) => setImmediate(r));
      assert.equal(produced, after, 'nothing more is read from the diff');
      assert.ok(diff.destroyed, 'the diff stream is destroyed');
    });

    it("exportDiff fails with the diff stream's error", async () => {
      const diff = new PassThrough();
      const { out } = collector();
      const done = driver.exportDiff(diff, out);
      diff.write(Buffer.alloc(512));
      diff.destroy(new Error('storage could not read the upper layer'));
      await assert.rejects(done, /could not read the upper layer/);
    });

    it('exportTree writes a folder as one tar, as it is, and resolves with the bytes written', async () => {
      const root = join(scratch.path, 'tree');
      await mkdir(join(root, 'bin'), { recursive: true });
      await mkdir(join(root, 'etc'), { recursive: true });
      await writeFile(join(root, 'bin', 'tool'), '#!/bin/sh\necho tool\n', { mode: 0o755 });
      await writeFile(join(root, 'etc', 'hostname'), 'box\n', { mode: 0o644 });
      await writeFile(join(root, 'etc', '.wh.kept'), 'an ordinary file whose name looks like a whiteout');
      await symlink('/bin/tool', join(root, 'bin', 'link'));
      const { out, bytes } = collector();
      const size = await driver.exportTree(root, out);
      assert.equal(size, bytes().length);
      const entries = await tarEntries(bytes());
      assert.deepEqual(entries.get('bin/tool'), { type: 'file', data: '#!/bin/sh\necho tool\n', mode: 0o755, linkname: '' });
      assert.equal(entries.get('etc/hostname')?.data, 'box\n');
      assert.equal(entries.get('etc/.wh.kept')?.data, 'an ordinary file whose name looks like a whiteout', 'no whiteout conversion');
      assert.equal(entries.get('bin/link')?.type, 'symlink');
      assert.equal(entries.get('bin/link')?.linkname, '/bin/tool');
      assert.equal(entries.get('etc')?.type, 'directory');
    });

    it('exportTree of a folder that is not there rejects, naming it', async () => {
      const missing = join(scratch.path, 'not-there');
      const { out } = collector();
      await assert.rejects(driver.exportTree(missing, out), (err: unknown) => err instanceof Error && err.message.includes('not-there'));
    });
  });
}
