import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileSeccomp, DEFAULT_CAPABILITIES, DEFAULT_SECCOMP_PROFILE, parseSecurityOptions, seccompFilterFor, type SeccompFilter } from '../../core/security/seccomp-profile.js';
import { seccompLines } from '../../plugins/isolator-namespaces/shim-protocol.js';
import { securityOptFlag } from '../../cli/lib/create-body.js';

const rulesFor = (f: SeccompFilter, name: string): SeccompFilter['rules'] => f.rules.filter((r) => r.name === name);

describe('unit: seccomp profiles (Docker\'s format) compiled for the shim', () => {
  const plain = compileSeccomp(DEFAULT_SECCOMP_PROFILE, new Set(DEFAULT_CAPABILITIES), '6.1.0');
  const admin = compileSeccomp(DEFAULT_SECCOMP_PROFILE, new Set([...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']), '6.1.0');

  it('the default: EPERM for what no rule names, every other syscall of the kernel allowed', () => {
    assert.deepEqual(plain.defaultAction, { kind: 'errno', errno: 1 });
    assert.deepEqual(plain.others, { kind: 'allow', errno: 0 });
  });

  it('the default denies namespaces, mount, the keyring, the kernel log, modules and reboot to a container without the capabilities', () => {
    for (const name of ['unshare', 'setns', 'mount', 'umount2', 'keyctl', 'add_key', 'syslog', 'init_module', 'reboot', 'bpf', 'kexec_load']) {
      assert.deepEqual(rulesFor(plain, name).map((r) => r.action), [{ kind: 'errno', errno: 1 }], name);
    }
    assert.deepEqual(rulesFor(plain, 'clone3').map((r) => r.action), [{ kind: 'errno', errno: 38 }], 'ENOSYS: libc falls back to clone');
    const clone = rulesFor(plain, 'clone');
    assert.equal(clone.length, 1);
    assert.deepEqual(clone[0]!.args, [{ index: 0, op: 'masked_eq', value: 0x7e020000n, valueTwo: 0n }], 'clone only without namespace flags');
    assert.deepEqual(rulesFor(plain, 'personality').map((r) => r.args[0]!.value), [0n, 8n, 0x20000n, 0x20008n, 0xffffffffn]);
    assert.equal(rulesFor(plain, 'read').length, 0, 'read is one of the others: allowed');
  });

  it('CAP_SYS_ADMIN lifts mount, unshare and the namespace check on clone, as in Docker\'s profile', () => {
    assert.equal(rulesFor(admin, 'mount').length, 0);
    assert.equal(rulesFor(admin, 'unshare').length, 0);
    assert.deepEqual(rulesFor(admin, 'clone').map((r) => [r.action.kind, r.args.length]), [['allow', 0]]);
    assert.equal(rulesFor(admin, 'keyctl').length, 1, 'the keyring stays closed');
  });

  it('reads a profile in Docker\'s format: includes/excludes by capability, architecture and kernel, args, errnoRet', () => {
    const f = compileSeccomp({
      defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1, architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [
        { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
        { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
        { names: ['futuristic'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '99.0' } },
        { names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 97, args: [{ index: 0, value: 40, op: 'SCMP_CMP_EQ' }] },
        { names: ['sethostname'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
        { names: ['s390_pci_mmio_read'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['s390x'] } },
      ],
    }, new Set(DEFAULT_CAPABILITIES), '6.1.0-13-amd64');
    assert.deepEqual(f.rules.map((r) => r.name), ['read', 'write', 'ptrace', 'socket']);
    assert.deepEqual(rulesFor(f, 'socket')[0], { name: 'socket', action: { kind: 'errno', errno: 97 }, args: [{ index: 0, op: 'eq', value: 40n, valueTwo: 0n }] });
    assert.equal(f.others, undefined);
  });

  it('refuses a bad profile in one line naming the place', () => {
    assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_NOTIFY' }, new Set(), '6.1'), /^Error: seccomp profile: defaultAction: unsupported action SCMP_ACT_NOTIFY/);
    assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 9, value: 1, op: 'SCMP_CMP_EQ' }] }] }, new Set(), '6.1'), /syscalls\[0\]\.args\[0\]: index must be 0-5/);
    assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_XX' }] }] }, new Set(), '6.1'), /unsupported op SCMP_CMP_XX/);
    assert.throws(() => compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['rm -rf'], action: 'SCMP_ACT_ALLOW' }] }, new Set(), '6.1'), /is not a syscall name/);
  });

  it('reads --security-opt as Docker does, and the CLI sends a profile file\'s content', () => {
    assert.deepEqual(parseSecurityOptions([]), { seccomp: 'default', noNewPrivileges: false });
    assert.deepEqual(parseSecurityOptions(['seccomp=unconfined', 'no-new-privileges']), { seccomp: 'unconfined', noNewPrivileges: true });
    assert.deepEqual(parseSecurityOptions(['seccomp:unconfined', 'no-new-privileges=false']), { seccomp: 'unconfined', noNewPrivileges: false });
    assert.deepEqual(parseSecurityOptions(['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}']).seccomp, { defaultAction: 'SCMP_ACT_ALLOW' });
    assert.throws(() => parseSecurityOptions(['seccomp=/etc/x.json']), /not a profile in Docker's JSON format/);
    assert.throws(() => parseSecurityOptions(['apparmor=docker-default']), /^Error: invalid --security-opt: apparmor=docker-default \(supported: seccomp=unconfined, seccomp=PROFILE, no-new-privileges\)$/);
    assert.equal(seccompFilterFor({ seccomp: 'unconfined', noNewPrivileges: false }, DEFAULT_CAPABILITIES, '6.1'), null);
    assert.equal(securityOptFlag('seccomp=unconfined', '/', 125), 'seccomp=unconfined');
    assert.throws(() => securityOptFlag('seccomp=./nothing.json', '/tmp', 125), /opening seccomp profile \(\.\/nothing\.json\) failed: ENOENT/);
  });

  it('the shim\'s spec lines', () => {
    const lines = seccompLines({
      defaultAction: { kind: 'errno', errno: 1 }, others: { kind: 'allow', errno: 0 },
      rules: [{ name: 'clone', action: { kind: 'allow', errno: 0 }, args: [{ index: 0, op: 'masked_eq', value: 0x7e020000n, valueTwo: 0n }] }, { name: 'keyctl', action: { kind: 'errno', errno: 1 }, args: [] }],
    });
    assert.deepEqual(lines, ['seccomp errno 1', 'seccomp-others allow 0', 'seccomp-rule allow 0 clone 0,masked_eq,2114060288,0', 'seccomp-rule errno 1 keyctl']);
  });
});
