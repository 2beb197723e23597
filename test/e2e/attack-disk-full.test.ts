import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestDaemon, runCommand } from './harness.js';
import { assertStillServing } from './attack-support.js';

const NO_MKFS = (() => {
  for (const tool of ['/usr/sbin/mkfs.ext4', '/usr/sbin/losetup']) {
    try {
      readFileSync(tool);
    } catch {
      return `needs ${tool} (e2fsprogs, mount)`;
    }
  }
  return false;
})();

/** Fills the file system of `dir` to the last block: big writes, then 4 KiB ones for the rest. */
async function fill(dir: string): Promise<void> {
  await runCommand('dd', ['if=/dev/zero', `of=${join(dir, 'filler-big')}`, 'bs=1M']);
  await runCommand('dd', ['if=/dev/zero', `of=${join(dir, 'filler-small')}`, 'bs=4k']);
  const df = await runCommand('df', ['--output=avail', '-B1', dir]);
  assert.ok(Number(df.stdout.trim().split('\n')[1]) < 64 * 1024, `the disk did not fill: ${df.stdout}`);
}

async function unfill(dir: string): Promise<void> {
  await rm(join(dir, 'filler-big'), { force: true });
  await rm(join(dir, 'filler-small'), { force: true });
}

/** Every event of the log as the API lists it (steps included), one line each. */
async function allEvents(d: TestDaemon): Promise<string[]> {
  const r = await d.cli(['events', '--steps', '--since', '0', '--until', '0s', '--format', '{{json .}}']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** `all` starts with every line of `prefix`, in order; the failure names the first that differs. */
function assertPrefix(all: readonly string[], prefix: readonly string[], message: string): void {
  const differs = prefix.findIndex((line, i) => all[i] !== line);
  assert.ok(all.length >= prefix.length && differs < 0, `${message}: event ${differs + 1} of ${prefix.length} was ${all[differs] ?? 'missing'}, not ${prefix[differs] ?? ''}`);
}

/**
 * The attack suite: the data root's disk fills up while a container runs (a 64 MiB ext4 file
 * system on a loop device, mounted as the data root). New work is refused in one line naming the
 * full disk, nothing acknowledged is lost, the log stays whole (a restart reads it without cutting
 * anything), and once space is freed the same daemon works again (docs/security.md).
 */
describe('e2e: the data root\'s disk full', { skip: NO_MKFS, timeout: 180_000 }, () => {
  const d = new TestDaemon('attack-disk-full');
  const image = join(d.root, 'data-root.ext4');

  before(async () => {
    mkdirSync(d.dataRoot);
    for (const [cmd, args] of [
      ['truncate', ['-s', '64M', image]],
      ['mkfs.ext4', ['-q', '-F', '-m', '0', image]],
      // -o loop: the loop device goes away with the last unmount (autoclear), also after the harness's lazy one.
      ['mount', ['-o', 'loop', image, d.dataRoot]],
    ] as const) {
      const r = await runCommand(cmd, args);
      assert.equal(r.code, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
    }
    await d.start();
  });

  after(async () => {
    await d.cleanup();
  });

  it('refuses new work clearly while full, loses no event, and works again when space is freed', async () => {
    const writer = await d.cli(['run', '-d', '--name', 'writer', 'busybox', 'sh', '-c', 'while true; do echo tick; sleep 0.1; done']);
    assert.equal(writer.code, 0, writer.stderr);
    const before = await allEvents(d);

    await fill(d.dataRoot);
    // The first refusals may come from the log or from a driver, whichever writes first.
    for (const args of [['run', '--rm', 'busybox', 'true'], ['create', '--name', 'later', 'busybox', 'true'], ['run', '-d', 'busybox', 'true']]) {
      const r = await d.cli(args);
      assert.notEqual(r.code, 0, `${args.join(' ')} succeeded on a full disk`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: more than one line: ${r.stderr}`);
      assert.match(r.stderr, /no space left on device/, args.join(' '));
    }
    const ps = await d.cli(['ps', '--format', '{{.Names}} {{.Status}}']);
    assert.equal(ps.code, 0, ps.stderr);
    assert.match(ps.stdout, /^writer Up /m, 'the running container keeps running');
    assert.equal(d.exit, undefined, 'the daemon died on a full disk');
    const during = await allEvents(d);
    assertPrefix(during, before, 'an acknowledged event was lost');

    await unfill(d.dataRoot);
    await assertStillServing(d, 'once space was freed');
    // What was left half done while the disk was full is recorded, and can be removed.
    const leftovers = (await d.cli(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter((l) => l !== '');
    for (const id of leftovers) {
      const rm = await d.cli(['rm', '-f', id]);
      assert.equal(rm.code, 0, `rm -f ${id} after the disk was freed: ${rm.stderr}`);
    }
    assert.equal((await d.cli(['ps', '-aq'])).stdout, '');
    const afterFree = await allEvents(d);
    assertPrefix(afterFree, during, 'an event recorded before was lost');

    // The log is whole: a restart reads it all, cutting nothing off.
    assert.equal(await d.stop(), 0);
    await d.start();
    assert.doesNotMatch(d.log(), /cut off a torn|corrupt/i, 'the restart found a damaged log');
    const restarted = await allEvents(d);
    assertPrefix(restarted, afterFree, 'the restarted daemon reads another log');
    await assertStillServing(d, 'after a restart');
  });

  it('commit of a 4 GiB sparse file (a few blocks in the container, 4 GiB in a tar) fails on the full disk and leaves no partial layer', async () => {
    const run = await d.cli(['run', '-d', '--name', 'sparse', 'busybox', 'sh', '-c', 'truncate -s 4G /sparse && echo made && sleep 600']);
    assert.equal(run.code, 0, run.stderr);
    const used = async (): Promise<number> => Number((await runCommand('df', ['--output=used', '-B1', d.dataRoot])).stdout.trim().split('\n')[1]);
    const before = await used();
    const commit = await d.cli(['commit', 'sparse', 'attack/sparse:1']);
    assert.notEqual(commit.code, 0, 'a 4 GiB layer fit on a 64 MiB disk');
    assert.match(commit.stderr, /no space left on device/, commit.stderr);
    assert.equal(commit.stderr.trim().split('\n').length, 1, commit.stderr);
    assert.equal((await d.cli(['images', '-q', 'attack/sparse'])).stdout, '');
    assert.ok(await used() <= before + 1024 * 1024, `the failed commit left ${(await used()) - before} bytes behind`);
    const state = await d.cli(['ps', '--format', '{{.Names}} {{.Status}}']);
    assert.match(state.stdout, /^sparse Up /m, 'the committed container runs on (thawed)');
    assert.equal((await d.cli(['rm', '-f', 'sparse'])).code, 0);
    await assertStillServing(d, 'after a commit that filled the disk');
  });
});
