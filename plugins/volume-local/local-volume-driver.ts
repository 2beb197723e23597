import { chown, lstat, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { injectable } from '../../core/plugin-api.js';
import type { CreatedVolume, DriverContext, DriverStatus, VolumeDriver, VolumeOwner, VolumeUsage } from '../../core/plugin-api.js';

/** The options `--opt` takes, as Docker's local driver names them. */
const KNOWN_OPTIONS = ['type', 'o', 'device'] as const;

/** The file that records a bind volume's host folder (its `_data` does not exist). */
const DEVICE_FILE = 'device';

/**
 * `--driver local`: each volume is a folder under the driver's own folder of the data root,
 * `<data-root>/volume.v1.local/<name>/_data`, which containers bind. With `--opt type=none --opt
 * o=bind --opt device=/host/folder` the volume is that host folder instead (it must exist): its
 * mountpoint is the device, and removing the volume never touches the device. Other types
 * (tmpfs, nfs, a block device) would need a mount on the host that outlives the daemon; they are
 * refused with what to use instead.
 */
@injectable()
export class LocalVolumeDriver implements VolumeDriver {
  readonly id = 'volume.v1.local';
  readonly name = 'local';
  private root = '';

  async init(context: DriverContext): Promise<DriverStatus> {
    this.root = context.stateDir;
    await mkdir(this.root, { recursive: true, mode: 0o701 });
    return { status: 'ok' };
  }

  validateOptions(options: Readonly<Record<string, string>>): void {
    for (const key of Object.keys(options)) {
      if (!(KNOWN_OPTIONS as readonly string[]).includes(key)) {
        throw new Error(`invalid option "${key}" for volume driver local: it takes ${KNOWN_OPTIONS.join(', ')} (type=none, o=bind, device=/host/folder)`);
      }
    }
    const { type, o, device } = options;
    if (type === undefined && o === undefined && device === undefined) return;
    if (type !== 'none') {
      throw new Error(`volume driver local does not support type "${type ?? ''}" here: only a bind of a host folder (--opt type=none --opt o=bind --opt device=/host/folder); for a tmpfs use --tmpfs`);
    }
    const flags = (o ?? '').split(',').filter((f) => f !== '');
    if (!flags.includes('bind') && !flags.includes('rbind')) throw new Error('volume driver local: type=none needs --opt o=bind (a bind of the device folder)');
    const unknown = flags.find((f) => !['bind', 'rbind'].includes(f));
    if (unknown !== undefined) throw new Error(`volume driver local: mount option "${unknown}" is not supported for a bind volume (o=bind)`);
    if (device === undefined || device === '') throw new Error('volume driver local: o=bind needs --opt device=/host/folder');
    if (!isAbsolute(device)) throw new Error(`volume driver local: device "${device}" must be an absolute host path`);
  }

  async create(name: string, options: Readonly<Record<string, string>>, owner?: VolumeOwner): Promise<CreatedVolume> {
    this.validateOptions(options);
    const dir = this.folderOf(name);
    const device = options.device;
    if (device !== undefined) {
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
    await rm(this.folderOf(name), { recursive: true, force: true });
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
