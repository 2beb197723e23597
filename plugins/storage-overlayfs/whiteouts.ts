import { lchown, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EntryInterceptor, InterceptedEntry, TarHeaderInput, WalkedEntry } from '../../core/plugin-api.js';

/** OCI layer whiteout markers: `.wh.<name>` deletes `<name>`, `.wh..wh..opq` hides the folder's lower content. */
export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';
/** The xattr overlayfs reads to hide everything a folder has in lower layers. */
export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';
const OVERLAY_REDIRECT_XATTR = 'trusted.overlay.redirect';

/**
 * OCI → overlayfs, for `extractTar`'s `intercept` while unpacking a layer: `.wh.<name>` becomes a
 * 0/0 character device at `<name>` (what overlayfs reads as "deleted"), `.wh..wh..opq` sets
 * `trusted.overlay.opaque=y` on its folder; other `.wh..wh.*` names (aufs metadata) are skipped.
 * Anything else is extracted as usual.
 */
export const overlayWhiteouts: EntryInterceptor = { names: /^\.wh\./, handle: overlayWhiteout };

async function overlayWhiteout(entry: InterceptedEntry): Promise<'written' | 'skipped'> {
  const { header, parent, name } = entry;
  if (name === WHITEOUT_OPAQUE) {
    await entry.fs.setXattr(parent, OVERLAY_OPAQUE_XATTR, Buffer.from('y'));
    return 'written';
  }
  if (name.startsWith(WHITEOUT_PREFIX + WHITEOUT_PREFIX)) {
    entry.warn(`skipped ${JSON.stringify(header.path)}: unknown whiteout metadata`);
    return 'skipped';
  }
  const hiddenName = name.slice(WHITEOUT_PREFIX.length);
  if (hiddenName === '' || hiddenName === '.' || hiddenName === '..') {
    entry.warn(`skipped ${JSON.stringify(header.path)}: a whiteout without a name`);
    return 'skipped';
  }
  const hidden = join(parent, hiddenName);
  await rm(hidden, { recursive: true, force: true }); // never follows a symlink there
  await entry.fs.mknod(hidden, 'char-device', 0, 0, 0);
  if (entry.preserveOwner) await lchown(hidden, header.uid, header.gid);
  return 'written';
}

/**
 * overlayfs → OCI, for `writeTar`'s `rewrite` while turning an upper dir into a layer: a 0/0
 * character device becomes an empty `.wh.<name>` file, an opaque folder is followed by a
 * `<folder>/.wh..wh..opq` entry. A renamed folder (`trusted.overlay.redirect`, only with
 * `redirect_dir=on`) cannot be said in OCI: it is exported as a new folder, with a warning.
 */
export function ociWhiteouts(warn: (message: string) => void): (entry: WalkedEntry) => readonly TarHeaderInput[] | undefined {
  return ({ header, stats, xattrs }) => {
    if (stats.isCharacterDevice() && stats.rdev === 0) {
      const slash = header.path.lastIndexOf('/');
      const path = `${header.path.slice(0, slash + 1)}${WHITEOUT_PREFIX}${header.path.slice(slash + 1)}`;
      return [{ ...header, path, type: 'file', mode: 0, size: 0, devmajor: 0, devminor: 0, xattrs: {} }];
    }
    if (!stats.isDirectory()) return undefined;
    if (xattrs[OVERLAY_REDIRECT_XATTR] !== undefined) warn(`${header.path}: a renamed folder (overlay redirect) is exported as a new folder`);
    if (xattrs[OVERLAY_OPAQUE_XATTR]?.toString() !== 'y') return undefined;
    return [header, { ...header, path: `${header.path}/${WHITEOUT_OPAQUE}`, type: 'file', mode: 0, size: 0, xattrs: {} }];
  };
}

/** An overlayfs whiteout: a character device 0/0. */
export function isWhiteout(stats: { isCharacterDevice(): boolean; readonly rdev: number }): boolean {
  return stats.isCharacterDevice() && stats.rdev === 0;
}
