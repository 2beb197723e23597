import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import type { ImageConfig } from '../../events/index.js';
import { TarWriter, type TarHeaderInput } from '../archive/index.js';
import { ociArchitecture, type ImageConfigDocument } from './image-config.js';

/** Debian's busybox-static installs the static binary here. */
export const HOST_BUSYBOX = '/bin/busybox';
/** Every entry of the busybox image has this mtime (the epoch), so its bytes and id are stable. */
export const BUSYBOX_IMAGE_MTIME = 0;
/** When the busybox image says it was created: fixed, for a stable image id. */
export const BUSYBOX_IMAGE_CREATED = '1970-01-01T00:00:00Z';

export interface BusyboxOptions {
  /** The static busybox binary to put in the image; default /bin/busybox. */
  readonly busybox?: string;
}

function listApplets(busybox: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(busybox, ['--list'], (error, stdout) => {
      if (error) reject(new Error(`${busybox} --list: ${error.message} (is busybox-static installed?)`));
      else resolve(stdout.split('\n').map((line) => line.trim()).filter((name) => /^[A-Za-z0-9._[-]+$/.test(name)));
    });
  });
}

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
const GROUP = 'root:x:0:\nnobody:x:65534:\n';

/**
 * The root filesystem of the default `busybox` image as one tar, made from the host's static
 * busybox: /bin/busybox with a symlink per applet (`busybox --list`, sh included) in /bin,
 * /etc/passwd (root, nobody), /etc/group, empty /etc/hostname, /etc/hosts and /etc/resolv.conf
 * (what the shim binds a container's own files over, as in an image `docker export` made), /tmp (1777),
 * /root (0700), /home, and empty /dev, /proc and /sys. Entries are sorted, owned by 0:0 and dated
 * at the epoch, so the same busybox binary always gives the same bytes (and image id).
 * Errors (no busybox) are raised on the returned stream.
 */
export function buildBusyboxRootfsTar(options: BusyboxOptions = {}): Readable {
  const busybox = options.busybox ?? HOST_BUSYBOX;
  const out = new PassThrough();
  const write = async (): Promise<void> => {
    const stats = await stat(busybox);
    if (!stats.isFile()) throw new Error(`${busybox}: not a file`);
    const applets = [...new Set([...(await listApplets(busybox)), 'sh'])].filter((name) => name !== 'busybox');
    const m = BUSYBOX_IMAGE_MTIME;
    const dir = (path: string, mode = 0o755): TarHeaderInput => ({ path, type: 'directory', mode, mtime: m });
    const text = (path: string, content: string, mode = 0o644): [TarHeaderInput, Buffer] => {
      const data = Buffer.from(content);
      return [{ path, type: 'file', mode, size: data.length, mtime: m }, data];
    };
    const entries: [TarHeaderInput, Buffer | Readable | undefined][] = [
      [dir('bin'), undefined],
      [{ path: 'bin/busybox', type: 'file', mode: 0o755, size: stats.size, mtime: m }, createReadStream(busybox)],
      ...applets.map((name): [TarHeaderInput, undefined] => [{ path: `bin/${name}`, type: 'symlink', linkname: 'busybox', mode: 0o777, mtime: m }, undefined]),
      [dir('dev'), undefined],
      [dir('etc'), undefined],
      text('etc/group', GROUP),
      text('etc/hostname', ''),
      text('etc/hosts', ''),
      text('etc/passwd', PASSWD),
      text('etc/resolv.conf', ''),
      [dir('home'), undefined],
      [dir('proc'), undefined],
      [dir('root', 0o700), undefined],
      [dir('sys'), undefined],
      [dir('tmp', 0o1777), undefined],
    ];
    entries.sort(([a], [b]) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
    const writer = new TarWriter(out);
    for (const [header, body] of entries) await writer.add(header, body);
    await writer.finish();
    out.end();
  };
  write().catch((error: unknown) => out.destroy(error as Error));
  return out;
}

/** What the busybox image runs: `sh`, with Docker's default PATH. */
export const BUSYBOX_IMAGE_CONFIG: ImageConfig = {
  Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
  Cmd: ['sh'],
  Entrypoint: null,
  WorkingDir: '',
  User: '',
  Labels: {},
};

/** The config document of the busybox image whose one layer has `diffId` (fixed dates: a stable id). */
export function busyboxImageDocument(diffId: string, busybox: string = HOST_BUSYBOX): ImageConfigDocument {
  return {
    architecture: ociArchitecture(),
    os: 'linux',
    created: BUSYBOX_IMAGE_CREATED,
    config: BUSYBOX_IMAGE_CONFIG,
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created: BUSYBOX_IMAGE_CREATED, created_by: `mini-docker: the host's static busybox (${busybox})` }],
  };
}
