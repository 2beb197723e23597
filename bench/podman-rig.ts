// Podman for the benchmarks that compare with it (bench/commit-cli.bench.ts): a podman of the
// host (Debian's `apt-get install podman`; never a CI package) kept to a store of its own in a
// temporary folder, with a busybox image made offline from the host's static busybox (the same
// rootfs as our built-in image, core/images/busybox-rootfs.ts) and `podman import`ed: nothing is
// pulled. Its containers run with no network and under a cgroup parent of their own, which
// `cleanup` removes with the store, so a benchmark leaves nothing of podman's behind but its
// blob-info cache (/var/lib/containers/cache, which no flag moves).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { buildBusyboxRootfsTar } from '../core/images/busybox-rootfs.js';
import { runCommand, type RunResult } from '../test/e2e/harness.js';

/** Why podman cannot be measured on this machine, or false when it can. */
export function podmanMissing(): string | false {
  const probe = spawnSync('podman', ['--version'], { encoding: 'utf8' });
  if (probe.error) return 'podman is not installed (apt-get install -y podman; it is not a CI package)';
  if (probe.status !== 0) return `podman --version exited with ${probe.status}: ${probe.stderr.trim()}`;
  return false;
}

/** Removes a cgroup folder and the folders under it, deepest first (each must be empty of processes). */
function removeCgroupTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) removeCgroupTree(join(dir, entry.name));
  rmdirSync(dir);
}

export class PodmanRig {
  readonly version: string;
  private readonly global: string[];
  private readonly cgroupParent: string;

  /** A podman whose store, run state and temporary files are all under `root` (a new folder). */
  constructor(private readonly root: string) {
    this.version = spawnSync('podman', ['--version'], { encoding: 'utf8' }).stdout.trim();
    this.global = [
      '--root', join(root, 'storage'), '--runroot', join(root, 'run'), '--tmpdir', join(root, 'tmp'),
      '--storage-driver', 'overlay', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file',
    ];
    this.cgroupParent = `/tiny-docker-bench-podman-${process.pid}`;
  }

  /** `podman <global flags> ARGS`. */
  podman(args: readonly string[], input?: Buffer): Promise<RunResult> {
    return runCommand('podman', [...this.global, ...args], input === undefined ? {} : { input });
  }

  /** The argv that runs `podman ARGS` with this rig's store (for timing it from outside). */
  argv(args: readonly string[]): string[] {
    return [...this.global, ...args];
  }

  /** Imports the busybox image (`busybox`, CMD sh) from the host's static busybox. */
  async importBusybox(): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of buildBusyboxRootfsTar()) chunks.push(chunk as Buffer);
    const r = await this.podman(['import', '--quiet', '--change', 'CMD ["sh"]', '-', 'busybox'], Buffer.concat(chunks));
    if (r.code !== 0) throw new Error(`podman import of the busybox rootfs exited with ${r.code}: ${r.stderr.trim()}`);
  }

  /**
   * `podman run --name NAME busybox COMMAND…` to its end. Without a network, in the rig's cgroup
   * parent, and with ulimits this machine allows: podman's defaults (1,048,576 open files) are
   * above the hard limits here and root has no CAP_SYS_RESOURCE, so runc would refuse them.
   */
  async run(name: string, command: readonly string[]): Promise<void> {
    const r = await this.podman([
      'run', '--name', name, '--network', 'none', '--cgroup-parent', this.cgroupParent,
      '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096', 'busybox', ...command,
    ]);
    if (r.code !== 0) throw new Error(`podman run ${name} exited with ${r.code}: ${r.stderr.trim()}`);
  }

  /** Removes the containers, the store (podman unmounts what it mounted) and the cgroups. */
  async cleanup(): Promise<void> {
    await this.podman(['rm', '--all', '--force']);
    await this.podman(['rmi', '--all', '--force']);
    const mounts = await runCommand('findmnt', ['-rn', '-o', 'TARGET']);
    for (const target of mounts.stdout.split('\n').reverse()) if (target.startsWith(this.root)) await runCommand('umount', ['-l', target]);
    await rm(this.root, { recursive: true, force: true });
    const top = '/sys/fs/cgroup';
    const candidates = [join(top, this.cgroupParent)];
    for (const entry of readdirSync(top, { withFileTypes: true })) if (entry.isDirectory()) candidates.push(join(top, entry.name, this.cgroupParent));
    for (const dir of candidates) removeCgroupTree(dir);
  }
}

