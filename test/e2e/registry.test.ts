import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { buildTar } from '../fixtures/tar-builder.js';
import { busyboxRootfsTar } from '../fixtures/test-image.js';
import { REGISTRY_TOOLS_MISSING, TestRegistry, skopeoPush, writeOciLayout, type LayoutResult } from '../fixtures/registry-server.js';
import { DOCKER_CLIENT_MISSING, TestDaemon, dockerPart, until } from './harness.js';

const TIMEOUT_MS = 120_000;
const runTool = promisify(execFile);

/** The last non-empty line of a command's output. */
const lastLine = (text: string): string => text.trim().split('\n').pop() ?? '';

/**
 * Issue 12 as a user meets it: a real mini-dockerd, real registries (Debian's docker-registry)
 * on 127.0.0.1, images made here from the host's busybox and pushed with skopeo; then
 * `mini-docker pull/run/push/login/logout` and the docker CLI against our daemon.
 */
describe('pull, run, push and login against real registries (e2e)', { skip: REGISTRY_TOOLS_MISSING, timeout: 600_000 }, () => {
  let daemon: TestDaemon;
  let plain: TestRegistry;
  let basic: TestRegistry;
  let image: LayoutResult;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    daemon = new TestDaemon('registry');
    env = { DOCKER_CONFIG: join(daemon.root, 'docker-config') };
    plain = await TestRegistry.start(join(daemon.root, 'registry-plain'));
    basic = await TestRegistry.start(join(daemon.root, 'registry-basic'), { basic: { user: 'alice', password: 'wonderland' } });
    const busybox = await readFile((await busyboxRootfsTar()).path);
    const layers = [
      busybox,
      await buildTar([[{ path: 'data', type: 'directory', mode: 0o755 }], [{ path: 'data/one', type: 'file', mode: 0o644 }, Buffer.alloc(700_000, 'x')]]),
      await buildTar([[{ path: 'data/two', type: 'file', mode: 0o644 }, 'second layer\n']]),
    ];
    image = await writeOciLayout(join(daemon.root, 'layout'), [{ platform: { os: 'linux', architecture: 'amd64' }, layers, cmd: ['cat', '/data/two'] }], 'v1', false);
    for (const repo of ['tools/bb:v1', 'tools/other:v1', 'tools/crash:v1', 'tools/docker:v1', 'tools/dockerrun:v1']) {
      await skopeoPush(join(daemon.root, 'layout'), 'v1', `${plain.host}/${repo}`);
    }
    await skopeoPush(join(daemon.root, 'layout'), 'v1', `${basic.host}/private/bb:v1`, { creds: 'alice:wonderland' });
    await daemon.start();
  });

  after(async () => {
    await daemon.cleanup().catch(() => undefined);
    await plain?.stop();
    await basic?.stop();
  });

  it('pull shows Docker\'s lines and records the image with its RepoDigest; run starts it; events show the pull', async () => {
    const name = `${plain.host}/tools/bb:v1`;
    const pulled = await daemon.cli(['pull', name], { env, timeoutMs: TIMEOUT_MS });
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.match(pulled.stdout, /^v1: Pulling from tools\/bb$/m);
    assert.match(pulled.stdout, /: Pull complete$/m);
    assert.match(pulled.stdout, new RegExp(`^Digest: ${image.manifests[0]}$`, 'm'));
    assert.match(pulled.stdout, new RegExp(`^Status: Downloaded newer image for ${name.replace(/\./g, '\\.')}$`, 'm'));
    assert.equal(lastLine(pulled.stdout), name);

    const inspect = await daemon.cli(['inspect', name], { env });
    const doc = (JSON.parse(inspect.stdout) as { Id: string; RepoDigests: string[] }[])[0]!;
    assert.equal(doc.Id, image.configs[0]);
    assert.deepEqual(doc.RepoDigests, [`${plain.host}/tools/bb@${image.manifests[0]}`]);
    const digests = await daemon.cli(['images', '--digests', '--format', '{{.Repository}} {{.Digest}}'], { env });
    assert.match(digests.stdout, new RegExp(`^${plain.host.replace(/\./g, '\\.')}/tools/bb ${image.manifests[0]}$`, 'm'));

    const described = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ socketPath: daemon.socketPath, path: `/v1.50/distribution/${encodeURIComponent(name)}/json` }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => { body += d; }).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject).end();
    });
    assert.equal(described.status, 200, described.body);
    assert.equal((JSON.parse(described.body) as { Descriptor: { digest: string } }).Descriptor.digest, image.manifests[0]);

    const again = await daemon.cli(['pull', name], { env, timeoutMs: TIMEOUT_MS });
    assert.match(again.stdout, /Status: Image is up to date for /);
    assert.doesNotMatch(again.stdout, /Downloading/);

    const run = await daemon.cli(['run', '--rm', name], { env, timeoutMs: TIMEOUT_MS });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'second layer\n');
    const events = await daemon.cli(['events', '--since', '10m', '--until', '0s', '--filter', 'event=pull'], { env });
    assert.match(events.stdout, new RegExp(`image pull ${name.replace(/\./g, '\\.')}`));
  });

  it('run of an image not here pulls it first (progress on stderr), as docker run does; --pull never refuses', async () => {
    const name = `${plain.host}/tools/other:v1`;
    const never = await daemon.cli(['run', '--rm', '--pull', 'never', name], { env });
    assert.equal(never.code, 125);
    assert.match(never.stderr, /No such image/);
    const run = await daemon.cli(['run', '--rm', name, 'ls', '/data'], { env, timeoutMs: TIMEOUT_MS });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, new RegExp(`Unable to find image '${name.replace(/\./g, '\\.')}' locally`));
    assert.equal(run.stdout, 'one\ntwo\n');
  });

  it('save of a pulled image (its layers kept only compressed) writes each layer tar under its diff id; load of it into a daemon without its layers brings the image back', async () => {
    const name = `${plain.host}/tools/other:v1`;
    if ((await daemon.cli(['images', '-q', name], { env })).stdout.trim() === '') assert.equal((await daemon.cli(['pull', '-q', name], { env, timeoutMs: TIMEOUT_MS })).code, 0);
    const inspected = JSON.parse((await daemon.cli(['inspect', name], { env })).stdout) as { Id: string; RootFS: { Layers: string[] } }[];
    const { Id: id, RootFS: { Layers: diffIds } } = inspected[0]!;
    const archive = join(daemon.root, 'pulled-save.tar');
    const saved = await daemon.cli(['save', '-o', archive, name], { env, timeoutMs: TIMEOUT_MS });
    assert.equal(saved.code, 0, saved.stderr);

    // Every blob of the archive is what its name says; the layers are there under their diff ids.
    const extracted = join(daemon.root, 'pulled-save');
    await mkdir(extracted);
    await runTool('tar', ['-xf', archive, '-C', extracted]);
    const blobs = await readdir(join(extracted, 'blobs', 'sha256'));
    for (const hex of blobs) {
      assert.equal(createHash('sha256').update(await readFile(join(extracted, 'blobs', 'sha256', hex))).digest('hex'), hex, `blobs/sha256/${hex}`);
    }
    for (const diffId of diffIds) assert.ok(blobs.includes(diffId.slice('sha256:'.length)), `the layer ${diffId} is in the archive`);

    // Loaded by a daemon whose store has none of the layers: every layer is read from the archive and checked.
    const fresh = new TestDaemon('registry-load');
    try {
      await fresh.start();
      const loaded = await fresh.cli(['load', '-i', archive], { timeoutMs: TIMEOUT_MS });
      assert.equal(loaded.code, 0, loaded.stderr);
      assert.equal(loaded.stdout, `Loaded image: ${name}\n`);
      assert.equal((await fresh.cli(['inspect', '--format', '{{.Id}}', name])).stdout.trim(), id);
      const listed = await fresh.cli(['run', '--rm', name, 'ls', '/data'], { timeoutMs: TIMEOUT_MS });
      assert.equal(listed.stdout, 'one\ntwo\n', listed.stderr);
    } finally {
      await fresh.cleanup();
    }
  });

  it('load of an OCI archive whose gzip layers are the compressed copies a pull kept skips them (no tar written); their digests say so without reading them', async () => {
    const name = `${plain.host}/tools/bb:v1`;
    if ((await daemon.cli(['images', '-q', name], { env })).stdout.trim() === '') assert.equal((await daemon.cli(['pull', '-q', name], { env, timeoutMs: TIMEOUT_MS })).code, 0);
    const inspected = JSON.parse((await daemon.cli(['inspect', name], { env })).stdout) as { Id: string; RootFS: { Layers: string[] } }[];
    const { Id: id, RootFS: { Layers: diffIds } } = inspected[0]!;
    const tarOf = (diffId: string): string => join(daemon.dataRoot, 'images', 'blobs', 'sha256', diffId.slice('sha256:'.length));
    // The layers kept only compressed (the first is also the built-in busybox image's, whose tar the store has).
    const compressedOnly: string[] = [];
    for (const diffId of diffIds) if (!existsSync(tarOf(diffId))) compressedOnly.push(diffId);
    assert.deepEqual(compressedOnly, diffIds.slice(1));
    // The registry's blobs as they are (skopeo does not recompress): the same bytes as the kept copies.
    const archive = join(daemon.root, 'registry-blobs.oci.tar');
    await runTool('skopeo', ['--insecure-policy', 'copy', '--src-tls-verify=false', `docker://${name}`, `oci-archive:${archive}:again/bb:v1`], { timeout: TIMEOUT_MS });
    const loaded = await daemon.cli(['load', '-i', archive], { env, timeoutMs: TIMEOUT_MS });
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.equal((await daemon.cli(['inspect', '--format', '{{.Id}}', 'again/bb:v1'], { env })).stdout.trim(), id);
    for (const diffId of compressedOnly) assert.ok(!existsSync(tarOf(diffId)), `layer ${diffId} was not imported again`);
    assert.equal((await daemon.cli(['rmi', 'again/bb:v1'], { env })).code, 0);
  });

  it('a damaged compressed copy met by save cuts the archive (the reason in the daemon\'s log) and is moved aside: a pull of another image sharing the layer fetches it again', async () => {
    const name = `${plain.host}/tools/bb:v1`;
    const other = `${plain.host}/tools/other:v1`;
    for (const n of [name, other]) {
      if ((await daemon.cli(['images', '-q', n], { env })).stdout.trim() === '') assert.equal((await daemon.cli(['pull', '-q', n], { env, timeoutMs: TIMEOUT_MS })).code, 0);
    }
    const diffIds = (JSON.parse((await daemon.cli(['inspect', name], { env })).stdout) as { RootFS: { Layers: string[] } }[])[0]!.RootFS.Layers;
    const last = diffIds.at(-1)!; // kept only compressed (a pulled layer), shared by both images
    const dir = join(daemon.dataRoot, 'images', 'compressed', last.slice('sha256:'.length));
    const [copy] = await readdir(dir);
    assert.ok(copy !== undefined && /^[a-f0-9]{64}-\d+$/.test(copy), `one copy named <digest>-<size>: ${copy}`);
    // Valid gzip of another tar: only the diff id, checked at the layer's end, finds it out.
    await writeFile(join(dir, copy), gzipSync(await buildTar([[{ path: 'data/two', type: 'file', mode: 0o644 }, 'not the layer\n']])));

    const archive = join(daemon.root, 'damaged-save.tar');
    const saved = await daemon.cli(['save', '-o', archive, name], { env, timeoutMs: TIMEOUT_MS });
    assert.notEqual(saved.code, 0, 'the archive was cut');
    assert.equal(existsSync(archive), false, 'no file is left');
    // The client sees the archive cut as soon as the stream breaks; the daemon logs why right after.
    const reason = new RegExp(`save of .* failed: the compressed copy of layer ${last} in the image store is damaged \\(uncompressed it is sha256:[a-f0-9]{64}\\); it was moved aside: pull an image that has the layer again`);
    await until('the daemon to log why the save failed', () => (reason.test(daemon.log()) ? true : undefined));
    assert.deepEqual(await readdir(dir), [`${copy}.damaged`]);

    // The other image has the layer too (the collection keeps the folder): its pull fetches the layer again, not "Already exists".
    const pulled = await daemon.cli(['pull', other], { env, timeoutMs: TIMEOUT_MS });
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.match(pulled.stdout, new RegExp(`^${copy.slice(0, 12)}: Pull complete$`, 'm'));
    assert.deepEqual(await readdir(dir), [copy]);
    const again = await daemon.cli(['save', '-o', archive, name], { env, timeoutMs: TIMEOUT_MS });
    assert.equal(again.code, 0, again.stderr);
  });

  it('push to another repository prints the digest as Docker does; a pull by that digest gets the same image', async () => {
    const source = `${plain.host}/tools/bb:v1`;
    const target = `${plain.host}/copies/bb:v2`;
    assert.equal((await daemon.cli(['tag', source, target], { env })).code, 0);
    const pushed = await daemon.cli(['push', target], { env, timeoutMs: TIMEOUT_MS });
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.match(pushed.stdout, new RegExp(`^The push refers to repository \\[${plain.host.replace(/\./g, '\\.')}/copies/bb\\]$`, 'm'));
    const m = /^v2: digest: (sha256:[a-f0-9]{64}) size: \d+$/m.exec(pushed.stdout);
    assert.ok(m, pushed.stdout);
    assert.match(pushed.stdout, /: Mounted from tools\/bb$/m);
    const byDigest = await daemon.cli(['pull', `${plain.host}/copies/bb@${m[1]}`], { env, timeoutMs: TIMEOUT_MS });
    assert.equal(byDigest.code, 0, byDigest.stderr);
    const inspect = await daemon.cli(['inspect', source], { env });
    const doc = (JSON.parse(inspect.stdout) as { Id: string; RepoDigests: string[] }[])[0]!;
    assert.equal(doc.Id, image.configs[0]);
    assert.ok(doc.RepoDigests.includes(`${plain.host}/copies/bb@${m[1]}`), doc.RepoDigests.join(' '));
  });

  it('a missing tag and an unreachable host are one line with exit 1, and the daemon keeps serving', async () => {
    const missing = await daemon.cli(['pull', `${plain.host}/tools/bb:nope`], { env });
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.trim(), `Error response from daemon: manifest for ${plain.host}/tools/bb:nope not found: manifest unknown`);
    const refused = await daemon.cli(['pull', '127.0.0.1:1/x/y'], { env });
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr.trim(), 'Error response from daemon: cannot reach registry 127.0.0.1:1: connection refused');
    assert.equal((await daemon.cli(['images', '-q'], { env })).code, 0);
  });

  it('login checks and stores credentials in config.json; pull then works; logout forgets them', async () => {
    const name = `${basic.host}/private/bb:v1`;
    const anonymous = await daemon.cli(['pull', name], { env });
    assert.equal(anonymous.code, 1);
    assert.equal(anonymous.stderr.trim(), `Error response from daemon: unauthorized: authentication required by ${basic.host}: run mini-docker login ${basic.host}`);
    const wrong = await daemon.cli(['login', '-u', 'alice', '--password-stdin', basic.host], { env, input: 'nope\n' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /refused the credentials/);
    const login = await daemon.cli(['login', '-u', 'alice', '--password-stdin', basic.host], { env, input: 'wonderland\n' });
    assert.equal(login.code, 0, login.stderr);
    assert.equal(login.stdout.trim(), 'Login Succeeded');
    const config = JSON.parse(await readFile(join(env.DOCKER_CONFIG!, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(config.auths[basic.host]!.auth, 'base64').toString(), 'alice:wonderland');
    const pulled = await daemon.cli(['pull', '-q', name], { env, timeoutMs: TIMEOUT_MS });
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(pulled.stdout.trim(), name);
    const logout = await daemon.cli(['logout', basic.host], { env });
    assert.equal(logout.stdout.trim(), `Removing login credentials for ${basic.host}`);
    assert.equal((await daemon.cli(['rmi', name], { env })).code, 0);
    assert.equal((await daemon.cli(['pull', name], { env })).code, 1);
  });

  it('pull --all-tags pulls every tag the registry lists; a tag with -a is refused', async () => {
    for (const tag of ['v1', 'v2', 'v3']) await skopeoPush(join(daemon.root, 'layout'), 'v1', `${plain.host}/tools/multi:${tag}`);
    const name = `${plain.host}/tools/multi`;
    const pulled = await daemon.cli(['pull', '--all-tags', name], { env, timeoutMs: TIMEOUT_MS });
    assert.equal(pulled.code, 0, pulled.stderr);
    for (const tag of ['v1', 'v2', 'v3']) assert.match(pulled.stdout, new RegExp(`^${tag}: Pulling from tools/multi$`, 'm'));
    assert.equal(pulled.stdout.match(/^Digest: /gm)?.length, 3);
    assert.match(pulled.stdout, new RegExp(`^Status: Downloaded newer image for ${name.replace(/\./g, '\\.')}$`, 'm'));
    assert.equal(pulled.stdout.trim().split('\n').at(-1), name);
    const images = await daemon.cli(['images', '--format', '{{.Repository}}:{{.Tag}}', name], { env });
    assert.deepEqual(images.stdout.trim().split('\n').sort(), [`${name}:v1`, `${name}:v2`, `${name}:v3`]);
    const again = await daemon.cli(['pull', '-a', name], { env, timeoutMs: TIMEOUT_MS });
    assert.match(again.stdout, new RegExp(`^Status: Image is up to date for ${name.replace(/\./g, '\\.')}$`, 'm'));
    const tagged = await daemon.cli(['pull', '-a', `${name}:v1`], { env });
    assert.equal(tagged.code, 1);
    assert.equal(tagged.stderr.trim(), 'Error: tag can\'t be used with --all-tags/-a');
    const missing = await daemon.cli(['pull', '-a', `${plain.host}/tools/nothing`], { env });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error response from daemon: repository .*tools\/nothing not found/);
    assert.equal((await daemon.cli(['rmi', `${name}:v1`, `${name}:v2`, `${name}:v3`], { env })).code, 0);
  });

  it('a credential helper named by config.json (credsStore) keeps the secret: login stores it there, pull asks it, logout erases it', async () => {
    const name = `${basic.host}/private/bb:v1`;
    // A real program speaking the docker-credential-helpers protocol (store/get/erase on stdin),
    // keeping each server's JSON in a folder of the test's own.
    const bin = join(daemon.root, 'helper-bin');
    const kept = join(daemon.root, 'helper-store');
    await mkdir(bin, { recursive: true });
    await mkdir(kept, { recursive: true });
    await writeFile(join(bin, 'docker-credential-testkeeper'), `#!/bin/sh
set -e
store=${kept}
case "$1" in
  store) json=$(cat); server=$(printf '%s' "$json" | sed 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/'); printf '%s' "$json" > "$store/$(printf '%s' "$server" | tr '/:' '__')";;
  get) server=$(cat); f="$store/$(printf '%s' "$server" | tr '/:' '__')"; if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi;;
  erase) server=$(cat); f="$store/$(printf '%s' "$server" | tr '/:' '__')"; if [ -f "$f" ]; then rm "$f"; else echo "credentials not found in native keychain"; exit 1; fi;;
  *) echo "unknown action $1"; exit 1;;
esac
`, { mode: 0o755 });
    const helperEnv = { DOCKER_CONFIG: join(daemon.root, 'docker-config-helper'), PATH: `${bin}:${process.env.PATH ?? ''}` };
    await mkdir(helperEnv.DOCKER_CONFIG, { recursive: true });
    await writeFile(join(helperEnv.DOCKER_CONFIG, 'config.json'), '{"credsStore":"testkeeper"}\n');
    const login = await daemon.cli(['login', '-u', 'alice', '--password-stdin', basic.host], { env: helperEnv, input: 'wonderland\n' });
    assert.equal(login.code, 0, login.stderr);
    assert.doesNotMatch(login.stderr, /stored unencrypted/);
    const config = JSON.parse(await readFile(join(helperEnv.DOCKER_CONFIG, 'config.json'), 'utf8')) as { auths: Record<string, object>; credsStore: string };
    assert.deepEqual(config, { credsStore: 'testkeeper', auths: { [basic.host]: {} } });
    const secret = JSON.parse(await readFile(join(kept, basic.host.replace(/[/:]/g, '_')), 'utf8')) as Record<string, string>;
    assert.deepEqual(secret, { ServerURL: basic.host, Username: 'alice', Secret: 'wonderland' });
    const pulled = await daemon.cli(['pull', '-q', name], { env: helperEnv, timeoutMs: TIMEOUT_MS });
    assert.equal(pulled.code, 0, pulled.stderr);
    const logout = await daemon.cli(['logout', basic.host], { env: helperEnv });
    assert.equal(logout.stdout.trim(), `Removing login credentials for ${basic.host}`);
    assert.deepEqual(await readdir(kept), []);
    assert.equal((await daemon.cli(['rmi', name], { env: helperEnv })).code, 0);
    const refused = await daemon.cli(['pull', name], { env: helperEnv });
    assert.equal(refused.code, 1);
    // A helper config.json names but nobody installed: one line saying so.
    await writeFile(join(helperEnv.DOCKER_CONFIG, 'config.json'), '{"credHelpers":{"' + basic.host + '":"missing"}}\n');
    const missing = await daemon.cli(['pull', name], { env: helperEnv });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error: the credential helper docker-credential-missing is not installed \(config\.json names it\)/);
  });

  it('kill -9 of the daemon in the middle of a 3-layer pull leaves no image; after a restart the pull completes, reusing the whole layers', async () => {
    const crashing = new TestDaemon('registry-crash', { MINI_DOCKER_FAILPOINTS: 'pull.after-layer@1' });
    try {
      await crashing.start();
      const name = `${plain.host}/tools/crash:v1`;
      const cut = await crashing.cli(['pull', name], { env, timeoutMs: TIMEOUT_MS });
      assert.notEqual(cut.code, 0);
      const pid = crashing.pid!;
      await until('the daemon killed at the failpoint to be gone', () => {
        try {
          process.kill(pid, 0);
          return undefined;
        } catch {
          return true;
        }
      });
      assert.match(crashing.log(), /failpoints armed/);
      // What the cut pull stored is whole under its final name: each compressed copy (a pulled layer's
      // only stored form) has the digest its name says, gunzips to its diff id, and to the size its name records.
      const copiesDir = join(crashing.dataRoot, 'images', 'compressed');
      const stored = await readdir(copiesDir).catch(() => [] as string[]);
      assert.ok(stored.length >= 1, 'the cut pull stored a layer');
      for (const diffHex of stored) {
        for (const name of await readdir(join(copiesDir, diffHex))) {
          const [digestHex, size] = name.split('-');
          const gz = await readFile(join(copiesDir, diffHex, name));
          assert.equal(createHash('sha256').update(gz).digest('hex'), digestHex, `${name}: the bytes are those of its name`);
          const tar = gunzipSync(gz);
          assert.equal(createHash('sha256').update(tar).digest('hex'), diffHex, `${name}: uncompressed it is its layer`);
          assert.equal(tar.length, Number(size), `${name}: the size its name records`);
        }
        await assert.rejects(readFile(join(crashing.dataRoot, 'images', 'blobs', 'sha256', diffHex)), { code: 'ENOENT' }, 'a pulled layer is not stored as a tar too');
      }
      delete crashing.env.MINI_DOCKER_FAILPOINTS; // the restarted daemon runs unarmed
      await crashing.start();
      assert.equal((await crashing.cli(['images', '-q', name], { env })).stdout.trim(), '');
      const resumed = await crashing.cli(['pull', name], { env, timeoutMs: TIMEOUT_MS });
      assert.equal(resumed.code, 0, resumed.stderr);
      // busybox's own layer is there from the start (the built-in image), and the cut pull had stored one more whole.
      assert.ok((resumed.stdout.match(/: Already exists$/gm) ?? []).length >= 2, resumed.stdout);
      assert.equal((resumed.stdout.match(/: Pull complete$/gm) ?? []).length, 3 - (resumed.stdout.match(/: Already exists$/gm) ?? []).length);
      const tmp = await readdir(join(crashing.dataRoot, 'images', 'tmp')).catch(() => [] as string[]);
      assert.deepEqual(tmp.filter((n) => n.startsWith('pull-')), []);
    } finally {
      await crashing.cleanup();
    }
  });

  it('the docker CLI: login, pull with its progress, push, and run of an image not yet pulled', { skip: DOCKER_CLIENT_MISSING }, async (t) => {
    await dockerPart(t, async () => {
      const dockerEnv = { ...env, DOCKER_CONFIG: join(daemon.root, 'docker-cli-config') };
      const login = await daemon.docker(['login', '-u', 'alice', '--password-stdin', basic.host], { env: dockerEnv, input: 'wonderland\n', timeoutMs: TIMEOUT_MS });
      assert.equal(login.code, 0, login.stderr);
      assert.match(login.stdout, /Login Succeeded/);
      const privatePull = await daemon.docker(['pull', `${basic.host}/private/bb:v1`], { env: dockerEnv, timeoutMs: TIMEOUT_MS });
      assert.equal(privatePull.code, 0, privatePull.stderr);
      const name = `${plain.host}/tools/docker:v1`;
      const pulled = await daemon.docker(['pull', name], { env: dockerEnv, timeoutMs: TIMEOUT_MS });
      assert.equal(pulled.code, 0, pulled.stderr);
      assert.match(pulled.stdout, /Pulling from tools\/docker/);
      assert.match(pulled.stdout, /Digest: sha256:[a-f0-9]{64}/);
      assert.equal(lastLine(pulled.stdout), name);
      const target = `${plain.host}/from-docker/bb:v3`;
      assert.equal((await daemon.docker(['tag', name, target], { env: dockerEnv })).code, 0);
      const pushed = await daemon.docker(['push', target], { env: dockerEnv, timeoutMs: TIMEOUT_MS });
      assert.equal(pushed.code, 0, pushed.stderr);
      assert.match(pushed.stdout, /v3: digest: sha256:[a-f0-9]{64} size: \d+/);
      const run = await daemon.docker(['run', '--rm', `${plain.host}/tools/dockerrun:v1`], { env: dockerEnv, timeoutMs: TIMEOUT_MS });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /Unable to find image/);
      assert.equal(run.stdout, 'second layer\n');
    });
  });
});
