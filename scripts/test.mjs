#!/usr/bin/env node
// The one test command: build, lint, type check, then unit, integration and end-to-end tests with
// node's own runner, then a leak check (mounts, cgroups, shim processes, network links, nft tables, namespaces)
// that fails the run. Meanwhile a cgroup v2 lane runs the cgroup tests again in a pure cgroup v2 guest
// kernel (scripts/vm-test.mjs, User-Mode Linux); its report is printed after the host's. See docs/testing.md.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// `--in-vm FILES...`: the lane's own run inside the guest (the tree is built and read-only there).
const inVm = process.argv[2] === '--in-vm';
const only = process.argv.slice(inVm ? 3 : 2); // e.g. `npm test -- unit` or a file path fragment
/**
 * The cgroup v2 lane: what touches cgroups or the shim's view of them, run in the guest with every
 * controller delegated, then the limiter again in a subtree delegated only `memory pids` (as systemd
 * may delegate a service), where what needs cpu, io or cpuset must skip and say so.
 */
const VM_LANE = [
  { controllers: '', files: ['integration/limiter-cgroup2.test.js', 'integration/shim.test.js', 'integration/shim-devices.test.js', 'e2e/limits.test.js'] },
  { controllers: 'memory,pids', files: ['integration/limiter-cgroup2.test.js'] },
];
const VM_SKIP = 77; // scripts/vm-test.mjs: the guest cannot run here (it says why)

