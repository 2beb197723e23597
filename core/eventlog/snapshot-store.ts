import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { processIsAlive } from './log-lock.js';
import { utcNow } from './utc-clock.js';

/** The event a snapshot was taken at, so a snapshot is only used with the log it was taken from. */
export interface SnapshotAnchor {
  readonly streamId: string;
  readonly streamVersion: number;
  readonly time: string;
}

/** A fold's state as of a log position. */
export interface Snapshot<S> {
  /** The fold's own version number: a snapshot of another version is never loaded. */
  readonly formatVersion: number;
  /** The position of the last event folded into `state` (0: none). */
  readonly position: number;
  /** The event at `position`; null when position is 0. */
  readonly anchor: SnapshotAnchor | null;
  readonly createdAt: string;
  readonly state: S;
}

export interface SnapshotStoreOptions {
  /** One store per fold: snapshots of different folds under one log directory differ by name. Default "state". */
  readonly name?: string;
  /** How many snapshots to keep (the newest). Default 2, so a damaged newest one still leaves a fallback. */
  readonly keep?: number;
  /** Told about snapshots that exist but are skipped (damaged, or of another fold version). */
  readonly warn?: (message: string) => void;
}

/** The first line of a snapshot file; the second line is the state as JSON. */
interface SnapshotHeader {
  readonly snapshotFormat: number;
  readonly name: string;
  readonly formatVersion: number;
  readonly position: number;
  readonly anchor: SnapshotAnchor | null;
  readonly createdAt: string;
  readonly stateBytes: number;
  readonly stateCrc32: string;
}

const SNAPSHOT_FORMAT = 1;

/**
 * Saves and loads snapshots of a fold's JSON-serialisable state under `<log directory>/snapshots/`,
 * one file per snapshot, `<name>-<position, 16 digits>.snapshot`: a JSON header line (fold version,
 * position, anchor event, state length and CRC-32) then the state as one JSON line. Saving is
 * atomic: a temporary file, fsync, rename, fsync of the directory. A snapshot is only an
 * optimisation: anything odd about one (damaged, another fold version) makes it ignored, never fatal.
 */
export class SnapshotStore {
  readonly directory: string;
  readonly name: string;
  private readonly keep: number;
  private readonly warn: (message: string) => void;

  constructor(logDirectory: string, options: SnapshotStoreOptions = {}) {
    this.directory = join(logDirectory, 'snapshots');
    this.name = options.name ?? 'state';
    if (!/^[A-Za-z0-9_.]+$/.test(this.name)) throw new Error(`snapshot name ${JSON.stringify(this.name)} must be letters, digits, "_" or "."`);
    this.keep = Math.max(1, options.keep ?? 2);
    this.warn = options.warn ?? (() => undefined);
  }

  /** Writes a snapshot atomically and prunes older ones beyond `keep`; returns its path. */
  async save<S>(snapshot: Omit<Snapshot<S>, 'createdAt'>): Promise<string> {
    // Serialised before any await, so a caller that goes on evolving its state cannot change what is saved.
    const stateJson = JSON.stringify(snapshot.state);
    if (stateJson === undefined) throw new Error('snapshot state must be JSON-serialisable');
    const header: SnapshotHeader = {
      snapshotFormat: SNAPSHOT_FORMAT, name: this.name, formatVersion: snapshot.formatVersion, position: snapshot.position,
      anchor: snapshot.anchor, createdAt: utcNow(), stateBytes: Buffer.byteLength(stateJson),
      stateCrc32: (crc32(stateJson) >>> 0).toString(16).padStart(8, '0'),
    };
    await mkdir(this.directory, { recursive: true });
    const path = join(this.directory, this.fileName(snapshot.position));
    const temporary = join(this.directory, `.${this.fileName(snapshot.position)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    const handle = await open(temporary, 'wx');
    try {
      await handle.writeFile(`${JSON.stringify(header)}\n${stateJson}\n`);
      await handle.sync();
    } catch (error) {
      await handle.close();
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
    await handle.close();
    await rename(temporary, path);
    await syncDirectory(this.directory);
    await this.prune();
    return path;
  }

  /**
   * The newest snapshot of this fold version that `isUsable` accepts (e.g. not past the log's end,
   * anchored on the same log), or null. Damaged snapshots and other fold versions are skipped.
   */
  async loadNewest<S>(formatVersion: number, isUsable: (snapshot: Snapshot<S>) => boolean | Promise<boolean> = () => true): Promise<Snapshot<S> | null> {
    for (const { file } of await this.list()) {
      const path = join(this.directory, file);
      const loaded = await this.load<S>(path);
      if (typeof loaded === 'string') {
        this.warn(`ignored snapshot ${path}: ${loaded}`);
        continue;
      }
      if (loaded.formatVersion !== formatVersion) continue; // an older (or newer) fold shape: replay instead
      if (await isUsable(loaded)) return loaded;
    }
    return null;
  }

  private fileName(position: number): string {
    return `${this.name}-${String(position).padStart(16, '0')}.snapshot`;
  }

  /** This store's snapshot files, newest (highest position) first. */
  private async list(): Promise<{ file: string; position: number }[]> {
    let files: string[];
    try {
      files = await readdir(this.directory);
    } catch {
      return [];
    }
    const prefix = `${this.name}-`;
    return files
      .filter((file) => file.startsWith(prefix) && /^\d{16}\.snapshot$/.test(file.slice(prefix.length)))
      .map((file) => ({ file, position: Number(file.slice(prefix.length, prefix.length + 16)) }))
      .sort((a, b) => b.position - a.position);
  }

  /** A snapshot, or why it cannot be used. */
  private async load<S>(path: string): Promise<Snapshot<S> | string> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
    const newline = text.indexOf('\n');
    if (newline < 0 || !text.endsWith('\n')) return 'incomplete file';
    let header: SnapshotHeader;
    try {
      header = JSON.parse(text.slice(0, newline)) as SnapshotHeader;
    } catch {
      return 'unreadable header';
    }
    if (header.snapshotFormat !== SNAPSHOT_FORMAT) return `snapshot format ${String(header.snapshotFormat)}, expected ${SNAPSHOT_FORMAT}`;
    const stateJson = text.slice(newline + 1, -1);
    if (Buffer.byteLength(stateJson) !== header.stateBytes || (crc32(stateJson) >>> 0).toString(16).padStart(8, '0') !== header.stateCrc32) {
      return 'state does not match its length and checksum';
    }
    return {
      formatVersion: header.formatVersion, position: header.position, anchor: header.anchor, createdAt: header.createdAt,
      state: JSON.parse(stateJson) as S,
    };
  }

  /** Removes snapshots beyond `keep`, and temporary files of saves whose process was killed. */
  private async prune(): Promise<void> {
    for (const { file } of (await this.list()).slice(this.keep)) {
      await unlink(join(this.directory, file)).catch(() => undefined);
    }
    const temporary = new RegExp(`^\\.${this.name.replace(/\./g, '\\.')}-\\d{16}\\.snapshot\\.(\\d+)\\.[0-9a-f]{8}\\.tmp$`);
    for (const file of await readdir(this.directory).catch(() => [])) {
      const pid = Number(temporary.exec(file)?.[1] ?? Number.NaN);
      if (!Number.isNaN(pid) && pid !== process.pid && !processIsAlive(pid)) await unlink(join(this.directory, file)).catch(() => undefined);
    }
  }
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
