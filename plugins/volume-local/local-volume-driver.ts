import { execFile } from 'node:child_process';
import { chown, lstat, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { injectable } from '../../core/plugin-api.js';
import type { CreatedVolume, DriverContext, DriverStatus, OnDemandVolumeDriver, VolumeOwner, VolumeUsage } from '../../core/plugin-api.js';

/** The options `--opt` takes, as Docker's local driver names them. */
const KNOWN_OPTIONS = ['type', 'o', 'device'] as const;

/** The file that records a bind volume's host folder (its `_data` does not exist). */
const DEVICE_FILE = 'device';

/** File systems on a block device (`--opt type=ext4 --opt device=/dev/…`), mounted while a container uses the volume. */
const BLOCK_TYPES = ['ext2', 'ext3', 'ext4', 'xfs', 'btrfs'] as const;

/** Network file systems Docker's local driver mounts and this one does not. */
const NETWORK_TYPES = ['nfs', 'nfs4', 'cifs', 'smb3'] as const;

/** What `o=` may hold for a tmpfs (the kernel's tmpfs options and the common mount flags). */
const TMPFS_OPTIONS: Readonly<Record<string, RegExp | null>> = {
  size: /^\d+[kmgKMG%]?$/, nr_blocks: /^\d+[kmgKMG]?$/, nr_inodes: /^\d+[kmgKMG]?$/, mode: /^[0-7]{3,4}$/, uid: /^\d+$/, gid: /^\d+$/,
  huge: /^(never|always|within_size|advise)$/, ro: null, rw: null, noexec: null, exec: null, nosuid: null, suid: null, nodev: null, dev: null,
  noatime: null, relatime: null, strictatime: null, nodiratime: null,
};

/** Mount flags `o=` may hold for a block device's file system; `key=value` options are the file system's own and passed on. */
const BLOCK_FLAGS = ['ro', 'rw', 'noexec', 'exec', 'nosuid', 'suid', 'nodev', 'dev', 'noatime', 'relatime', 'strictatime', 'nodiratime', 'sync', 'async', 'dirsync', 'lazytime', 'nolazytime', 'discard', 'nodiscard'];

/** Flags that would make a mount something else than a file system on the volume's folder. */
const FORBIDDEN_FLAGS = ['bind', 'rbind', 'remount', 'move', 'make-shared', 'shared', 'rshared'];

function flagsOf(o: string | undefined): string[] {
  return (o ?? '').split(',').filter((f) => f !== '');
}

/** Runs a command; rejects with its stderr in the message. */
function run(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, (error, _stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')}: ${stderr.trim() || error.message}`));
      else resolve();
    });
  });
}

/** The mount points of this process's mount namespace (octal escapes decoded). */
async function mountPoints(): Promise<string[]> {
  const table = await readFile('/proc/self/mounts', 'utf8');
  return table.split('\n').filter((line) => line !== '')
    .map((line) => (line.split(' ')[1] ?? '').replace(/\\([0-7]{3})/g, (_m, octal: string) => String.fromCharCode(parseInt(octal, 8))));
}

/**
 * `--driver local`, as Docker's: each volume is a folder under the driver's own folder of the data
 * root, `<data-root>/volume.v1.local/<name>/_data`, which containers bind. With options:
 *
 * - `--opt type=none --opt o=bind --opt device=/host/folder`: the volume is that host folder (it
 *   must exist): its mountpoint is the device, and removing the volume never touches the device;
 * - `--opt type=tmpfs [--opt device=tmpfs] [--opt o=size=64m,uid=1000,…]`: a tmpfs mounted on the
 *   volume's `_data` while a container uses it (`mount`, `unmount`: the engine calls them at the
 *   first start and after the last stop), its content gone with it;
 * - `--opt type=ext4|ext3|ext2|xfs|btrfs --opt device=/dev/BLOCK [--opt o=…]`: that file system
 *   mounted on `_data` likewise; the data stays on the device.
 *
 * Network file systems (nfs, cifs) are refused, naming what to use instead. `mounted()` lists the
 * volumes mounted now (read from the kernel's mount table), so recovery unmounts what no running
 * container holds; `remove` unmounts before it deletes.
 */
