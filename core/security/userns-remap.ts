import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';

/**
 * `mini-dockerd --userns-remap`: container ids 0..size-1 are host ids uid..uid+size-1 (gid
 * likewise), from the user's ranges in /etc/subuid and /etc/subgid, as dockerd does.
 */
export interface UsernsRemap {
  /** The user and group whose ranges are used ("mini-docker" for `default`). */
  readonly user: string;
  readonly group: string;
  readonly uid: number;
  readonly gid: number;
  /** How many ids are mapped (the smaller of the two ranges, at most 65536). */
  readonly size: number;
}

/** The user `--userns-remap default` makes (as dockerd's "dockremap"). */
export const DEFAULT_REMAP_USER = 'mini-docker';
/** The ids mapped: a container sees 0..65535, what images use. */
export const REMAP_SIZE = 65536;
/** Where new ranges start when /etc/subuid has none above it (Debian's useradd starts at 100000). */
const FIRST_SUBORDINATE_ID = 100000;

/** The files that say who is who; tests give their own copies. */
export interface IdFiles {
  readonly passwd: string;
  readonly group: string;
  readonly subuid: string;
  readonly subgid: string;
}

export const HOST_ID_FILES: IdFiles = { passwd: '/etc/passwd', group: '/etc/group', subuid: '/etc/subuid', subgid: '/etc/subgid' };

/** `--userns-remap` as given: `default`, `USER` or `USER:GROUP` (names or numeric ids). */
export function parseRemapFlag(value: string): { user: string; group: string | undefined; makeDefault: boolean } {
  if (value === 'default') return { user: DEFAULT_REMAP_USER, group: DEFAULT_REMAP_USER, makeDefault: true };
  const [user, group, extra] = value.split(':');
  if (!user || extra !== undefined || group === '') throw new Error(`--userns-remap ${value}: expected default, USER or USER:GROUP`);
  return { user, group, makeDefault: false };
}

interface Entry {
  readonly name: string;
  readonly id: number;
}

function readEntries(path: string): Entry[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').flatMap((line) => {
    const [name, , id] = line.split(':');
    return name && id !== undefined && /^\d+$/.test(id) ? [{ name, id: Number(id) }] : [];
  });
}

interface Range {
  readonly owner: string;
  readonly start: number;
  readonly count: number;
}

function readRanges(path: string): Range[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').flatMap((line) => {
    const [owner, start, count] = line.trim().split(':');
    return owner && start && count && /^\d+$/.test(start) && /^\d+$/.test(count) ? [{ owner, start: Number(start), count: Number(count) }] : [];
  });
}

/** The first range of `name` (or its numeric id) in a subordinate id file. */
function rangeOf(path: string, name: string, id: number | undefined): Range | undefined {
  return readRanges(path).find((r) => r.owner === name || (id !== undefined && r.owner === String(id)));
}

/** Appends `name:START:REMAP_SIZE` after every range in the file, and returns it. */
function addRange(path: string, name: string): Range {
  const end = readRanges(path).reduce((max, r) => Math.max(max, r.start + r.count), FIRST_SUBORDINATE_ID);
  const range = { owner: name, start: end, count: REMAP_SIZE };
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  appendFileSync(path, `${text === '' || text.endsWith('\n') ? '' : '\n'}${name}:${range.start}:${range.count}\n`, { mode: 0o644 });
  return range;
}

/**
 * What `--userns-remap` maps to on this host. `default` makes the `mini-docker` system user
 * (useradd --system, no home, no login) and its ranges in /etc/subuid and /etc/subgid when they
 * are missing; a named user must exist and have both ranges. Throws one line naming what is missing.
 */
export function resolveRemap(value: string, files: IdFiles = HOST_ID_FILES, useradd = 'useradd'): UsernsRemap {
  const wanted = parseRemapFlag(value);
  const lookup = (entries: Entry[], name: string): Entry | undefined => entries.find((e) => e.name === name || String(e.id) === name);
  let user = lookup(readEntries(files.passwd), wanted.user);
  if (!user && wanted.makeDefault) {
    const made = spawnSync(useradd, ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', '--user-group', DEFAULT_REMAP_USER], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`--userns-remap default: making the user ${DEFAULT_REMAP_USER} failed (${useradd}): ${(made.stderr || made.error?.message || '').trim()}`);
    user = lookup(readEntries(files.passwd), wanted.user);
  }
  if (!user) throw new Error(`--userns-remap ${value}: no user ${wanted.user} in ${files.passwd}: create it, or use --userns-remap default`);
  const groupName = wanted.group ?? user.name;
  const group = lookup(readEntries(files.group), groupName);
  if (!group) throw new Error(`--userns-remap ${value}: no group ${groupName} in ${files.group}`);
  let uids = rangeOf(files.subuid, user.name, user.id);
  let gids = rangeOf(files.subgid, group.name, group.id);
  if (wanted.makeDefault) {
    uids ??= addRange(files.subuid, user.name);
    gids ??= addRange(files.subgid, group.name);
  }
  if (!uids) throw new Error(`--userns-remap ${value}: no range for ${user.name} in ${files.subuid}: add a line "${user.name}:START:65536"`);
  if (!gids) throw new Error(`--userns-remap ${value}: no range for ${group.name} in ${files.subgid}: add a line "${group.name}:START:65536"`);
  const size = Math.min(uids.count, gids.count, REMAP_SIZE);
  if (uids.start === 0 || gids.start === 0) throw new Error(`--userns-remap ${value}: a range starting at 0 would map the container's root to the host's`);
  return { user: user.name, group: group.name, uid: uids.start, gid: gids.start, size };
}

/** The container's id mapping: the daemon's remap unless its HostConfig.UsernsMode is "host". */
export function usernsFor(usernsMode: string | undefined, remap: UsernsRemap | null): { uid: number; gid: number; size: number } | null {
  if (!remap || usernsMode === 'host') return null;
  return { uid: remap.uid, gid: remap.gid, size: remap.size };
}

/** HostConfig.UsernsMode values accepted at create: "" (the daemon's) or "host". */
export function checkUsernsMode(mode: string): void {
  if (mode !== '' && mode !== 'host') throw new Error(`invalid --userns ${mode}: only "host" is supported (or nothing, for the daemon's --userns-remap)`);
}
