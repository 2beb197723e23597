// Unit: failpoints (core/failpoints.ts): parsing MINI_DOCKER_FAILPOINTS, dying at the N-th pass,
// unknown names refused, the command a point belongs to; and that an armed point really SIGKILLs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { readFile } from 'node:fs/promises';
import { FAILPOINTS, FAILPOINTS_ENV, commandOf, hitFailpoint, parseFailpoints } from '../../core/failpoints.js';

const KNOWN = ['start.after-intent', 'start.after-isolator', 'rm.before-removed'];

describe('failpoints', () => {
  it('arms nothing without the variable, or with an empty one', () => {
    assert.deepEqual([...parseFailpoints(undefined, KNOWN).keys()], []);
    assert.deepEqual([...parseFailpoints(' , ', KNOWN).keys()], []);
    assert.equal(hitFailpoint(parseFailpoints('', KNOWN), 'start.after-intent'), false);
  });

  it('dies at the first pass of a plain name, and only once', () => {
    const armed = parseFailpoints('start.after-intent', KNOWN);
    assert.deepEqual([...armed.keys()], ['start.after-intent']);
    assert.equal(hitFailpoint(armed, 'start.after-isolator'), false, 'a point that is not armed never fires');
    assert.equal(hitFailpoint(armed, 'start.after-intent'), true);
    assert.equal(hitFailpoint(armed, 'start.after-intent'), false);
  });

  it('NAME@N dies at the N-th hit; several points are comma-separated', () => {
    const armed = parseFailpoints(' start.after-isolator@3 , rm.before-removed ', KNOWN);
    assert.deepEqual([...armed.keys()], ['start.after-isolator', 'rm.before-removed']);
    assert.equal(armed.get('start.after-isolator')!.hitToDie, 3);
    assert.deepEqual([1, 2, 3, 4].map(() => hitFailpoint(armed, 'start.after-isolator')), [false, false, true, false]);
    assert.equal(hitFailpoint(armed, 'rm.before-removed'), true);
  });

  it('refuses unknown names, saying which are known', () => {
    assert.throws(() => parseFailpoints('start.after-intnet', KNOWN), {
      message: `unknown failpoint "start.after-intnet" in ${FAILPOINTS_ENV}: known are start.after-intent, start.after-isolator, rm.before-removed`,
    });
    assert.throws(() => parseFailpoints('start.x', []), { message: `unknown failpoint "start.x" in ${FAILPOINTS_ENV}: known are (none)` });
  });

  it('refuses malformed specs, @0 and a name given twice', () => {
    assert.throws(() => parseFailpoints('start.after-intent@x', KNOWN), /invalid failpoint "start.after-intent@x".*expected NAME or NAME@N/);
    assert.throws(() => parseFailpoints('Start.After', KNOWN), /invalid failpoint "Start.After"/);
    assert.throws(() => parseFailpoints('start.after-intent@0', KNOWN), /N counts hits from 1/);
    assert.throws(() => parseFailpoints('rm.before-removed,rm.before-removed@2', KNOWN), /named twice/);
  });

  it('commandOf names the command before the first dot', () => {
    assert.equal(commandOf('start.after-intent'), 'start');
    assert.equal(commandOf('exec.after-spawn.retry'), 'exec');
    assert.equal(commandOf('nodot'), 'nodot');
  });

  it('every declared point is <command>.<point>, says what is true when it fires, and can be armed', () => {
    const names = Object.keys(FAILPOINTS);
    for (const [name, meaning] of Object.entries(FAILPOINTS) as [string, string][]) {
      assert.match(name, /^[a-z]+\.[a-z0-9.-]+$/, name);
      assert.notEqual(meaning.trim(), '', `${name} says what is true when it fires`);
    }
    assert.deepEqual([...parseFailpoints(names.join(',')).keys()], names);
  });

  it('docs/failpoints.md lists exactly the declared failpoints, with their descriptions', async () => {
    const doc = await readFile(new URL('../../../docs/failpoints.md', import.meta.url), 'utf8');
    const listed = [...doc.matchAll(/^\| `([a-z0-9.-]+)` \| (.*) \|$/gm)].map((m) => [m[1]!, m[2]!] as const);
    assert.deepEqual(listed, Object.entries(FAILPOINTS));
  });

  it('every point belongs to one of the commands whose recovery the crash test walks', () => {
    const commands = new Set(Object.keys(FAILPOINTS).map(commandOf));
    assert.deepEqual([...commands].sort(), ['commit', 'cp', 'exec', 'kill', 'network', 'pull', 'rm', 'rmi', 'start', 'stop', 'volume']);
    for (const name of Object.keys(FAILPOINTS)) assert.match(name, /^[a-z]+\.(after|before)-[a-z-]+$/);
  });

  it('an armed point kills its process with SIGKILL, at the hit asked for', () => {
    const module = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'core', 'failpoints.js');
    // The process arms a point of its own (the `known` list) so this does not depend on which points the daemon declares.
    const script = `
      const fp = await import(${JSON.stringify(module)});
      fp.armFailpointsFromEnv(process.env, ['test.point']);
      for (let i = 1; i <= 3; i++) { process.stdout.write('pass ' + i + '\\n'); fp.failpoint('test.point'); }
      process.stdout.write('survived\\n');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, [FAILPOINTS_ENV]: 'test.point@2' }, encoding: 'utf8' });
    assert.equal(r.signal, 'SIGKILL', r.stderr);
    assert.equal(r.stdout, 'pass 1\npass 2\n');
    const unarmed = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, [FAILPOINTS_ENV]: '' }, encoding: 'utf8' });
    assert.equal(unarmed.status, 0, unarmed.stderr);
    assert.equal(unarmed.stdout, 'pass 1\npass 2\npass 3\nsurvived\n');
  });
});
