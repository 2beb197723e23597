import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DOCKER_CLIENT_MISSING, TestDaemon } from './harness.js';

/** What a process inside the container reports: its seccomp mode, and whether the probes were allowed. */
const PROBE = [
  'grep "^Seccomp:" /proc/self/status | tr -d "\\t "',
  'unshare -U true 2>/dev/null && echo unshare-U=ok || echo unshare-U=denied',
  'unshare -m true 2>/dev/null && echo unshare-m=ok || echo unshare-m=denied',
  'dmesg >/dev/null 2>&1 && echo dmesg=ok || echo dmesg=denied',
  'ls / >/dev/null && echo ls=ok',
].join('; ');

/** Seccomp as Docker applies it: the default profile on every container and exec, unconfined or a profile of one's own on request. */
describe('e2e: seccomp (--security-opt)', { timeout: 180_000 }, () => {
  const d = new TestDaemon('security');
  before(() => d.start());
  after(() => d.cleanup());

  it('a default container has a filter: no new user or mount namespace, no kernel log; ordinary work goes on', async () => {
    const r = await d.cli(['run', '--rm', 'busybox', 'sh', '-c', PROBE]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Seccomp:2\nunshare-U=denied\nunshare-m=denied\ndmesg=denied\nls=ok\n');
  });

  it('seccomp=unconfined: no filter, and a user namespace can be made', async () => {
    const r = await d.cli(['run', '--rm', '--security-opt', 'seccomp=unconfined', 'busybox', 'sh', '-c', PROBE]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Seccomp:0\nunshare-U=ok\n/);
  });

  it('a profile file in Docker\'s format is read by the CLI, applied to the container and to every exec, and shown by inspect', async () => {
    const profile = join(d.root, 'no-mkdir.json');
    writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] }));
    const run = await d.cli(['run', '-d', '--name', 'sec-profile', '--security-opt', `seccomp=${profile}`, 'busybox', 'sleep', '60']);
    assert.equal(run.code, 0, run.stderr);
    const exec = await d.cli(['exec', 'sec-profile', 'sh', '-c', 'mkdir /x 2>&1; echo "status=$?"; unshare -U true && echo unshare-U=ok']);
    assert.match(exec.stdout, /Permission denied\nstatus=1\nunshare-U=ok\n/, exec.stderr);
    const opt = await d.cli(['inspect', '-f', '{{json .HostConfig.SecurityOpt}}', 'sec-profile']);
    assert.match(opt.stdout, /^\["seccomp=\{\\"defaultAction\\":\\"SCMP_ACT_ALLOW\\"/);
    const plain = await d.cli(['run', '-d', '--name', 'sec-default', 'busybox', 'sleep', '60']);
    assert.equal(plain.code, 0, plain.stderr);
    const execDefault = await d.cli(['exec', 'sec-default', 'sh', '-c', 'grep "^Seccomp:" /proc/self/status | tr -d "\\t "; unshare -U true 2>/dev/null || echo denied']);
    assert.equal(execDefault.stdout, 'Seccomp:2\ndenied\n', 'an exec gets the container\'s filter');
    assert.equal((await d.cli(['rm', '-f', 'sec-profile', 'sec-default'])).code, 0);
  });

  it('bad options fail create in one line, exit 125, and create nothing', async () => {
    const bad = join(d.root, 'bad.json');
    writeFileSync(bad, JSON.stringify({ defaultAction: 'SCMP_ACT_SOMETIMES' }));
    for (const [opt, message] of [
      [`seccomp=${bad}`, /^Error response from daemon: seccomp profile: defaultAction: unsupported action SCMP_ACT_SOMETIMES/],
      [`seccomp=${join(d.root, 'missing.json')}`, /^Error: opening seccomp profile \(.*missing\.json\) failed: ENOENT\n$/],
      ['apparmor=unconfined', /^Error response from daemon: invalid --security-opt: apparmor=unconfined/],
    ] as const) {
      const r = await d.cli(['run', '--rm', '--security-opt', opt, 'busybox', 'true']);
      assert.equal(r.code, 125, opt);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    assert.equal((await d.cli(['ps', '-aq'])).stdout, '', 'nothing half created');
  });

  it('the docker client: run --security-opt seccomp=unconfined, and the default', { skip: DOCKER_CLIENT_MISSING }, async () => {
    const def = await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'grep "^Seccomp:" /proc/self/status | tr -d "\\t "']);
    assert.equal(def.stdout, 'Seccomp:2\n', def.stderr);
    const unconfined = await d.docker(['run', '--rm', '--security-opt', 'seccomp=unconfined', 'busybox', 'sh', '-c', 'grep "^Seccomp:" /proc/self/status | tr -d "\\t "']);
    assert.equal(unconfined.stdout, 'Seccomp:0\n', unconfined.stderr);
  });
});
