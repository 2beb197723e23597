// End-to-end: `cp` and the archive API against a real daemon, with mini-docker, the docker client
// and dockerode: files, folders, links and "-", on running and stopped containers, through binds,
// and a container's symlink to /etc that must never reach the host's.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { readTar } from '../../core/archive/index.js';
import { CLI, DOCKER_CLIENT_MISSING, runCommand, TestDaemon, type RunResult } from './harness.js';

/** A name no host file has: a copy that escaped would make /etc/<it>. */
const MARKER = `cp-e2e-${randomBytes(6).toString('hex')}`;
const LOOP = ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done'];

describe('e2e: cp and the archive API', () => {
  const d = new TestDaemon('cp');
  let host: string;
  let out: string;

  const ok = async (args: readonly string[], input?: string | Buffer): Promise<RunResult> => {
    const r = await d.cli(args, input !== undefined ? { input } : {});
    assert.equal(r.code, 0, `mini-docker ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  /** A shell pipeline with mini-docker on this daemon as $MD (and docker as $DOCKER_HOST points). */
  const sh = (script: string): Promise<RunResult> =>
    runCommand('sh', ['-c', script], { env: { ...d.env, MD: CLI, DOCKER_HOST: `unix://${d.socketPath}` } });
  const catIn = async (container: string, path: string): Promise<string> => (await ok(['exec', container, 'cat', path])).stdout;

  before(async () => {
    await d.start();
    host = join(d.root, 'host');
    out = join(d.root, 'out');
    await mkdir(join(host, 'src', 'sub'), { recursive: true });
    await mkdir(out);
    await writeFile(join(host, 'src', 'a.txt'), 'alpha\n');
    await writeFile(join(host, 'src', 'sub', 'b.txt'), 'beta\n');
    await symlink('a.txt', join(host, 'src', 'link'));
    await writeFile(join(host, MARKER), 'must stay in the container\n');
    await mkdir(join(host, 'bind-rw'));
    await mkdir(join(host, 'bind-ro'));
    await writeFile(join(host, 'bind-ro', 'kept'), 'read-only bind\n');
  });
  after(async () => { await d.cleanup(); });

  for (const state of ['running', 'stopped'] as const) {
    describe(`a ${state} container`, () => {
      const name = `cp-${state}`;
      const dest = (sub: string): string => join(out, state, sub);
      before(async () => {
        await mkdir(join(out, state), { recursive: true });
        await ok(['create', '--name', name, '-v', `${join(host, 'bind-rw')}:/data`, '-v', `${join(host, 'bind-ro')}:/ro:ro`, 'busybox', ...LOOP]);
        // A link the container made that points at /etc: inside the container, never the host's.
        await ok(['start', name]);
        await ok(['exec', name, 'sh', '-c', 'ln -s /etc /evil && ln -s ../../../../../../etc /evil-rel && mkdir /existing && echo here > /file']);
        if (state === 'stopped') await ok(['stop', '-t', '1', name]);
      });

      it('copies a folder in, under a new name and into an existing folder, keeping links', async () => {
        await ok(['cp', join(host, 'src'), `${name}:/dst`]);
        await ok(['cp', `${join(host, 'src')}/.`, `${name}:/existing`]);
        await ok(['cp', join(host, 'src', 'a.txt'), `${name}:/renamed.txt`]);
        await ok(['cp', join(host, 'src', 'a.txt'), `${name}:/existing/sub/`]);
        if (state === 'stopped') await ok(['start', name]);
        assert.equal(await catIn(name, '/dst/a.txt'), 'alpha\n');
        assert.equal(await catIn(name, '/dst/sub/b.txt'), 'beta\n');
        assert.equal((await ok(['exec', name, 'readlink', '/dst/link'])).stdout, 'a.txt\n');
        assert.equal(await catIn(name, '/existing/a.txt'), 'alpha\n');
        assert.equal(await catIn(name, '/existing/sub/a.txt'), 'alpha\n');
        assert.equal(await catIn(name, '/renamed.txt'), 'alpha\n');
        if (state === 'stopped') await ok(['stop', '-t', '1', name]);
      });

      it('copies files, folders and links out', async () => {
        await ok(['cp', `${name}:/dst`, dest('dst')]);
        assert.equal(await readFile(dest('dst/a.txt'), 'utf8'), 'alpha\n');
        assert.equal(await readFile(dest('dst/sub/b.txt'), 'utf8'), 'beta\n');
        assert.equal(await readlink(dest('dst/link')), 'a.txt');
        await ok(['cp', `${name}:/dst/.`, dest('content')]);
        assert.equal(await readFile(dest('content/a.txt'), 'utf8'), 'alpha\n');
        await ok(['cp', `${name}:/file`, dest('')]);
        assert.equal(await readFile(dest('file'), 'utf8'), 'here\n');
        await ok(['cp', `${name}:/dst/link`, dest('copied-link')]);
        assert.equal((await lstat(dest('copied-link'))).isSymbolicLink(), true, 'a link is copied as a link');
        await ok(['cp', '-L', `${name}:/dst/link`, dest('followed')]);
        assert.equal(await readFile(dest('followed'), 'utf8'), 'alpha\n', '-L copies what the link names, under the name asked for');
      });

      it('takes and gives a tar with "-"', async () => {
        const into = await sh(`tar -C ${join(host, 'src')} -c a.txt sub | "$MD" cp - ${name}:/existing`);
        assert.equal(into.code, 0, into.stderr);
        const listing = await sh(`"$MD" cp ${name}:/existing/sub - | tar -t | sort`);
        assert.equal(listing.code, 0, listing.stderr);
        assert.deepEqual(listing.stdout.trim().split('\n'), ['sub/', 'sub/a.txt', 'sub/b.txt']);
        const notDir = await sh(`tar -C ${join(host, 'src')} -c a.txt | "$MD" cp - ${name}:/file`);
        assert.equal(notDir.code, 1);
        assert.equal(notDir.stderr.trim(), `Error: destination "${name}:/file" must be a directory`);
      });

      it('goes through binds: a writable one to its host folder, a read-only one refused', async () => {
        await ok(['cp', join(host, 'src', 'a.txt'), `${name}:/data/`]);
        assert.equal(await readFile(join(host, 'bind-rw', 'a.txt'), 'utf8'), 'alpha\n');
        await ok(['cp', `${name}:/ro/kept`, dest('kept')]);
        assert.equal(await readFile(dest('kept'), 'utf8'), 'read-only bind\n');
        const ro = await d.cli(['cp', join(host, 'src', 'a.txt'), `${name}:/ro/`]);
        assert.equal(ro.code, 1);
        assert.equal(ro.stderr.trim(), 'Error response from daemon: mounted volume is marked read-only');
        assert.equal(existsSync(join(host, 'bind-ro', 'a.txt')), false);
      });

      it("refuses a copy into a --read-only container's root (403), not into its writable binds", async () => {
        const ro = `${name}-readonly`;
        await ok(['create', '--name', ro, '--read-only', '-v', `${join(host, 'bind-rw')}:/data`, 'busybox', ...LOOP]);
        if (state === 'running') await ok(['start', ro]);
        const refused = await d.cli(['cp', join(host, 'src', 'a.txt'), `${ro}:/tmp/`]);
        assert.equal(refused.code, 1);
        assert.equal(refused.stderr.trim(), 'Error response from daemon: container rootfs is marked read-only');
        await ok(['cp', join(host, 'src', 'sub', 'b.txt'), `${ro}:/data/from-readonly.txt`]);
        assert.equal(await readFile(join(host, 'bind-rw', 'from-readonly.txt'), 'utf8'), 'beta\n');
        await ok(['rm', '-f', ro]);
      });

      it("answers Docker's errors in one line", async () => {
        const missing = await d.cli(['cp', `${name}:/nope`, dest('')]);
        assert.equal(missing.code, 1);
        assert.equal(missing.stderr.trim(), `Error response from daemon: Could not find the file /nope in container ${name}`);
        const noParent = await d.cli(['cp', join(host, 'src', 'a.txt'), `${name}:/no/such/x`]);
        assert.equal(noParent.code, 1);
        assert.equal(noParent.stderr.trim(), `Error response from daemon: Could not find the file /no/such in container ${name}`);
        const dirOnFile = await d.cli(['cp', join(host, 'src'), `${name}:/file`]);
        assert.equal(dirOnFile.stderr.trim(), 'Error: cannot copy directory');
        const both = await d.cli(['cp', `${name}:/file`, `${name}:/x`]);
        assert.equal(both.stderr.trim(), 'Error: copying between containers is not supported');
        const neither = await d.cli(['cp', join(host, 'src'), dest('x')]);
        assert.equal(neither.stderr.trim(), 'Error: must specify at least one container source');
      });

      it("a link to /etc in the container leads to the container's /etc, never the host's", async () => {
        await ok(['cp', join(host, MARKER), `${name}:/evil/`]);
        await ok(['cp', join(host, MARKER), `${name}:/evil-rel/${MARKER}-rel`]);
        assert.equal(existsSync(`/etc/${MARKER}`), false, 'nothing was written into the host /etc');
        assert.equal(existsSync(`/etc/${MARKER}-rel`), false, 'nothing was written into the host /etc');
        // The host has /etc/os-release; the container's /etc has none.
        const read = await d.cli(['cp', `${name}:/evil/os-release`, dest('os-release')]);
        assert.equal(read.code, 1, 'the host /etc/os-release is not reachable');
        assert.equal(read.stderr.trim(), `Error response from daemon: Could not find the file /evil/os-release in container ${name}`);
        const readRel = await d.cli(['cp', `${name}:/evil-rel/os-release`, dest('os-release')]);
        assert.equal(readRel.code, 1);
        await ok(['cp', '-L', `${name}:/evil`, dest('evil-followed')]);
        assert.equal(existsSync(dest('evil-followed/os-release')), false, "-L copies the container's /etc");
        assert.equal(await readFile(dest(`evil-followed/${MARKER}`), 'utf8'), 'must stay in the container\n');
        if (state === 'stopped') await ok(['start', name]);
        assert.equal(await catIn(name, `/etc/${MARKER}`), 'must stay in the container\n');
        assert.equal(await catIn(name, `/etc/${MARKER}-rel`), 'must stay in the container\n');
        if (state === 'stopped') await ok(['stop', '-t', '1', name]);
      });

      it('keeps owners as they are, and gives them the container user with -a', async () => {
        const user = `${name}-user`;
        await ok(['create', '--name', user, '--user', '1234:5678', 'busybox', ...LOOP]);
        if (state === 'running') await ok(['start', user]);
        await ok(['cp', join(host, 'src', 'a.txt'), `${user}:/tmp/plain.txt`]);
        await ok(['cp', '-a', join(host, 'src', 'a.txt'), `${user}:/tmp/archived.txt`]);
        if (state === 'stopped') await ok(['start', user]);
        const owners = (await ok(['exec', user, 'stat', '-c', '%u:%g', '/tmp/plain.txt', '/tmp/archived.txt'])).stdout.trim().split('\n');
        const mine = await stat(join(host, 'src', 'a.txt'));
        assert.deepEqual(owners, [`${mine.uid}:${mine.gid}`, '1234:5678']);
        await ok(['rm', '-f', user]);
      });
    });
  }

  describe('the docker client', { skip: DOCKER_CLIENT_MISSING }, () => {
    before(async () => {
      await ok(['run', '-d', '--name', 'dk-running', 'busybox', ...LOOP]);
      await ok(['create', '--name', 'dk-stopped', 'busybox', ...LOOP]);
    });

    for (const name of ['dk-running', 'dk-stopped']) {
      it(`docker cp both ways, files, folders and "-" (${name})`, async () => {
        const target = join(out, name);
        await mkdir(target);
        const opts = { env: { DOCKER_CLI_HINTS: 'false' }, timeoutMs: 30_000 };
        let r = await d.docker(['cp', join(host, 'src'), `${name}:/dsrc`], opts);
        assert.equal(r.code, 0, r.stderr);
        r = await d.docker(['cp', join(host, 'src', 'a.txt'), `${name}:/one.txt`], opts);
        assert.equal(r.code, 0, r.stderr);
        r = await d.docker(['cp', `${name}:/dsrc`, join(target, 'back')], opts);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(await readFile(join(target, 'back', 'sub', 'b.txt'), 'utf8'), 'beta\n');
        assert.equal(await readlink(join(target, 'back', 'link')), 'a.txt');
        r = await d.docker(['cp', `${name}:/one.txt`, target], opts);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(await readFile(join(target, 'one.txt'), 'utf8'), 'alpha\n');
        const listing = await sh(`docker cp ${name}:/dsrc - | tar -t | sort`);
        assert.equal(listing.code, 0, listing.stderr);
        assert.deepEqual(listing.stdout.trim().split('\n'), ['dsrc/', 'dsrc/a.txt', 'dsrc/link', 'dsrc/sub/', 'dsrc/sub/b.txt']);
        const fromStdin = await sh(`tar -C ${join(host, 'src')} -c sub | docker cp - ${name}:/`);
        assert.equal(fromStdin.code, 0, fromStdin.stderr);
        r = await d.docker(['cp', `${name}:/sub/b.txt`, join(target, 'b-from-stdin.txt')], opts);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(await readFile(join(target, 'b-from-stdin.txt'), 'utf8'), 'beta\n');
        const missing = await d.docker(['cp', `${name}:/nope`, target], opts);
        assert.equal(missing.code, 1);
        assert.match(missing.stderr, new RegExp(`Error response from daemon: Could not find the file /nope in container ${name}`));
        assert.doesNotMatch(missing.stderr, /\{"message"/, 'no raw JSON error body');
      });
    }
  });

  describe('dockerode', () => {
    let docker: Docker;
    before(() => { docker = new Docker({ socketPath: d.socketPath }); });

    for (const start of [true, false]) {
      it(`putArchive, infoArchive and getArchive (${start ? 'running' : 'stopped'})`, async () => {
        const c = await docker.createContainer({ Image: 'busybox', Cmd: LOOP });
        try {
          if (start) await c.start();
          const tar = (await sh(`tar -C ${join(host, 'src')} -c a.txt sub | base64 -w0`)).stdout;
          await c.putArchive(Buffer.from(tar, 'base64'), { path: '/tmp' });
          const response = (await c.infoArchive({ path: '/tmp/sub/b.txt' })) as unknown as { headers: Record<string, string> };
          const info = JSON.parse(Buffer.from(String(response.headers['x-docker-container-path-stat']), 'base64').toString()) as { name: string; size: number; mode: number };
          assert.deepEqual({ name: info.name, size: info.size, mode: info.mode & 0o777 }, { name: 'b.txt', size: 5, mode: 0o644 });
          const entries: string[] = [];
          for await (const { header, body } of readTar(await c.getArchive({ path: '/tmp/sub' }))) {
            const chunks: Buffer[] = [];
            for await (const chunk of body) chunks.push(chunk);
            entries.push(`${header.path} ${Buffer.concat(chunks).toString()}`.trim());
          }
          assert.deepEqual(entries, ['sub', 'sub/b.txt beta']);
          await assert.rejects(c.getArchive({ path: '/nope' }), (e: { statusCode?: number }) => e.statusCode === 404);
        } finally {
          await c.remove({ force: true });
        }
      });
    }
  });
});
