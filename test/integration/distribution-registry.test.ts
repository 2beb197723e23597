import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { ContentStore } from '../../core/images/content-store.js';
import { ContentStoreLayerSink, ContentStoreLayerSource } from '../../core/images/layer-ingest.js';
import type { DistributionProgress, Platform, TransportOptions } from '../../core/plugins/distribution.js';
import { RegistryDistribution } from '../../plugins/distribution-registry/registry-distribution.js';
import {
  REGISTRY_TOOLS_MISSING, TamperingProxy, TestCa, TestRegistry, TokenServer, silentServer, skopeoPush, writeOciLayout, type LayoutResult,
} from '../fixtures/registry-server.js';
import { makeScratchDir } from '../fixtures/scratch-dir.js';
import { buildTar } from '../fixtures/tar-builder.js';

/** Every byte of a stream (a layer's tar from the store). */
async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const AMD64: Platform = { os: 'linux', architecture: 'amd64' };
const sha = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** A small layer tar with one file of `size` bytes of `fill` at `path`. */
function layer(path: string, fill: string, size = 4096): Promise<Buffer> {
  return buildTar([[{ path, type: 'file', mode: 0o644 }, Buffer.alloc(size, fill)]]);
}

function driverWith(options: Partial<TransportOptions> = {}): RegistryDistribution {
  const driver = new RegistryDistribution();
  driver.configure({ insecureRegistries: [], certsDir: '/nonexistent', timeoutMs: 10_000, ...options });
  return driver;
}

async function tmpFiles(store: ContentStore): Promise<string[]> {
  return (await readdir(join(store.root, 'tmp')).catch(() => [] as string[])).filter((n) => n.startsWith('pull-'));
}

