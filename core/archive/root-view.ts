import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BindSpec, MountSpec } from '../plugins/driver.js';

/** Built by `npm run build` (scripts/build.mjs) from core/archive/native/rootview.c. */
export const ROOT_VIEW_BINARY = join(dirname(fileURLToPath(import.meta.url)), 'bin', 'mini-docker-rootview');

/** A container's filesystem as the container sees it, reachable at `root` until released. */
export interface RootView {
  /** A path of the daemon's that is the container's "/" (through /proc/<pid>/root); cp reaches it from inside instead (mini-docker-cproot joins the helper's namespace by `pid`). */
  readonly root: string;
  /** The helper's pid (tests check that it ends). */
  readonly pid: number;
  release(): Promise<void>;
}

/**
 * A stopped container's filesystem: `mini-docker-rootview` mounts the storage driver's mount specs
 * and the container's binds in a mount namespace of its own and waits; `root` is
 * `/proc/<its pid>/root<rootfs>`. Nothing is mounted on the host, and a daemon that dies takes the
 * helper, and so every mount, with it (the helper dies with its parent).
 */
export async function openRootView(rootfs: string, mounts: readonly MountSpec[], binds: readonly BindSpec[]): Promise<RootView> {
  if (!existsSync(ROOT_VIEW_BINARY)) throw new Error(`${ROOT_VIEW_BINARY} is missing: build it with "npm run build" (it needs gcc and make)`);
  const args = [rootfs];
  for (const m of mounts) args.push('-m', m.type, m.source, m.target, m.options.join(','));
  for (const b of binds) args.push('-b', b.source, b.target, b.readOnly ? 'ro' : 'rw');
  const child = spawn(ROOT_VIEW_BINARY, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => (stderr += text));
  child.stdin.on('error', () => undefined); // the helper's end is reported by 'close'
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      out += text;
      if (out.includes('ready\n')) resolve();
    });
    child.once('error', (error) => reject(new Error(`${ROOT_VIEW_BINARY}: ${error.message}`)));
    child.once('close', (code, signal) => reject(new Error(stderr.trim().split('\n')[0] || `${ROOT_VIEW_BINARY} ended (${signal ?? `exit code ${code}`}) before it was ready`)));
  });
  const pid = child.pid!;
  return {
    root: `/proc/${pid}/root${rootfs}`,
    pid,
    release: async () => {
      child.stdin.end();
      await closed;
    },
  };
}
