/**
 * storage.v1.memory: the storage driver of the engine's unit tests. Its filesystems live in this
 * process (`capabilities.rootfs: 'memory'`): a layer is the OCI layer tar applied as a tree (its digest checked,
 * `.wh.` deletions and `.wh..wh..opq` folders kept as such), a container's writable layer is a tree
 * of its own over them, changed through `files(id)` (what a test's "process" writes), and diff,
 * changes, usage and the read-only view are computed from it as overlayfs computes them from its
 * upper folder. It honours the storage contract (test/storage-conformance.ts, run in the unit lane
 * by test/unit/memory-drivers-conformance.test.ts); only what needs the kernel (mounting the specs,
 * EROFS) is not its part. The mount specs it returns name nothing on the host: the scripted
 * isolator does not mount them.
 */
import { createHash } from 'node:crypto';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { readTar, TarWriter } from '../core/archive/index.js';
import type { ApplyLayerOptions, ChangeListingStorage, DriverContext, DriverStatus, FileChange, LayerUsage, MountSpec } from '../core/plugins/driver.js';
import type { ContainerFiles } from './storage-conformance.js';

type Node =
  | { readonly kind: 'file'; readonly data: Buffer; readonly mode: number }
  | { readonly kind: 'directory'; readonly mode: number }
  | { readonly kind: 'symlink'; readonly target: string; readonly mode: number };

