/** `GET /containers/json` selection: all, limit and filters, like moby (pure). */
import { InvalidArgumentError } from '../engine/errors.js';
import { EMPTY_NETWORKS, type NetworksState } from '../network/network-state.js';
import type { ContainerState, ImageState } from '../state/engine-state.js';
import { withTag } from './image-presenters.js';
import { checkFilterKeys, type Filters } from './http-params.js';

/** Filter keys `docker ps --filter` accepts; those for features we lack (volume, health...) match nothing. */
export const CONTAINER_FILTER_KEYS = [
  'id', 'name', 'status', 'label', 'ancestor', 'exited', 'before', 'since',
  'volume', 'network', 'publish', 'expose', 'health', 'isolation', 'is-task',
] as const;

const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];


function nameMatches(name: string, pattern: string): boolean {
  try {
    return new RegExp(pattern).test(name) || new RegExp(pattern).test(`/${name}`);
  } catch {
    return name.includes(pattern);
  }
}

function ancestorMatches(c: ContainerState, ancestor: string, images: Readonly<Record<string, ImageState>>): boolean {
  const wanted = withTag(ancestor);
  if (withTag(c.image.ref) === wanted) return true;
  const hex = ancestor.replace(/^sha256:/, '');
  if (/^[0-9a-f]{4,}$/.test(hex) && c.image.id.replace(/^sha256:/, '').startsWith(hex)) return true;
  return (images[c.image.id]?.tags ?? []).some((t) => withTag(t) === wanted);
}

/** "80", "80/tcp", "8000-8080/udp" (as moby's publish and expose filters): does the container port `key` ("80/tcp") match? */
function portFilterMatches(value: string, key: string): boolean {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/.exec(value);
  if (!m) throw new InvalidArgumentError(`invalid filter value ${JSON.stringify(value)}: expected PORT[-PORT][/PROTO]`);
  const [port, proto = 'tcp'] = key.split('/');
  const n = Number(port);
  return proto === (m[3] ?? 'tcp') && n >= Number(m[1]) && n <= Number(m[2] ?? m[1]);
}

function createdMs(c: ContainerState): number {
  return Date.parse(c.created);
}

/** Newest first, like moby. */
export function sortNewestFirst(list: readonly ContainerState[]): ContainerState[] {
  return [...list].sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : a.id.localeCompare(b.id)));
}

/**
 * The containers `ps` shows. Without `all`, only running (and paused) ones, unless a limit or a
 * status/exited/before/since filter asks for more, as moby does.
 */
export function selectContainers(
  containers: readonly ContainerState[],
  images: Readonly<Record<string, ImageState>>,
  options: { all: boolean; limit?: number; filters: Filters },
  net: NetworksState = EMPTY_NETWORKS,
): ContainerState[] {
  const f = options.filters;
  checkFilterKeys(f, CONTAINER_FILTER_KEYS);
  const statuses = f.get('status') ?? [];
  for (const s of statuses) {
    if (!STATUSES.includes(s)) throw new InvalidArgumentError(`invalid filter 'status=${s}'`);
  }
  const all = options.all || (options.limit ?? 0) > 0 || statuses.length > 0 || f.has('exited') || f.has('before') || f.has('since');
  const byRef = (ref: string): ContainerState | undefined => containers.find((c) => c.id === ref || c.name === ref.replace(/^\//, '') || c.id.startsWith(ref));
  const before = f.get('before')?.map(byRef);
  const since = f.get('since')?.map(byRef);

  const test = (key: string, pred: (value: string) => boolean): boolean => {
    const values = f.get(key);
    return values === undefined || values.length === 0 || values.some(pred);
  };

  const selected = sortNewestFirst(containers).filter((c) => {
    if (!all && c.status !== 'running' && c.status !== 'paused' && c.status !== 'restarting') return false;
    const labels = c.config.Labels ?? {};
    return (
      test('id', (v) => c.id.startsWith(v)) &&
      test('name', (v) => nameMatches(c.name, v)) &&
      test('status', (v) => v === c.status) &&
      // every label filter must match (moby's MatchKVList): compose selects a service by project AND service
      (f.get('label') ?? []).every((v) => {
        const eq = v.indexOf('=');
        return eq < 0 ? v in labels : labels[v.slice(0, eq)] === v.slice(eq + 1);
      }) &&
      test('ancestor', (v) => ancestorMatches(c, v, images)) &&
      test('exited', (v) => c.status === 'exited' && String(c.exitCode) === v) &&
      (before === undefined || before.every((b) => b !== undefined && createdMs(c) < createdMs(b))) &&
      (since === undefined || since.every((s) => s !== undefined && createdMs(c) > createdMs(s))) &&
      test('is-task', (v) => v === 'false') &&
      test('volume', () => false) &&
      test('network', (v) => Object.values(net.networks).some((n) => n.endpoints[c.id] !== undefined && (n.name === v || n.id === v))
        || Object.values(net.predefined).some((p) => c.hostConfig.NetworkMode === p.name && (p.name === v || p.id === v))) &&
      test('publish', (v) => (net.published[c.id]?.ports ?? []).some((p) => portFilterMatches(v, `${p.containerPort}/${p.protocol}`))) &&
      test('expose', (v) => Object.keys(c.config.ExposedPorts ?? {}).some((k) => portFilterMatches(v, k.includes('/') ? k : `${k}/tcp`))) &&
      test('health', (v) => v === 'none') &&
      test('isolation', (v) => v === 'default' || v === '')
    );
  });
  return options.limit !== undefined && options.limit > 0 ? selected.slice(0, options.limit) : selected;
}
