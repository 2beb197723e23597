// Unit: bin/mini-docker as a child process: help lists every command, errors are one line, exit codes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CLOSED_PIPE_EXIT, restoreEnvFileArgs, restoreExtraCaCerts, watchOutputErrors, type OutputProcess } from '../../cli/entry.js';
import { cacheFileOf, cacheTag, runCacheFileOf } from '../../cli/launcher.cjs';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'bin', 'mini-docker');

/** Command ids from the compiled command files: "ps", "container prune", ... */
function commandIds(): string[] {
  const dir = join(root, 'dist', 'cli', 'commands');
  const ids: string[] = [];
  const walk = (d: string, prefix: string[]): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p, [...prefix, name]);
      else if (name.endsWith('.js')) ids.push([...prefix, name.slice(0, -3)].join(' '));
    }
  };
  walk(dir, []);
  return ids.sort();
}

describe('bin/mini-docker', () => {
  let scratch: string;
  let env: NodeJS.ProcessEnv;

  const cli = (args: string[]) => spawnSync(bin, args, { env, encoding: 'utf8', timeout: 20_000 });

  before(() => {
    scratch = mkdtempSync(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'cli-bin-'));
    env = { ...process.env, MINI_DOCKER_NO_AUTOSTART: '1', MINI_DOCKER_EXEC_ROOT: join(scratch, 'run'), MINI_DOCKER_DATA_ROOT: join(scratch, 'data'), HOME: scratch };
    delete env.MINI_DOCKER_HOST;
    delete env.DEBUG;
  });

  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('starts node without NODE_EXTRA_CA_CERTS when run as a program, through a symlink too, and runs under node as well', () => {
    // node reads the bundle at start and warns when it cannot: the warning shows who read it.
    const caEnv = { ...env, NODE_EXTRA_CA_CERTS: join(scratch, 'no-such-bundle.pem') };
    const direct = spawnSync(bin, ['--version'], { env: caEnv, encoding: 'utf8' });
    assert.equal(direct.status, 0, direct.stderr);
    assert.match(direct.stdout, /^tiny-docker\/\S+ linux-\S+ node-v\d+/);
    assert.doesNotMatch(direct.stderr, /extra certs/);
    const link = join(scratch, 'mini-docker-link');
    symlinkSync(bin, link);
    const linked = spawnSync(link, ['--version'], { env: caEnv, encoding: 'utf8' });
    assert.equal(linked.stdout, direct.stdout, linked.stderr);
    const underNode = spawnSync(process.execPath, [bin, '--version'], { env: caEnv, encoding: 'utf8' });
    assert.equal(underNode.stdout, direct.stdout);
    assert.match(underNode.stderr, /Ignoring extra certs/);
  });

  it('runs each built-in command from its own bundle with its V8 code cache, which V8 accepts, and the ES modules without one', () => {
    const probe = `import { bundleCandidates, loadBundle } from ${JSON.stringify(launcher)};
      const out = {};
      for (const args of [['stop'], ['container', 'prune'], ['run', 'busybox']]) {
        const loaded = bundleCandidates(args).map((f) => loadBundle(f)).find((l) => l !== undefined);
        out[args.join(' ')] = { loaded: loaded !== undefined, rejected: loaded?.script.cachedDataRejected };
      }
      out.candidates = [['-H', 'x', 'ps'], ['ps', '-a'], ['container', 'prune'], ['../x'], ['run', 'a/b']].map((a) => bundleCandidates(a).map((f) => f.split('/').slice(-2).join('/')));
      console.log(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const loaded = { loaded: true, rejected: false };
    assert.deepEqual(JSON.parse(r.stdout), {
      stop: loaded, 'container prune': loaded, 'run busybox': loaded,
      candidates: [[], ['bundles/ps.cjs'], ['bundles/container.prune.cjs', 'bundles/container.cjs'], [], ['bundles/run.cjs']],
    });
    // the same command through the ES modules (what runs when there is no bundle) prints the same
    const viaModules = spawnSync(process.execPath, ['--input-type=module', '-e', `import { main } from ${JSON.stringify(join(root, 'dist', 'cli', 'entry.js'))}; await main(['stop']);`], { env, encoding: 'utf8' });
    const viaBundle = cli(['stop']);
    assert.deepEqual([viaModules.status, viaModules.stderr], [viaBundle.status, viaBundle.stderr]);
    assert.equal(viaBundle.stderr, "Error: 'mini-docker stop' requires at least 1 argument (see 'mini-docker stop --help')\n");
  });

  const launcher = join(root, 'dist', 'cli', 'launcher.cjs');
  /** A test bundle whose top level holds `word` (compiled into every code cache of it) and whose run compiles a function the build's warm-up never ran. */
  const testBundle = (word: string): string => `const word = ${JSON.stringify(word)}; exports.warm = () => {}; exports.run = async (args) => { const later = (n) => n * 2; globalThis.ran = word; if (args[0] === "fail") process.exitCode = 1; return later(1); };\n`;
  /** What one CLI run of a bundle did: the cache V8 took, what the run saw, the folder after. */
  interface Step { cache: string | null; rejected: boolean; ran: string; files: string[] }
  /** node [nodeArgs] -e …: loads and runs the bundle as the launcher does (`prefix`: a command to start node with, as `setpriv …`). */
  const step = (file: string, args: string[], how: { nodeArgs?: string[]; env?: NodeJS.ProcessEnv; prefix?: string[] } = {}): Step => {
    const code = `const l = require(${JSON.stringify(launcher)}); const b = l.loadBundle(${JSON.stringify(file)});
      l.runBundle(b, ${JSON.stringify(args)}).then(() => { process.exitCode = 0; console.log(JSON.stringify({ cache: b.cache === undefined ? null : require('path').basename(b.cache), rejected: b.script.cachedDataRejected === true, ran: globalThis.ran, files: require('fs').readdirSync(${JSON.stringify(dirname(file))}).sort() })); });`;
    const [cmd, ...prefix] = [...(how.prefix ?? []), process.execPath];
    const r = spawnSync(cmd!, [...prefix, ...(how.nodeArgs ?? []), '-e', code], { env: how.env ?? env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as Step;
  };
  /** The cache tag of node started with these options (`node … -e`, as bin/mini-docker starts it). */
  const tagOf = (nodeArgs: string[], environment: NodeJS.ProcessEnv = env): string => {
    const r = spawnSync(process.execPath, [...nodeArgs, '-e', `process.stdout.write(require(${JSON.stringify(launcher)}).cacheTag())`], { env: environment, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  /** Inode and modification time of files: what a rewrite (a rename into place) changes. */
  const identities = (dir: string): Record<string, string> => Object.fromEntries(readdirSync(dir).map((f) => {
    const st = statSync(join(dir, f));
    return [f, `${st.ino}-${st.mtimeMs}`];
  }));
  const OTHER_OPTIONS = '--max-old-space-size=300';

  it('names the caches by the V8 version and node\'s options (not the script\'s -e, -p, --input-type), the same from the command line and NODE_OPTIONS', () => {
    const v8 = process.versions.v8;
    assert.equal(cacheTag([], undefined), v8);
    assert.equal(cacheTag(['-e', 'require("x")'], ' '), v8);
    assert.equal(cacheTag(['--input-type=module', '--eval', 'x', '-p', 'y', '--print=z'], undefined), v8);
    const other = cacheTag([OTHER_OPTIONS], undefined);
    assert.match(other, /^.+-[0-9a-f]{8}$/);
    assert.ok(other.startsWith(`${v8}-`));
    assert.equal(cacheTag(['-e', 'x'], OTHER_OPTIONS), other);
    assert.notEqual(cacheTag(['--max-old-space-size=301'], undefined), other);
    // as node computes it when started so, and as bin/mini-docker starts it
    assert.equal(tagOf([]), v8);
    assert.equal(tagOf([OTHER_OPTIONS]), other);
    assert.equal(tagOf([], { ...env, NODE_OPTIONS: OTHER_OPTIONS }), other);
    assert.equal(cacheFileOf('/x/ps.cjs', other), `/x/ps.${other}.cache`);
    assert.equal(runCacheFileOf('/x/ps.cjs', other), `/x/ps.${other}.run.cache`);
  });

  it('writes a command bundle\'s run cache after its first good run on the build\'s cache and takes it next; node with other options has caches of its own, and neither touches the other\'s', () => {
    const dir = mkdtempSync(join(scratch, 'bundle-'));
    const file = join(dir, 'cmd.cjs');
    writeFileSync(file, testBundle('AAAA'));
    const tag = tagOf([]);
    const [build, run] = [`cmd.${tag}.cache`, `cmd.${tag}.run.cache`];
    const ran = 'AAAA';
    // no cache at all: compiled from source, the build's cache written in its place
    assert.deepEqual(step(file, ['ok']), { cache: null, rejected: false, ran, files: [build, 'cmd.cjs'] });
    // a failed run on the build's cache leaves it alone; a good one writes the run cache
    assert.deepEqual(step(file, ['fail']), { cache: build, rejected: false, ran, files: [build, 'cmd.cjs'] });
    assert.deepEqual(step(file, ['ok']), { cache: build, rejected: false, ran, files: [build, run, 'cmd.cjs'].sort() });
    // which the next run takes (and does not write again)
    assert.deepEqual(step(file, ['ok']), { cache: run, rejected: false, ran, files: [build, run, 'cmd.cjs'].sort() });
    // node with other V8 options (another node version is the same): its own caches, made the same way
    const otherOptions = { nodeArgs: [OTHER_OPTIONS] };
    const other = tagOf([OTHER_OPTIONS]);
    const [otherBuild, otherRun] = [`cmd.${other}.cache`, `cmd.${other}.run.cache`];
    const mine = identities(dir);
    assert.deepEqual(step(file, ['ok'], otherOptions), { cache: null, rejected: false, ran, files: [build, run, otherBuild, 'cmd.cjs'].sort() });
    assert.deepEqual(step(file, ['ok'], otherOptions), { cache: otherBuild, rejected: false, ran, files: [build, run, otherBuild, otherRun, 'cmd.cjs'].sort() });
    const all = [build, run, otherBuild, otherRun, 'cmd.cjs'].sort();
    const settled = identities(dir);
    assert.deepEqual({ ...settled, [otherBuild]: undefined, [otherRun]: undefined }, { ...mine, [otherBuild]: undefined, [otherRun]: undefined }, 'the other options left these caches alone');
    // the two alternating: each takes its own run cache, nothing is removed or written again
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(step(file, ['ok']), { cache: run, rejected: false, ran, files: all });
      assert.deepEqual(step(file, ['ok'], { env: { ...env, NODE_OPTIONS: OTHER_OPTIONS } }), { cache: otherRun, rejected: false, ran, files: all });
    }
    assert.deepEqual(identities(dir), settled);
    // a run cache V8 refuses under this name (made under V8 flags the name does not show): removed,
    // the build's taken by the same command, and the run cache written again after it
    copyFileSync(join(dir, otherRun), join(dir, run));
    assert.deepEqual(step(file, ['ok']), { cache: build, rejected: false, ran, files: all });
    assert.notEqual(identities(dir)[run], settled[run]);
    assert.deepEqual(step(file, ['ok']), { cache: run, rejected: false, ran, files: all });
    // a run that went to oclif (help) makes no run cache: it would hold none of the command's code
    const oclifDir = join(dir, 'node_modules', '@oclif', 'core');
    mkdirSync(oclifDir, { recursive: true });
    writeFileSync(join(oclifDir, 'index.js'), 'exports.help = true;\n');
    const helpFile = join(dir, 'help.cjs');
    writeFileSync(helpFile, `exports.warm = () => {}; exports.run = async () => { require(${JSON.stringify(join(oclifDir, 'index.js'))}); };\n`);
    for (let i = 0; i < 3; i++) {
      const code = `const l = require(${JSON.stringify(launcher)}); const b = l.loadBundle(${JSON.stringify(helpFile)}); l.runBundle(b, []);`;
      const r = spawnSync(process.execPath, ['-e', code], { env, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('help.')).sort(), [`help.${tag}.cache`, 'help.cjs']);
  });

  it('never runs the code of a bundle replaced in place by another of the same length and modification time', () => {
    const dir = mkdtempSync(join(scratch, 'bundle-'));
    const file = join(dir, 'cmd.cjs');
    writeFileSync(file, testBundle('AAAA'));
    const time = new Date(1_700_000_000_000);
    utimesSync(file, time, time);
    const tag = tagOf([]);
    const [build, run] = [`cmd.${tag}.cache`, `cmd.${tag}.run.cache`];
    const files = [build, run, 'cmd.cjs'].sort();
    step(file, ['ok']);
    step(file, ['ok']);
    assert.deepEqual(step(file, ['ok']), { cache: run, rejected: false, ran: 'AAAA', files });
    // V8 checks only the source's length: its cache of the old bundle would run 'AAAA'
    const before = statSync(file);
    writeFileSync(file, testBundle('BBBB'));
    utimesSync(file, time, time);
    const after = statSync(file);
    assert.deepEqual([after.size, after.mtimeMs], [before.size, before.mtimeMs]);
    assert.deepEqual(step(file, ['ok']), { cache: null, rejected: false, ran: 'BBBB', files });
    assert.deepEqual(step(file, ['ok']), { cache: build, rejected: false, ran: 'BBBB', files });
    assert.deepEqual(step(file, ['ok']), { cache: run, rejected: false, ran: 'BBBB', files });
  });

  it('creates its temporary cache file exclusively: another\'s file of that name is neither followed, written nor removed', () => {
    const dir = mkdtempSync(join(scratch, 'bundle-'));
    const file = join(dir, 'cmd.cjs');
    writeFileSync(file, testBundle('AAAA'));
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'keep');
    // the same random suffix as this process's next temporary file: a link there, as another CLI's
    const code = `Math.random = () => 0.5; const l = require(${JSON.stringify(launcher)}); const fs = require('fs');
      const taken = l.tempFileOf(l.cacheFileOf(${JSON.stringify(file)})); fs.symlinkSync(${JSON.stringify(victim)}, taken);
      const b = l.loadBundle(${JSON.stringify(file)}); console.log(JSON.stringify({ taken: require('path').basename(taken), cache: b.cache ?? null }));`;
    const r = spawnSync(process.execPath, ['-e', code], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const { taken, cache } = JSON.parse(r.stdout) as { taken: string; cache: string | null };
    assert.equal(cache, null);
    assert.match(taken, /^cmd\..+\.cache\.\d+-[0-9a-z]+\.tmp$/);
    assert.deepEqual(readdirSync(dir).sort(), ['cmd.cjs', taken, 'victim'].sort());
    assert.equal(readFileSync(victim, 'utf8'), 'keep');
    assert.equal(readlinkSync(join(dir, taken)), victim);
    // the next command (another suffix) writes the cache
    const build = `cmd.${tagOf([])}.cache`;
    assert.deepEqual(step(file, ['ok']), { cache: null, rejected: false, ran: 'AAAA', files: [build, 'cmd.cjs', taken, 'victim'].sort() });
    assert.equal(step(file, ['ok']).cache, build);
  });

  it('in an install it cannot write (a user of a root\'s install) takes the build\'s cache when V8 refuses the run cache it cannot remove, and with other options compiles from source, writing nothing', () => {
    // a folder of its own in the temporary folder: the user "nobody" must reach it
    const dir = mkdtempSync(join(tmpdir(), 'cli-bin-ro-'));
    try {
      chmodSync(dir, 0o755);
      const file = join(dir, 'cmd.cjs');
      writeFileSync(file, testBundle('AAAA'));
      const tag = tagOf([]);
      const [build, run, otherRun] = [`cmd.${tag}.cache`, `cmd.${tag}.run.cache`, `cmd.${tagOf([OTHER_OPTIONS])}.run.cache`];
      // root: the build's cache, then a run cache of another node's options under this node's name
      for (let i = 0; i < 2; i++) step(file, ['ok'], { nodeArgs: [OTHER_OPTIONS] });
      step(file, ['ok']);
      copyFileSync(join(dir, otherRun), join(dir, run));
      const files = readdirSync(dir).sort();
      const before = identities(dir);
      const nobody = { prefix: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'], env: { ...env, HOME: dir } };
      for (let i = 0; i < 2; i++) assert.deepEqual(step(file, ['ok'], nobody), { cache: build, rejected: false, ran: 'AAAA', files });
      // options nobody made caches for: compiled from source (the build's of this node untouched)
      assert.deepEqual(step(file, ['ok'], { ...nobody, nodeArgs: ['--max-semi-space-size=4'] }), { cache: null, rejected: false, ran: 'AAAA', files });
      assert.deepEqual(identities(dir), before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs a built-in command without loading oclif, and loads it for help', () => {
    const probe = (args: string[]): { oclif: boolean; status: number | null } => {
      const code = `require(${JSON.stringify(launcher)}).launch(${JSON.stringify(args)}).then(() => { process.stderr.write('\\n' + JSON.stringify(Object.keys(require.cache).some((k) => k.includes('@oclif')))); });`;
      const r = spawnSync(process.execPath, ['-e', code], { env, encoding: 'utf8' });
      return { oclif: JSON.parse(r.stderr.trimEnd().split('\n').pop()!) as boolean, status: r.status };
    };
    assert.deepEqual(probe(['stop']), { oclif: false, status: 1 });
    assert.deepEqual(probe(['ps']), { oclif: false, status: 1 }, 'no daemon: one error line, still no oclif');
    assert.deepEqual(probe(['stop', '--help']), { oclif: true, status: 0 });
  });

  it('keeps --env-file for itself (node 20 would read it and die on a missing file)', () => {
    const missing = join(scratch, 'no-such.env');
    for (const form of [['--env-file', missing], [`--env-file=${missing}`]]) {
      const r = cli(['run', '--rm', ...form, 'busybox', 'true']);
      assert.equal(r.status, 125, r.stderr);
      assert.equal(r.stderr, `Error: open ${missing}: no such file or directory\n`);
    }
    assert.deepEqual(restoreEnvFileArgs(['run', '--mini-docker-env-file', 'f', '--mini-docker-env-file=g', 'x']), ['run', '--env-file', 'f', '--env-file=g', 'x']);
  });

  it('refuses an empty tag and a variable name with whitespace in an env file before asking the daemon', () => {
    const tag = cli(['tag', 'busybox', 'qa/x:']);
    assert.equal(tag.status, 1);
    assert.equal(tag.stderr, 'Error: "qa/x:" is not a valid repository/tag: invalid reference format\n');
    const envFile = join(scratch, 'bad.env');
    writeFileSync(envFile, 'export D=4\n');
    const env = cli(['run', '--env-file', envFile, 'busybox', 'true']);
    assert.equal(env.status, 125);
    assert.equal(env.stderr, `Error: invalid env file (${envFile}): variable 'export D' contains whitespaces\n`);
  });

  it('usage errors in the docker CLI\'s words: unknown flag and a flag without its value are 125, missing arguments 1', () => {
    const stop = cli(['stop']);
    assert.equal(stop.status, 1);
    assert.equal(stop.stderr, "Error: 'mini-docker stop' requires at least 1 argument (see 'mini-docker stop --help')\n");
    const bogus = cli(['images', '--bogus']);
    assert.equal(bogus.status, 125);
    assert.equal(bogus.stderr, "Error: unknown flag: --bogus (see 'mini-docker images --help')\n");
  });

  it('an unknown command is one line and exit 1; help COMMAND shows its help', () => {
    const unknown = cli(['foo']);
    assert.equal(unknown.status, 1);
    assert.equal(unknown.stderr, "Error: 'foo' is not a mini-docker command. See 'mini-docker --help'.\n");
    const help = cli(['help', 'run']);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Create and run a new container/);
    assert.match(help.stdout, /--restart/);
    assert.match(cli(['help']).stdout, /COMMANDS/);
    assert.equal(cli(['help', 'nosuch']).status, 1);
  });

  it('puts NODE_EXTRA_CA_CERTS back for the processes the CLI starts', () => {
    const e: NodeJS.ProcessEnv = { MINI_DOCKER_NODE_EXTRA_CA_CERTS: '/etc/ssl/x.pem', PATH: '/bin' };
    restoreExtraCaCerts(e);
    assert.deepEqual(e, { NODE_EXTRA_CA_CERTS: '/etc/ssl/x.pem', PATH: '/bin' });
    const untouched: NodeJS.ProcessEnv = { PATH: '/bin' };
    restoreExtraCaCerts(untouched);
    assert.deepEqual(untouched, { PATH: '/bin' });
  });

  it('ends quietly with 141 when the reader of its output is gone, and says so in one line for other write errors', () => {
    const make = (): { proc: OutputProcess; stdout: EventEmitter; exits: number[]; said: string[] } => {
      const exits: number[] = [];
      const said: string[] = [];
      const stdout = new EventEmitter();
      const stderr = Object.assign(new EventEmitter(), { write: (s: string) => said.push(s) });
      return { proc: { stdout, stderr, exit: (code) => exits.push(code) }, stdout, exits, said };
    };
    const epipe = make();
    watchOutputErrors(epipe.proc);
    epipe.stdout.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    assert.deepEqual(epipe.exits, [CLOSED_PIPE_EXIT]);
    assert.deepEqual(epipe.said, []);
    const full = make();
    watchOutputErrors(full.proc);
    full.stdout.emit('error', Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
    assert.deepEqual(full.said, ['Error: cannot write the output: no space left on device\n']);
    assert.deepEqual(full.exits, [1]);
  });

  it('lists every command and the plugins topic in --help', () => {
    const r = cli(['--help']);
    assert.equal(r.status, 0, r.stderr);
    const ids = commandIds();
    assert.ok(ids.length >= 30, `found only ${ids.length} commands`);
    for (const id of ids) {
      const top = id.split(' ')[0]!;
      assert.match(r.stdout, new RegExp(`^  ${top}\\s`, 'm'), `${top} missing from --help`);
    }
    assert.match(r.stdout, /^ {2}plugins\s/m);
    for (const id of ['run', 'ps', 'replay', 'events', 'exec', 'container prune', 'image prune']) assert.ok(ids.includes(id), id);
  });

  it('lists the topic commands and the plugin commands', () => {
    const containers = cli(['container', '--help']);
    assert.match(containers.stdout, /container prune/);
    const images = cli(['image', '--help']);
    assert.match(images.stdout, /image prune/);
    const plugins = cli(['plugins', '--help']);
    for (const sub of ['install', 'link', 'uninstall']) assert.match(plugins.stdout, new RegExp(`plugins ${sub}`), sub);
  });

  it('prints the version without a daemon', () => {
    const r = cli(['--version']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^tiny-docker\/\d+\.\d+\.\d+\S* linux-\w+ node-v\d+/);
  });

  it('fails in one line, non-zero, when no daemon answers and autostart is off', () => {
    const r = cli(['ps']);
    assert.notEqual(r.status, 0);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.equal(lines[0], `Error: cannot reach mini-dockerd at ${join(scratch, 'run', 'mini-docker.sock')} (ENOENT); not starting it because MINI_DOCKER_NO_AUTOSTART=1`);
  });

  it('honours -H and MINI_DOCKER_HOST', () => {
    const flag = cli(['ps', '-H', `unix://${join(scratch, 'other.sock')}`]);
    assert.match(flag.stderr, new RegExp(`at ${join(scratch, 'other.sock')} `));
    const fromEnv = spawnSync(bin, ['images'], { env: { ...env, MINI_DOCKER_HOST: `unix://${join(scratch, 'env.sock')}` }, encoding: 'utf8' });
    assert.match(fromEnv.stderr, new RegExp(`at ${join(scratch, 'env.sock')} `));
  });

  it('exits 125 with one line for a bad run flag, 1 for other commands', () => {
    const run = cli(['run', '--bogus', 'busybox']);
    assert.equal(run.status, 125);
    assert.equal(run.stderr.trimEnd().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, /^Error: unknown flag: --bogus/);
    const missing = cli(['run']);
    assert.equal(missing.status, 125);
    assert.match(missing.stderr, /^Error: 'mini-docker run' requires at least 1 argument/);
    const bad = cli(['ps', '--bogus']);
    assert.notEqual(bad.status, 0);
    assert.equal(bad.stderr.trimEnd().split('\n').length, 1, bad.stderr);
  });

  it('refuses to prune without confirmation when stdin is not a terminal', () => {
    const r = cli(['container', 'prune']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^Error: WARNING! This will remove all stopped containers\. Not confirmed: stdin is not a terminal; use -f\/--force\n$/);
  });

  it('shows stack traces only with DEBUG=1', () => {
    const r = spawnSync(bin, ['ps'], { env: { ...env, DEBUG: '1' }, encoding: 'utf8' });
    assert.match(r.stderr, /^Error: cannot reach/);
    assert.match(r.stderr, /\n\s+at /);
  });
});