/** One layer (an image's or a container's writable one): what it adds, what it deletes below, the folders whose lower content it hides. */
interface Layer {
  readonly entries: Map<string, Node>;
  readonly deleted: Set<string>;
  readonly opaque: Set<string>;
}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';
const emptyLayer = (): Layer => ({ entries: new Map(), deleted: new Set(), opaque: new Set() });
const under = (path: string, top: string): boolean => path === top || path.startsWith(`${top}/`);
const parentOf = (path: string): string => path.slice(0, Math.max(0, path.lastIndexOf('/')));
const nameOf = (path: string): string => path.slice(path.lastIndexOf('/') + 1);
const clean = (path: string): string => path.replace(/^\/+|\/+$/g, '').replace(/^\.\//, '');

/** The tree the layers make, lowest first: each layer's deletions and opaque folders hide what is below it, then its entries apply. */
function merge(layers: readonly Layer[]): Map<string, Node> {
  const tree = new Map<string, Node>();
  for (const layer of layers) {
    for (const top of [...layer.deleted, ...layer.opaque]) {
      for (const path of [...tree.keys()]) if (layer.opaque.has(top) ? path.startsWith(`${top}/`) : under(path, top)) tree.delete(path);
    }
    for (const [path, node] of layer.entries) tree.set(path, node);
  }
  return tree;
}

async function readLayer(tar: Readable): Promise<{ layer: Layer; digest: string }> {
  const hash = createHash('sha256');
  const layer = emptyLayer();
  const tee = new PassThrough();
  tar.on('data', (chunk: Buffer) => hash.update(chunk));
  tar.on('error', (e) => tee.destroy(e));
  tar.pipe(tee);
  for await (const { header, body } of readTar(tee)) {
    const parts: Buffer[] = [];
    for await (const chunk of body) parts.push(Buffer.from(chunk));
    const path = clean(header.path);
    const name = nameOf(path);
    if (name === OPAQUE) layer.opaque.add(parentOf(path));
    else if (name.startsWith(WHITEOUT)) layer.deleted.add(join(parentOf(path), name.slice(WHITEOUT.length)));
    else if (header.type === 'directory') layer.entries.set(path, { kind: 'directory', mode: header.mode });
    else if (header.type === 'symlink') layer.entries.set(path, { kind: 'symlink', target: header.linkname, mode: header.mode });
    else layer.entries.set(path, { kind: 'file', data: Buffer.concat(parts), mode: header.mode });
  }
  return { layer, digest: `sha256:${hash.digest('hex')}` };
}

export class MemoryStorage implements ChangeListingStorage {
  readonly id = 'storage.v1.memory';
  readonly capabilities = { rootfs: 'memory', changes: true } as const;
  private readonly layers = new Map<string, Layer>();
  private readonly containers = new Map<string, { readonly layers: readonly string[]; readonly upper: Layer }>();
  private readonly views = new Map<string, Set<string>>();
  private viewCount = 0;
  private stateDir = '';

  async init(context: DriverContext): Promise<DriverStatus> {
    this.stateDir = context.stateDir;
    return { status: 'ok' };
  }

  /** Visible only once the tar ended without an error; the digest checked unless the caller did (`verified`). */
  async applyLayer(diffId: string, tar: Readable, options?: ApplyLayerOptions): Promise<void> {
    if (this.layers.has(diffId)) {
      tar.resume();
      return;
    }
    const { layer, digest } = await readLayer(tar);
    if (!options?.verified && digest !== diffId) throw new Error(`layer digest ${digest} does not match its diff id ${diffId}`);
    this.layers.set(diffId, layer);
  }

  async hasLayer(diffId: string): Promise<boolean> {
    return this.layers.has(diffId);
  }

  async removeLayer(diffId: string): Promise<void> {
    this.layers.delete(diffId);
  }

  async prepare(containerId: string, layers: readonly string[]): Promise<readonly MountSpec[]> {
    const missing = layers.find((l) => !this.layers.has(l));
    if (missing) throw new Error(`layer ${missing} is not there: pull the image again`);
    if (!this.containers.has(containerId)) this.containers.set(containerId, { layers: [...layers], upper: emptyLayer() });
    return [{ type: 'overlay', source: 'overlay', target: `/memory/${containerId}/merged`, options: layers.map((l) => `lower=${l}`) }];
  }

  /** The container's files, read and changed as its processes would (the tests' stand-in for a running container). */
  files(containerId: string): ContainerFiles {
    const c = this.containers.get(containerId);
    if (!c) throw new Error(`container ${containerId} has no writable layer: prepare it first`);
    const upper = c.upper;
    const lower = (): Map<string, Node> => merge(this.lowerLayers(c.layers));
    const view = (): Map<string, Node> => merge([...this.lowerLayers(c.layers), upper]);
    const node = (path: string): Node | undefined => view().get(clean(path));
    const need = (path: string): Node => {
      const n = node(path);
      if (!n) throw Object.assign(new Error(`ENOENT: no such file or directory, ${path}`), { code: 'ENOENT' });
      return n;
    };
    /** The parent folders copied up into the writable layer, as overlayfs does before changing an entry. */
    const copyUp = (path: string): void => {
      const parent = parentOf(clean(path));
      if (parent === '') return;
      const p = need(parent);
      if (p.kind !== 'directory') throw Object.assign(new Error(`ENOTDIR: ${parent}`), { code: 'ENOTDIR' });
      copyUp(parent);
      if (!upper.entries.has(parent)) upper.entries.set(parent, p);
    };
    return {
      read: async (path) => {
        const n = need(path);
        if (n.kind !== 'file') throw new Error(`${path} is not a file`);
        return n.data.toString();
      },
      exists: async (path) => node(path) !== undefined,
      list: async (path) => {
        const dir = clean(path);
        return [...view().keys()].filter((p) => p !== dir && parentOf(p) === dir).map(nameOf).sort();
      },
      mode: async (path) => need(path).mode & 0o7777,
      isDirectory: async (path) => node(path)?.kind === 'directory',
      write: async (path, data) => {
        copyUp(path);
        upper.entries.set(clean(path), { kind: 'file', data: Buffer.from(data), mode: 0o644 });
      },
      mkdir: async (path) => {
        const p = clean(path);
        copyUp(p);
        // A folder made where a lower one was deleted replaces it: the lower content stays hidden.
        if (upper.deleted.delete(p)) upper.opaque.add(p);
        upper.entries.set(p, { kind: 'directory', mode: 0o755 });
      },
      remove: async (path) => {
        const p = clean(path);
        need(p);
        copyUp(p);
        for (const q of [...upper.entries.keys()]) if (under(q, p)) upper.entries.delete(q);
        for (const set of [upper.deleted, upper.opaque]) for (const q of [...set]) if (under(q, p)) set.delete(q);
        if (lower().has(p)) upper.deleted.add(p);
      },
    };
  }

  diff(containerId: string): Readable {
    const out = new PassThrough();
    const c = this.containers.get(containerId);
    const upper = c?.upper ?? emptyLayer();
    const write = async (): Promise<void> => {
      const tar = new TarWriter(out);
      const paths = [...new Set([...upper.entries.keys(), ...upper.deleted])].sort();
      for (const path of paths) {
        const n = upper.entries.get(path);
        if (!n) {
          await tar.add({ path: join(parentOf(path), `${WHITEOUT}${nameOf(path)}`), type: 'file', mode: 0o644, size: 0 });
          continue;
        }
        if (n.kind === 'file') await tar.add({ path, type: 'file', mode: n.mode, size: n.data.length }, n.data);
        else if (n.kind === 'symlink') await tar.add({ path, type: 'symlink', mode: n.mode, linkname: n.target });
        else await tar.add({ path: `${path}/`, type: 'directory', mode: n.mode });
        if (upper.opaque.has(path)) await tar.add({ path: `${path}/${OPAQUE}`, type: 'file', mode: 0o644, size: 0 });
      }
      await tar.finish();
      out.end();
    };
    write().catch((e: unknown) => out.destroy(e instanceof Error ? e : new Error(String(e))));
    return out;
  }

  async changes(containerId: string): Promise<readonly FileChange[]> {
    const c = this.containers.get(containerId);
    if (!c) return [];
    const lower = merge(this.lowerLayers(c.layers));
    const out: FileChange[] = [];
    for (const path of c.upper.deleted) out.push({ path: `/${path}`, kind: 'deleted' });
    for (const path of c.upper.entries.keys()) {
      out.push({ path: `/${path}`, kind: lower.has(path) ? 'modified' : 'added' });
      if (!c.upper.opaque.has(path)) continue;
      for (const hidden of lower.keys()) {
        if (parentOf(hidden) === path && !c.upper.entries.has(hidden)) out.push({ path: `/${hidden}`, kind: 'deleted' });
      }
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async usage(containerId: string): Promise<LayerUsage> {
    const upper = this.containers.get(containerId)?.upper;
    if (!upper) return { size: 0, inodes: 0 };
    let size = 0;
    for (const n of upper.entries.values()) if (n.kind === 'file') size += n.data.length;
    // A deletion is an inode of the writable layer too (overlayfs's whiteout device).
    return { size, inodes: upper.entries.size + upper.deleted.size };
  }

  /** The merged tree written out under the driver's state folder (a copy: nothing makes it read-only without a mount), gone on release or remove. */
  async mountReadOnly(containerId: string): Promise<{ path: string; release(): Promise<void> }> {
    const c = this.containers.get(containerId);
    if (!c) throw new Error(`container ${containerId} has no writable layer`);
    const path = join(this.stateDir, 'views', `${containerId}-${++this.viewCount}`);
    await mkdir(path, { recursive: true });
    const tree = [...merge([...this.lowerLayers(c.layers), c.upper])].sort(([a], [b]) => (a < b ? -1 : 1));
    for (const [rel, n] of tree) {
      const to = join(path, rel);
      if (n.kind === 'directory') await mkdir(to, { recursive: true });
      else if (n.kind === 'symlink') await symlink(n.target, to);
      else await writeFile(to, n.data, { mode: n.mode & 0o7777 });
    }
    const views = this.views.get(containerId) ?? new Set<string>();
    views.add(path);
    this.views.set(containerId, views);
    return { path, release: async () => {
      views.delete(path);
      await rm(path, { recursive: true, force: true });
    } };
  }

  /** The writable layer and every view of it. */
  async remove(containerId: string): Promise<void> {
    this.containers.delete(containerId);
    for (const path of this.views.get(containerId) ?? []) await rm(path, { recursive: true, force: true });
    this.views.delete(containerId);
  }

  async held(): Promise<readonly string[]> {
    return [...this.containers.keys()];
  }

  private lowerLayers(ids: readonly string[]): Layer[] {
    return ids.map((id) => {
      const layer = this.layers.get(id);
      if (!layer) throw new Error(`layer ${id} is not there`);
      return layer;
    });
  }
}
