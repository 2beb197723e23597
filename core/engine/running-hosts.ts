/**
 * A running container's /etc/hosts after `network connect` and `network disconnect`: Docker adds
 * the line of the new address (with the container's hostname and its aliases there) and removes it
 * again; so do we, keeping the rest of the file as the container sees it (its own lines too).
 *
 * Crash-safe, and never on the host's files: the new text is written to a temp file beside the
 * container's /etc/hosts, in its root as the container sees it (`/proc/<init pid>/root/etc`, held
 * open with O_NOFOLLOW: a /etc the container turned into a symlink is refused, not followed), synced,
 * then renamed over /etc/hosts. A reader in the container sees the old file or the new one, never a
 * part, and a daemon that dies midway leaves at most a `.hosts.mini-docker-*` temp file there.
 * Files are opened with O_NOFOLLOW (a symlink the container planted at /etc/hosts is replaced, not
 * followed), O_NONBLOCK (a FIFO there does not hang the daemon) and O_EXCL (the temp file is new).
 *
 * The rename replaces the file the shim bound over /etc/hosts at the start: the daemon renames in
 * its own mount namespace, where that bind is no mount point, and the kernel then detaches the bind
 * in the container's namespace, so the container sees the renamed file of its root (its writable
 * layer: `diff` shows /etc/hosts changed). The next start binds a fresh file again. The host copy
 * (`<data root>/containers/<id>/hosts`, what `container:NAME` joiners bind when they start) is
 * replaced the same way, and running joiners get the same edit in their own root.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { HeldDir } from '../archive/held-dir.js';
import { containerHostname } from '../network/container-files.js';
import type { ContainerState } from '../state/engine-state.js';
import { findContainer } from '../state/lookup.js';
import { containerFilesDir, networkChoice } from './container-network.js';
import type { EngineContext } from './engine-context.js';
import { messageOf } from './engine-context.js';

/** More than any hosts file: a bigger one the container wrote is not read into the daemon. */
const MAX_HOSTS_BYTES = 1 << 20;

/** An edit of a hosts file's text (pure: container-files.ts hostsWithEntry / hostsWithoutAddress). */
export type HostsEdit = (text: string, hostname: string) => string;

/**
 * Applies `edit` to the /etc/hosts of a running container (and of the running containers that share
 * its network namespace, `--network container:NAME`) and to its host copy. A failure is a warning
 * in the daemon's log: the network change itself is done and recorded.
 */
export async function editRunningHosts(ctx: EngineContext, c: ContainerState, edit: HostsEdit): Promise<void> {
  const hostname = containerHostname(c.id, c.config.Hostname);
  const copy = containerFilesDir(ctx, c.id);
  let fallback = '';
  try {
    fallback = (await rewriteHostsIn(copy, (text) => edit(text, hostname), '')).text;
  } catch (err) {
    ctx.logger.warn(`cannot update the hosts file of container ${ctx.short(c.id)} in ${copy}: ${messageOf(err)}`);
  }
  for (const target of [c, ...joinersOf(ctx, c)]) {
    if (target.status !== 'running' && target.status !== 'paused') continue;
    try {
      await rewriteHostsIn(`/proc/${target.pid}/root/etc`, (text) => edit(text, hostname), fallback);
    } catch (err) {
      ctx.logger.warn(`cannot update /etc/hosts of container ${ctx.short(target.id)}: ${messageOf(err)}`);
    }
  }
}

/** The containers whose `--network` is `container:` this one. */
function joinersOf(ctx: EngineContext, c: ContainerState): ContainerState[] {
  return Object.values(ctx.state().containers).filter((other) => {
    const choice = networkChoice(other.hostConfig);
    if (choice.kind !== 'container') return false;
    try {
      return findContainer(ctx.state(), choice.ref).id === c.id;
    } catch {
      return false;
    }
  });
}

/**
 * Replaces `<dir>/hosts` with `edit` of its text (`fallback` when it is missing or not a regular
 * file), through a temp file renamed over it; `dir` itself must not be a symlink. Returns the text
 * written (or found, when the edit changes nothing).
 */
export async function rewriteHostsIn(dir: string, edit: (text: string) => string, fallback: string): Promise<{ text: string; changed: boolean }> {
  const held = await HeldDir.open(dir, { noFollow: true });
  try {
    const target = join(held.path, 'hosts');
    const current = await readRegularFile(target);
    const next = edit(current?.text ?? fallback);
    if (current && next === current.text) return { text: next, changed: false };
    const temp = join(held.path, `.hosts.mini-docker-${randomBytes(6).toString('hex')}`);
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    try {
      try {
        await handle.writeFile(next);
        if (current) await handle.chown(current.uid, current.gid);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, target);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
    return { text: next, changed: true };
  } finally {
    await held.close();
  }
}

/** A regular file's text and owner, never through a symlink or from a FIFO; null when there is none such. */
async function readRegularFile(path: string): Promise<{ text: string; uid: number; gid: number } | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP') return null;
    throw err;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return null;
    if (stats.size > MAX_HOSTS_BYTES) throw new Error(`its hosts file is ${stats.size} bytes, more than ${MAX_HOSTS_BYTES}`);
    return { text: await handle.readFile('utf8'), uid: stats.uid, gid: stats.gid };
  } finally {
    await handle.close();
  }
}