describe('distribution.v1.registry against real registries on 127.0.0.1 (integration)', { skip: REGISTRY_TOOLS_MISSING }, () => {
  let scratch: Awaited<ReturnType<typeof makeScratchDir>>;
  let plain: TestRegistry;
  let layers: Buffer[];
  let single: LayoutResult;
  let multi: LayoutResult;
  const stopping: (() => Promise<void>)[] = [];

  before(async () => {
    scratch = await makeScratchDir('registry');
    plain = await TestRegistry.start(join(scratch.path, 'plain'));
    stopping.push(() => plain.stop());
    layers = [await layer('a/one', 'a', 300_000), await layer('b/two', 'b', 200_000), await layer('c/three', 'c', 100_000)];
    single = await writeOciLayout(join(scratch.path, 'single'), [{ platform: AMD64, layers }], 'v1', false);
    await skopeoPush(join(scratch.path, 'single'), 'v1', `${plain.host}/tools/three:v1`);
    const arm = [await layer('arm/only', 'r')];
    multi = await writeOciLayout(join(scratch.path, 'multi'), [
      { platform: AMD64, layers: [layers[0]!] },
      { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, layers: arm },
    ], 'multi', true);
    await skopeoPush(join(scratch.path, 'multi'), 'multi', `${plain.host}/tools/multi:latest`);
  });

  after(async () => {
    for (const stop of stopping.reverse()) await stop();
    await scratch.dispose();
  });

  async function freshStore(name: string): Promise<{ store: ContentStore; sink: ContentStoreLayerSink }> {
    const store = new ContentStore(join(scratch.path, name));
    return { store, sink: new ContentStoreLayerSink(store) };
  }

  it('pulls a 3-layer image: verified layers under their diff ids, the config, and Docker-style progress; a second pull reuses every layer', async () => {
    const { store, sink } = await freshStore('pull-plain');
    const progress: DistributionProgress[] = [];
    const driver = driverWith();
    const pulled = await driver.pull({ reference: { registry: plain.host, repository: 'tools/three', tag: 'v1' }, platform: AMD64, onProgress: (p) => progress.push(p) }, sink);
    assert.equal(pulled.manifestDigest, single.manifests[0]);
    assert.equal(pulled.repoDigest, single.manifests[0]);
    assert.equal(pulled.configDigest, single.configs[0]);
    assert.equal(sha(pulled.config), single.configs[0]);
    assert.deepEqual(pulled.layers.map((l) => l.diffId), layers.map(sha));
    assert.deepEqual(pulled.layers.map((l) => l.digest), single.layerDigests[0]);
    for (const l of layers) assert.deepEqual(await readAll(store.openLayer(sha(l))), l);
    assert.ok(progress.some((p) => p.status === 'Downloading' && p.total !== undefined && p.current === p.total));
    assert.equal(progress.filter((p) => p.status === 'Download complete').length, 3);
    assert.deepEqual(await tmpFiles(store), []);

    const again: DistributionProgress[] = [];
    const second = await driver.pull({ reference: { registry: plain.host, repository: 'tools/three', tag: 'v1' }, platform: AMD64, onProgress: (p) => again.push(p) }, sink);
    assert.ok(second.layers.every((l) => l.reused));
    assert.deepEqual(again.map((p) => p.status), ['Already exists', 'Already exists', 'Already exists']);
    await driver.close();
  });

  it('a pull cancelled after its first layer (the client went away) keeps that whole layer, leaves no temp file, and the next pull reuses it', async () => {
    const { store, sink } = await freshStore('pull-cancel');
    const driver = driverWith();
    const controller = new AbortController();
    const stored: string[] = [];
    const cancelling = {
      hasLayer: (diffId: string) => sink.hasLayer(diffId),
      storeLayer: async (bytes: AsyncIterable<Buffer>, expected: Parameters<typeof sink.storeLayer>[1], onBytes?: (n: number) => void) => {
        await sink.storeLayer(bytes, expected, onBytes);
        stored.push(expected.diffId);
        controller.abort();
      },
    };
    const reference = { registry: plain.host, repository: 'tools/three', tag: 'v1' };
    await assert.rejects(driver.pull({ reference, platform: AMD64, signal: controller.signal }, cancelling), /the pull was cancelled/);
    assert.ok(stored.length >= 1);
    for (const diffId of stored) assert.equal(await store.hasLayer(diffId), true);
    assert.deepEqual(await tmpFiles(store), []);
    const progress: DistributionProgress[] = [];
    const resumed = await driver.pull({ reference, platform: AMD64, onProgress: (p) => progress.push(p) }, sink);
    assert.deepEqual(resumed.layers.filter((l) => l.reused).map((l) => l.diffId).sort(), [...stored].sort());
    assert.equal(progress.filter((p) => p.status === 'Download complete').length, 3 - stored.length);
    await driver.close();
  });

  it('resolves an OCI index to the host platform or the one asked, by tag and by digest, and names the platforms it has when none matches', async () => {
    const { sink } = await freshStore('pull-multi');
    const driver = driverWith();
    const ref = { registry: plain.host, repository: 'tools/multi', tag: 'latest' };
    const amd = await driver.pull({ reference: ref, platform: AMD64 }, sink);
    assert.equal(amd.configDigest, multi.configs[0]);
    assert.equal(amd.repoDigest, multi.index);
    assert.equal(amd.manifestDigest, multi.manifests[0]);
    const arm = await driver.pull({ reference: { registry: plain.host, repository: 'tools/multi', digest: multi.index }, platform: { os: 'linux', architecture: 'arm64' } }, sink);
    assert.equal(arm.configDigest, multi.configs[1]);
    await assert.rejects(driver.pull({ reference: ref, platform: { os: 'linux', architecture: 's390x' } }, sink),
      /^DistributionError: no matching manifest for linux\/s390x in the manifest list entries of 127\.0\.0\.1:\d+\/tools\/multi:latest \(it has linux\/amd64, linux\/arm64\/v8\)$/);
    const described = await driver.resolve(ref);
    assert.equal(described.digest, multi.index);
    assert.deepEqual(described.platforms.map((p) => p.architecture), ['amd64', 'arm64']);
    await driver.close();
  });

  it('a tag that does not exist and a host that does not answer fail in one line naming them, within the timeout', async () => {
    const { sink } = await freshStore('pull-missing');
    const driver = driverWith({ timeoutMs: 1500 });
    await assert.rejects(driver.pull({ reference: { registry: plain.host, repository: 'tools/three', tag: 'nope' }, platform: AMD64 }, sink),
      (e: Error) => e.message === `manifest for ${plain.host}/tools/three:nope not found: manifest unknown`);
    const silent = await silentServer();
    try {
      await assert.rejects(driver.pull({ reference: { registry: silent.host, repository: 'x/y', tag: 'latest' }, platform: AMD64 }, sink),
        (e: Error) => e.message === `registry ${silent.host} did not answer within 1.5s (GET /v2/)`);
    } finally {
      await silent.stop();
    }
    await assert.rejects(driver.pull({ reference: { registry: '127.0.0.1:1', repository: 'x/y', tag: 'latest' }, platform: AMD64 }, sink),
      (e: Error) => e.message === 'cannot reach registry 127.0.0.1:1: connection refused');
    await driver.close();
  });

  it('a corrupt blob, a truncated one, an unsafe layer, zstd and schema 1 are refused in one line, and nothing half-stored remains', async () => {
    const proxy = await TamperingProxy.start(plain.host);
    stopping.push(() => proxy.stop());
    const { store, sink } = await freshStore('pull-bad');
    const driver = driverWith();
    const ref = { registry: proxy.host, repository: 'tools/three', tag: 'v1' };
    const victim = single.layerDigests[0]![1]!;
    proxy.blob = (digest, bytes) => {
      if (digest !== victim) return bytes;
      const copy = Buffer.from(bytes);
      copy[copy.length - 20]! ^= 0xff;
      return copy;
    };
    await assert.rejects(driver.pull({ reference: ref, platform: AMD64 }, sink),
      (e: Error) => e.message.startsWith(`layer ${victim.slice(7, 19)} (${victim}): `) && !e.message.includes('\n'));
    assert.equal(await store.hasLayer(sha(layers[1]!)), false);
    proxy.blob = (digest, bytes) => (digest === victim ? bytes.subarray(0, bytes.length - 100) : bytes);
    await assert.rejects(driver.pull({ reference: ref, platform: AMD64 }, sink), /truncated|gzip data is corrupt/);
    assert.equal(await store.hasLayer(sha(layers[1]!)), false);
    assert.deepEqual(await tmpFiles(store), []);
    proxy.blob = undefined;

    // A layer with ../ in a name, pushed as a real image.
    const evil = await buildTar([[{ path: '../../etc/evil', type: 'file', mode: 0o644 }, 'x']]);
    await writeOciLayout(join(scratch.path, 'evil'), [{ platform: AMD64, layers: [evil] }], 'evil', false);
    await skopeoPush(join(scratch.path, 'evil'), 'evil', `${plain.host}/tools/evil:latest`);
    await assert.rejects(driver.pull({ reference: { registry: plain.host, repository: 'tools/evil', tag: 'latest' }, platform: AMD64 }, sink),
      /: entry "\.\.\/\.\.\/etc\/evil" points outside the root: refused$/);
    const link = await buildTar([[{ path: 'up', type: 'symlink', linkname: '../../../../etc' }]]);
    await writeOciLayout(join(scratch.path, 'link'), [{ platform: AMD64, layers: [link] }], 'link', false);
    await skopeoPush(join(scratch.path, 'link'), 'link', `${plain.host}/tools/link:latest`);
    await assert.rejects(driver.pull({ reference: { registry: plain.host, repository: 'tools/link', tag: 'latest' }, platform: AMD64 }, sink),
      /symlink "up" -> "\.\.\/\.\.\/\.\.\/\.\.\/etc" points outside the root: refused$/);
    assert.equal(await store.hasLayer(sha(evil)), false);

    const manifestOf = (mediaType: string, layerType: string): Buffer => Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: single.configs[0], size: 10 },
      layers: [{ mediaType: layerType, digest: single.layerDigests[0]![0], size: 10 }],
    }));
    proxy.manifest = () => ({ body: manifestOf('application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.layer.v1.tar+zstd'), contentType: 'application/vnd.oci.image.manifest.v1+json' });
    await assert.rejects(driver.pull({ reference: ref, platform: AMD64 }, sink), /layer 1 of .* is compressed with zstd .*which this engine does not read/);
    proxy.manifest = () => ({ body: Buffer.from('{"schemaVersion":1,"name":"tools/three","tag":"v1","fsLayers":[]}'), contentType: 'application/vnd.docker.distribution.manifest.v1+prettyjws' });
    await assert.rejects(driver.pull({ reference: ref, platform: AMD64 }, sink), /manifest schema 1, which is deprecated and not supported/);
    proxy.manifest = undefined;
    await driver.close();
  });

  it('htpasswd Basic auth: anonymous is told to log in, wrong credentials are refused, right ones pull; login checks them', async () => {
    const secured = await TestRegistry.start(join(scratch.path, 'basic'), { basic: { user: 'alice', password: 's3cret' } });
    stopping.push(() => secured.stop());
    await skopeoPush(join(scratch.path, 'single'), 'v1', `${secured.host}/team/app:v1`, { creds: 'alice:s3cret' });
    const { sink } = await freshStore('pull-basic');
    const driver = driverWith();
    const reference = { registry: secured.host, repository: 'team/app', tag: 'v1' };
    await assert.rejects(driver.pull({ reference, platform: AMD64 }, sink),
      (e: Error) => e.message === `unauthorized: authentication required by ${secured.host}: run mini-docker login ${secured.host}`);
    await assert.rejects(driver.pull({ reference, platform: AMD64, credentials: { username: 'alice', password: 'wrong' } }, sink), /refused the credentials/);
    const pulled = await driver.pull({ reference, platform: AMD64, credentials: { username: 'alice', password: 's3cret' } }, sink);
    assert.equal(pulled.configDigest, single.configs[0]);
    await driver.login(secured.host, { username: 'alice', password: 's3cret' });
    await assert.rejects(driver.login(secured.host, { username: 'alice', password: 'nope' }), /^DistributionError: unauthorized: .* refused the credentials/);
    await driver.close();
  });

  it('TLS with a CA of its own: a host with a certs.d folder is spoken to in HTTPS, refused as untrusted with another CA, pulled with its own', async () => {
    const ca = await TestCa.make(join(scratch.path, 'ca'));
    const stranger = await TestCa.make(join(scratch.path, 'other-ca'));
    const tls = await TestRegistry.start(join(scratch.path, 'tls'), { tls: ca });
    stopping.push(() => tls.stop());
    const skopeoCerts = join(scratch.path, 'skopeo-certs');
    await mkdir(skopeoCerts, { recursive: true });
    await copyFile(ca.caPath, join(skopeoCerts, 'ca.crt'));
    await skopeoPush(join(scratch.path, 'single'), 'v1', `${tls.host}/secure/app:v1`, { caDir: skopeoCerts });
    const certsDir = join(scratch.path, 'certs.d');
    await mkdir(join(certsDir, tls.host), { recursive: true });
    await copyFile(stranger.caPath, join(certsDir, tls.host, 'ca.crt'));
    const { sink } = await freshStore('pull-tls');
    const reference = { registry: tls.host, repository: 'secure/app', tag: 'v1' };
    const untrusting = driverWith({ certsDir });
    await assert.rejects(untrusting.pull({ reference, platform: AMD64 }, sink), /^DistributionError: cannot reach registry 127\.0\.0\.1:\d+: its TLS certificate is not trusted/);
    await untrusting.close();
    await copyFile(ca.caPath, join(certsDir, tls.host, 'ca.crt'));
    const trusting = driverWith({ certsDir });
    const pulled = await trusting.pull({ reference, platform: AMD64 }, sink);
    assert.equal(pulled.configDigest, single.configs[0]);
    await trusting.close();
  });

  it('the Bearer flow: the challenge names the token server, whose token (asked with the credentials) lets the pull through', async () => {
    const tokens = await TokenServer.start(join(scratch.path, 'token'), { user: 'bob', password: 'pw' });
    stopping.push(() => tokens.stop());
    const bearer = await TestRegistry.start(join(scratch.path, 'bearer'), { token: tokens });
    stopping.push(() => bearer.stop());
    await skopeoPush(join(scratch.path, 'single'), 'v1', `${bearer.host}/team/tok:v1`, { creds: 'bob:pw' });
    const { sink } = await freshStore('pull-bearer');
    const driver = driverWith();
    const reference = { registry: bearer.host, repository: 'team/tok', tag: 'v1' };
    await assert.rejects(driver.pull({ reference, platform: AMD64 }, sink), /^DistributionError: unauthorized: authentication required by/);
    const before = tokens.issued;
    const pulled = await driver.pull({ reference, platform: AMD64, credentials: { username: 'bob', password: 'pw' } }, sink);
    assert.equal(pulled.configDigest, single.configs[0]);
    assert.ok(tokens.issued > before);
    await driver.close();
  });

  it('push: layers compressed from the store, blobs the registry has skipped, mounted from another repository; the pushed image pulls back the same', async () => {
    const { store, sink } = await freshStore('push');
    const driver = driverWith();
    const pulled = await driver.pull({ reference: { registry: plain.host, repository: 'tools/three', tag: 'v1' }, platform: AMD64 }, sink);
    const source = new ContentStoreLayerSource(store);
    const progress: DistributionProgress[] = [];
    const pushed = await driver.push({
      reference: { registry: plain.host, repository: 'copies/three', tag: 'v2' }, config: pulled.config, configDigest: pulled.configDigest,
      diffIds: pulled.layers.map((l) => l.diffId), mountFrom: [], onProgress: (p) => progress.push(p),
    }, source);
    assert.equal(progress.filter((p) => p.status === 'Pushed').length, 3);
    // The pull kept the bytes it fetched: the push sends them as they are (the registry's digests), compressing nothing.
    assert.deepEqual(pushed.layers.map((l) => l.digest), pulled.layers.map((l) => l.digest));
    const again: DistributionProgress[] = [];
    const second = await driver.push({
      reference: { registry: plain.host, repository: 'copies/three', tag: 'v3' }, config: pulled.config, configDigest: pulled.configDigest,
      diffIds: pulled.layers.map((l) => l.diffId), mountFrom: [], onProgress: (p) => again.push(p),
    }, source);
    assert.equal(second.digest, pushed.digest);
    assert.equal(again.filter((p) => p.status === 'Layer already exists').length, 3);
    const mounted: DistributionProgress[] = [];
    await driver.push({
      reference: { registry: plain.host, repository: 'others/three', tag: 'v1' }, config: pulled.config, configDigest: pulled.configDigest,
      diffIds: pulled.layers.map((l) => l.diffId), mountFrom: ['copies/three'], onProgress: (p) => mounted.push(p),
    }, source);
    assert.equal(mounted.filter((p) => p.status === 'Mounted from copies/three').length, 3);

    const { store: other, sink: otherSink } = await freshStore('push-back');
    const back = await driver.pull({ reference: { registry: plain.host, repository: 'others/three', tag: 'v1' }, platform: AMD64 }, otherSink);
    assert.equal(back.manifestDigest, pushed.digest);
    assert.equal(back.configDigest, pulled.configDigest);
    for (const l of layers) assert.deepEqual(await readAll(other.openLayer(sha(l))), l);
    await driver.close();
  });

  it('push of layers the store has no compressed copy of: compressed once, kept, and the next push sends the kept copy', async () => {
    const { store, sink } = await freshStore('push-compress');
    const driver = driverWith();
    const pulled = await driver.pull({ reference: { registry: plain.host, repository: 'tools/three', tag: 'v1' }, platform: AMD64 }, sink);
    // As for an imported or committed image: the tars, and no compressed copy.
    for (const l of layers) await store.importLayerTar(Readable.from([l]));
    await rm(join(store.root, 'compressed'), { recursive: true, force: true });
    const source = new ContentStoreLayerSource(store);
    const diffIds = pulled.layers.map((l) => l.diffId);
    const first = await driver.push({ reference: { registry: plain.host, repository: 'compressed/one', tag: 'v1' }, config: pulled.config, configDigest: pulled.configDigest, diffIds, mountFrom: [] }, source);
    for (const layer of first.layers) {
      const kept = await store.compressedCopy(layer.diffId);
      assert.equal(kept?.digest, layer.digest);
      assert.equal(kept?.size, layer.size);
      assert.equal(sha(gunzipSync(await readFile(kept.path))), layer.diffId);
      assert.equal(await store.layerSize(layer.diffId), gunzipSync(await readFile(kept.path)).length);
    }
    const second = await driver.push({ reference: { registry: plain.host, repository: 'compressed/two', tag: 'v1' }, config: pulled.config, configDigest: pulled.configDigest, diffIds, mountFrom: [] }, source);
    assert.equal(second.digest, first.digest);
    assert.deepEqual(await readdir(join(store.root, 'tmp')), []);
    // The garbage collection's removal of a layer takes its compressed copies with it.
    await store.removeBlob(diffIds[0]!);
    assert.equal(await store.compressedCopy(diffIds[0]!), undefined);
    await driver.close();
  });
});