@injectable()
export class LocalVolumeDriver implements OnDemandVolumeDriver {
  readonly id = 'volume.v1.local';
  readonly name = 'local';
  readonly capabilities = { onDemandMounts: true } as const;
  private root = '';

  async init(context: DriverContext): Promise<DriverStatus> {
    this.root = context.stateDir;
    await mkdir(this.root, { recursive: true, mode: 0o701 });
    return { status: 'ok' };
  }

  validateOptions(options: Readonly<Record<string, string>>): void {
    for (const key of Object.keys(options)) {
      if (!(KNOWN_OPTIONS as readonly string[]).includes(key)) {
        throw new Error(`invalid option "${key}" for volume driver local: it takes ${KNOWN_OPTIONS.join(', ')} (type=none|tmpfs|ext4…, o=mount options, device=…)`);
      }
    }
    const { type, o, device } = options;
    if (type === undefined && o === undefined && device === undefined) return;
    const flags = flagsOf(o);
    if (type === 'none') {
      if (!flags.includes('bind') && !flags.includes('rbind')) throw new Error('volume driver local: type=none needs --opt o=bind (a bind of the device folder)');
      const unknown = flags.find((f) => !['bind', 'rbind'].includes(f));
      if (unknown !== undefined) throw new Error(`volume driver local: mount option "${unknown}" is not supported for a bind volume (o=bind)`);
      if (device === undefined || device === '') throw new Error('volume driver local: o=bind needs --opt device=/host/folder');
      if (!isAbsolute(device)) throw new Error(`volume driver local: device "${device}" must be an absolute host path`);
      return;
    }
    if (type !== undefined && (NETWORK_TYPES as readonly string[]).includes(type)) {
      throw new Error(`volume driver local: type "${type}" (a network file system) is not supported: mount it on the host and use --opt type=none --opt o=bind --opt device=/that/mount`);
    }
    const forbidden = flags.find((f) => FORBIDDEN_FLAGS.includes(f.split('=', 1)[0]!));
    if (forbidden !== undefined) throw new Error(`volume driver local: mount option "${forbidden}" is not supported with type=${type ?? ''} (a bind is type=none)`);
    if (type === 'tmpfs') {
      for (const flag of flags) {
        const [key = '', value] = flag.split(/=(.*)/s, 2);
        const pattern = TMPFS_OPTIONS[key];
        if (pattern === undefined) throw new Error(`volume driver local: tmpfs option "${key}" is not supported: it takes ${Object.keys(TMPFS_OPTIONS).join(', ')}`);
        if (pattern === null ? value !== undefined : value === undefined || !pattern.test(value)) throw new Error(`volume driver local: invalid tmpfs option "${flag}"`);
      }
      if (device !== undefined && (device === '' || device.includes(','))) throw new Error(`volume driver local: invalid tmpfs device "${device}" (any word: tmpfs)`);
      return;
    }
    if (type !== undefined && (BLOCK_TYPES as readonly string[]).includes(type)) {
      if (device === undefined || !isAbsolute(device)) throw new Error(`volume driver local: type=${type} needs --opt device=/dev/BLOCK (an absolute path to a block device)`);
      const unknown = flags.find((f) => !f.includes('=') && !BLOCK_FLAGS.includes(f));
      if (unknown !== undefined) throw new Error(`volume driver local: mount option "${unknown}" is not supported with type=${type}`);
      return;
    }
    throw new Error(`volume driver local does not support type "${type ?? ''}": it takes none (with o=bind and device=/host/folder), tmpfs, or ${BLOCK_TYPES.join(', ')} with device=/dev/BLOCK`);
  }

  /** tmpfs and block-device volumes exist only while mounted: the engine mounts them for their containers. */
  mountsOnDemand(options: Readonly<Record<string, string>>): boolean {
    return options.type !== undefined && options.type !== 'none';
  }

