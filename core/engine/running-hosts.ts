/**
 * A running container's /etc/hosts after `network connect` and `network disconnect`: Docker adds
 * the line of the new address (with the container's hostname and its aliases there) and removes it
 * again; so do we, keeping the rest of the file as the container sees it (its own lines too).
 *
 * As Docker, the daemon edits only its own copy, `<data root>/containers/<id>/hosts`: the file the
 * shim binds onto the container's /etc/hosts at start (and onto the /etc/hosts of the containers
 * started with `--network container:<it>`, which bind the same file). The edit is in place, the same
 * inode (read, then written at offset 0 and truncated to the new length), so every bind of it shows
 * the new text at once. Nothing is opened through the container's root: no `/proc/<pid>/root` (a pid
 * from the fold may be another process's by now, when the container's init died), nothing written
 * or renamed in its root (its writable layer, `diff`, `commit` and `export` never show /etc/hosts),
 * no temp file. A reader in the container may see the file half written for an instant, as in Docker.
 *
 * The container may write that file (the bind is read-write, as in Docker), so it is read into a
 * bounded buffer: at most MAX_HOSTS_BYTES + 1 bytes, refused above MAX_HOSTS_BYTES (a file that
 * grows while it is read included). It is opened with O_NOFOLLOW and O_NONBLOCK and must be a regular file.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { containerHostname } from '../network/container-files.js';
import type { ContainerState } from '../state/engine-state.js';
import { containerFilesDir } from './container-endpoints.js';
import type { EngineContext } from './engine-context.js';
import { messageOf } from './engine-context.js';

/** More than any hosts file: a bigger one the container wrote is not read into the daemon. */
export const MAX_HOSTS_BYTES = 1 << 20;

/** An edit of a hosts file's text (pure: container-files.ts hostsWithEntry / hostsWithoutAddress). */
export type HostsEdit = (text: string, hostname: string) => string;

/**
 * Applies `edit` to the hosts file bound onto a running container's /etc/hosts (and onto that of the
 * containers sharing its network namespace, `--network container:NAME`). A failure is a warning in
 * the daemon's log: the network change itself is done and recorded.
 */
export async function editRunningHosts(ctx: EngineContext, c: ContainerState, edit: HostsEdit): Promise<void> {
  const hostname = containerHostname(c.id, c.config.Hostname);
  const path = join(containerFilesDir(ctx, c.id), 'hosts');
  try {
    await editHostsFile(path, (text) => edit(text, hostname));
  } catch (err) {
    ctx.logger.warn(`cannot update the hosts file of container ${ctx.short(c.id)} (${path}): ${messageOf(err)}`);
  }
}

/**
 * Edits the regular file `path` in place (same inode, owner and mode): reads at most
 * MAX_HOSTS_BYTES + 1 bytes (more is refused), writes `edit` of its text at offset 0 and truncates
 * it there. Never through a symlink (O_NOFOLLOW), never waiting on a FIFO (O_NONBLOCK). Returns the
 * text written (or found, when the edit changes nothing: then nothing is written).
 */
export async function editHostsFile(path: string, edit: (text: string) => string): Promise<{ text: string; changed: boolean }> {
  const handle = await open(path, constants.O_RDWR | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    if (!(await handle.stat()).isFile()) throw new Error(`${path} is not a regular file`);
    const buffer = Buffer.allocUnsafe(MAX_HOSTS_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > MAX_HOSTS_BYTES) throw new Error(`${path} holds more than ${MAX_HOSTS_BYTES} bytes: left as it is`);
    const text = buffer.toString('utf8', 0, length);
    const next = edit(text);
    if (next === text) return { text, changed: false };
    const bytes = Buffer.from(next, 'utf8');
    if (bytes.length > MAX_HOSTS_BYTES) throw new Error(`the edit of ${path} would make it more than ${MAX_HOSTS_BYTES} bytes: left as it is`);
    let written = 0;
    while (written < bytes.length) {
      const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, written);
      written += bytesWritten;
    }
    await handle.truncate(bytes.length);
    return { text: next, changed: true };
  } finally {
    await handle.close();
  }
}