function run(label, cmd, args, env = {}) {
  console.error(`\n== ${label}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status === 0;
}

function testFiles(kind) {
  const dir = join(root, 'dist', 'test', kind);
  if (!existsSync(dir)) return [];
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.test.js')) out.push(p);
    }
  };
  walk(dir);
  return out.filter((f) => only.length === 0 || only.some((o) => f.includes(o) || o === kind)).sort();
}

let ok = true;
if (!inVm) {
  ok = run('build', process.execPath, [join(root, 'scripts/build.mjs'), '--quiet']);
  if (!ok) process.exit(1);
  if (only.length === 0) {
    ok = run('lint', process.execPath, [join(root, 'node_modules/eslint/bin/eslint.js'), '--max-warnings=0', '.']) && ok;
  }
}

/**
 * Starts the cgroup v2 lane: scripts/vm-test.mjs boots the guest and runs this script there with
 * --in-vm on the lane's files (those the filter selects). Its output goes to a file, printed when
 * the host's lanes are done; the returned promise gives its exit status. Off with TINY_DOCKER_NO_VM=1.
 */
function startVmLane() {
  if (inVm || process.env.TINY_DOCKER_NO_VM === '1') return null;
  const passes = VM_LANE.map(({ controllers, files }) => ({
    controllers, files: files.filter((f) => only.length === 0 || only.some((o) => f.includes(o) || f.startsWith(`${o}/`))),
  })).filter((p) => p.files.length > 0);
  if (passes.length === 0) return null;
  const dir = mkdtempSync(join(tmpdir(), 'tiny-docker-vm-lane-'));
  const logFile = join(dir, 'lane.log');
  const out = openSync(logFile, 'w');
  const runPass = ({ controllers, files }) => new Promise((resolve) => {
    writeSync(out, `\n== guest, ${controllers ? `only ${controllers} delegated` : 'every controller delegated'}: ${files.join(', ')}\n`);
    const child = spawn(process.execPath, [
      join(root, 'scripts/vm-test.mjs'), ...(controllers ? ['--controllers', controllers] : []), '--', process.execPath, 'scripts/test.mjs', '--in-vm', ...files,
    ], { cwd: root, stdio: ['ignore', out, out], env: { ...process.env, TINY_DOCKER_VM_TIMEOUT: process.env.TINY_DOCKER_VM_TIMEOUT ?? '420' } });
    child.on('close', (code) => resolve(code ?? 1));
    child.on('error', () => resolve(1));
  });
  const done = (async () => {
    let status = 0;
    for (const pass of passes) {
      const code = await runPass(pass);
      if (code === VM_SKIP) { status = VM_SKIP; break; }
      if (code !== 0) status = code;
    }
    closeSync(out);
    return status;
  })();
  return { files: [...new Set(passes.flatMap((p) => p.files))], dir, logFile, done };
}
const vmLane = startVmLane();

const scratch = mkdtempSync(join(tmpdir(), 'tiny-docker-test-'));
const env = { TINY_DOCKER_TEST_SCRATCH: scratch, MINI_DOCKER_NO_AUTOSTART: '', XDG_DATA_HOME: join(scratch, 'xdg-data') };
/** The command line of a process, or '' when it is gone. */
function cmdlineOf(pid) {
  try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' '); } catch { return ''; }
}

/**
 * True when a container cgroup holds a process whose shim serves another engine on this machine
 * (a developer's daemon, another session's tests): its bundle is outside this run's scratch folder.
 * Such a cgroup is not this run's leak; an empty one, or one of this run's shims, still counts.
 */
function belongsElsewhere(cgroupDir, scratchDir) {
  let pids = [];
  try { pids = readFileSync(join(cgroupDir, 'cgroup.procs'), 'utf8').split('\n').filter((l) => l !== ''); } catch { return false; }
  for (const pid of pids) {
    let p = pid;
    for (let up = 0; up < 4 && p && p !== '0' && p !== '1'; up++) {
      const cmd = cmdlineOf(p);
      if (cmd.includes('mini-docker-shim')) return !cmd.includes(scratchDir);
      try { p = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]; } catch { break; }
    }
  }
  return false;
}

function hasProcesses(cgroupDir) {
  try { return readFileSync(join(cgroupDir, 'cgroup.procs'), 'utf8').trim() !== ''; } catch { return false; }
}

/** Mounts, cgroups and processes that look like ours; compared before and after the run. */
function findLeaks(scratchDir = scratch) {
  const found = [];
  for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
    const target = line.split(' ')[1] ?? '';
    if (target.includes('tiny-docker-test-') || target.includes('mini-docker')) found.push(`mount ${target}`);
  }
  const findCgroups = (d, depth) => {
    if (depth > 5 || !existsSync(d)) return;
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      let isDir = false;
      try { isDir = statSync(p).isDirectory(); } catch { continue; }
      if (!isDir) continue;
      if (name === 'mini-docker-daemon' && hasProcesses(p)) continue; // a v2 daemon's leaf, with the processes it moved (docs/limits.md)
      if (name.startsWith('mini-docker')) {
        if (!belongsElsewhere(p, scratchDir)) found.push(`cgroup ${p}`);
      } else findCgroups(p, depth + 1);
    }
  };
  findCgroups('/sys/fs/cgroup', 0);
  // the network driver's links (bridges mdbr-, veths mdv; test veths mdt), its nft tables, test namespaces (md-)
  if (existsSync('/sys/class/net')) {
    for (const link of readdirSync('/sys/class/net')) if (/^(mdbr-|mdv|mdt)/.test(link)) found.push(`link ${link}`);
  }
  const tables = spawnSync('nft', ['list', 'tables'], { encoding: 'utf8' });
  for (const line of tables.status === 0 ? tables.stdout.split('\n') : []) {
    const m = /^table (\S+) (mini-docker\S*)$/.exec(line.trim());
    if (m) found.push(`nft table ${m[1]} ${m[2]}`);
  }
  if (existsSync('/run/netns')) {
    for (const ns of readdirSync('/run/netns')) if (ns.startsWith('md-')) found.push(`network namespace ${ns}`);
  }
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (cmd.some((a) => a.includes(scratchDir))) found.push(`process ${pid}: ${cmd.join(' ').trim()}`);
    } catch { /* exited */ }
  }
  return found;
}

// What other sessions on this machine already have is not ours to report.
const before = new Set(findLeaks());
// In the guest (one CPU) the files run one at a time: each daemon moves the processes of the
// shared cgroup into its leaf and gives them back on exit (docs/limits.md).
const parallel = inVm ? '1' : String(Math.max(2, cpus().length));
for (const [kind, concurrency] of [['unit', parallel], ['integration', parallel], ['e2e', parallel]]) {
  const files = inVm ? only.filter((f) => f.startsWith(`${kind}/`)).map((f) => join(root, 'dist', 'test', f)) : testFiles(kind);
  if (files.length === 0) continue;
  ok = run(`${kind} tests (${files.length} files)`, process.execPath,
    ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], env) && ok;
}

if (vmLane !== null) {
  console.error(`\n== cgroup v2 lane: ${vmLane.files.join(', ')} in a pure cgroup v2 guest (scripts/vm-test.mjs)`);
  const status = await vmLane.done;
  process.stderr.write(readFileSync(vmLane.logFile, 'utf8'));
  rmSync(vmLane.dir, { recursive: true, force: true });
  if (status === VM_SKIP) console.error('cgroup v2 lane skipped (the reason is above)');
  else if (status !== 0) {
    console.error(`cgroup v2 lane failed (exit ${status})`);
    ok = false;
  }
}

console.error(`\n== leak check${inVm ? ' (in the guest)' : ''}`);
const leaks = [
  ...findLeaks().filter((l) => !before.has(l)),
];
if (leaks.length > 0) {
  console.error(`leaked after the tests:\n  ${leaks.join('\n  ')}`);
  ok = false;
} else {
  console.error('nothing leaked');
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);