  async create(name: string, options: Readonly<Record<string, string>>, owner?: VolumeOwner): Promise<CreatedVolume> {
    this.validateOptions(options);
    const dir = this.folderOf(name);
    const device = options.device;
    if (device !== undefined && options.type !== undefined && (BLOCK_TYPES as readonly string[]).includes(options.type)) {
      const found = await stat(device).catch(() => undefined);
      if (!found?.isBlockDevice()) throw new Error(`volume driver local: the device ${device} is not a block device`);
    }
    if (device !== undefined && options.type === 'none') {
      const found = await stat(device).catch(() => undefined);
      if (!found?.isDirectory()) throw new Error(`volume driver local: the device folder ${device} does not exist (create it first)`);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFile(join(dir, DEVICE_FILE), device, { mode: 0o600 });
      return { mountpoint: device };
    }
    const data = join(dir, '_data');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const made = await mkdir(data, { recursive: true, mode: 0o755 });
    // A new volume's root is the daemon's (remapped) root's; a create run again leaves a copy-up's owner.
    if (owner && made !== undefined) await chown(data, owner.uid, owner.gid);
    return { mountpoint: data };
  }

  async remove(name: string): Promise<void> {
    const dir = this.folderOf(name);
    await this.unmount(name); // never delete through a mount: a device's data is the user's
    await rm(dir, { recursive: true, force: true });
  }

  async mount(name: string, options: Readonly<Record<string, string>>, owner?: VolumeOwner): Promise<void> {
    const type = options.type;
    if (type === undefined || type === 'none') return;
    const data = join(this.folderOf(name), '_data');
    if ((await mountPoints()).includes(data)) return;
    await mkdir(data, { recursive: true, mode: 0o755 });
    const flags = flagsOf(options.o);
    // A tmpfs's root belongs to the daemon's (remapped) root unless uid= and gid= say otherwise.
    if (type === 'tmpfs' && owner) {
      if (!flags.some((f) => f.startsWith('uid='))) flags.push(`uid=${owner.uid}`);
      if (!flags.some((f) => f.startsWith('gid='))) flags.push(`gid=${owner.gid}`);
    }
    const source = type === 'tmpfs' ? options.device ?? 'tmpfs' : options.device;
    if (source === undefined) throw new Error(`volume driver local: type=${type} needs --opt device=`);
    await run('mount', ['-t', type, ...(flags.length > 0 ? ['-o', flags.join(',')] : []), '--', source, data]);
  }

  async unmount(name: string): Promise<void> {
    const data = join(this.folderOf(name), '_data');
    while ((await mountPoints()).includes(data)) {
      try {
        await run('umount', [data]);
      } catch (err) {
        if (!(await mountPoints()).includes(data)) return;
        await run('umount', ['-l', data]).catch(() => { throw err; });
      }
    }
  }

  async mounted(): Promise<readonly string[]> {
    const prefix = `${this.root}/`;
    return (await mountPoints())
      .filter((target) => target.startsWith(prefix) && target.endsWith('/_data'))
      .map((target) => target.slice(prefix.length, -'/_data'.length))
      .filter((name) => name !== '' && !name.includes('/'))
      .sort();
  }

  async usage(name: string): Promise<VolumeUsage> {
    const dir = this.folderOf(name);
    const device = await readFile(join(dir, DEVICE_FILE), 'utf8').catch(() => undefined);
    if (device !== undefined) return { size: -1 }; // a host folder of the user's: not the volume's to measure
    return { size: await bytesUnder(join(dir, '_data')) };
  }

  async held(): Promise<readonly string[]> {
    const names = await readdir(this.root).catch(() => [] as string[]);
    return names.sort();
  }

  private folderOf(name: string): string {
    if (name === '' || name.includes('/') || name === '.' || name === '..') throw new Error(`invalid volume name ${JSON.stringify(name)}`);
    return join(this.root, name);
  }
}

/** Bytes of the regular files under a folder (links not followed); 0 when it is not there. */
async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) total += await bytesUnder(path);
    else if (e.isFile()) total += (await lstat(path).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
