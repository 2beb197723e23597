import { InvalidArgumentError, NotImplementedError } from '../engine/errors.js';
import type { CreateNetworkRequest } from '../engine/network-rules.js';
import type { NetworkService } from '../engine/network-service.js';
import { checkFilterKeys, parseFilters } from './http-params.js';
import { isRecord, optBool, optObject, optString, optStringMap, parseJsonObject, type JsonObject } from './narrow.js';
import { NETWORK_PRUNE_FILTER_KEYS, presentNetwork, presentPredefined, pruneUntil, selectNetworks, type NetworkView } from './network-presenters.js';
import type { Router } from './router.js';
import type { RouteDeps } from './route-support.js';

/** Docker's `POST /networks/create` body, narrowed; what this engine cannot do is refused by name. */
export function parseCreateNetworkBody(body: JsonObject): CreateNetworkRequest {
  const name = optString(body, 'Name');
  if (name === undefined || name === '') throw new InvalidArgumentError('Name is required: give the network a name');
  if (optBool(body, 'EnableIPv6') === true) throw new NotImplementedError('IPv6 networks are not supported yet: leave out --ipv6');
  const scope = optString(body, 'Scope');
  if (scope !== undefined && scope !== '' && scope !== 'local') throw new InvalidArgumentError(`only local networks are supported: leave out --scope ${scope}`);
  const configFrom = optObject(body, 'ConfigFrom');
  if (optBool(body, 'ConfigOnly') === true || (configFrom !== undefined && (optString(configFrom, 'Network') ?? '') !== '')) {
    throw new NotImplementedError('config-only networks are not supported: leave out --config-only and --config-from');
  }
  const ipam = optObject(body, 'IPAM');
  const ipamDriver = ipam ? optString(ipam, 'Driver') : undefined;
  if (ipamDriver !== undefined && ipamDriver !== '' && ipamDriver !== 'default') throw new InvalidArgumentError(`IPAM driver ${ipamDriver} is not supported: only default`);
  const configs = ipam?.Config;
  if (configs !== undefined && configs !== null && !Array.isArray(configs)) throw new InvalidArgumentError('invalid value for IPAM.Config: expected an array');
  const list = (configs ?? []) as unknown[];
  if (list.length > 1) throw new NotImplementedError('one IPAM config (one subnet) per network: more are not supported yet');
  const first = list[0];
  if (first !== undefined && !isRecord(first)) throw new InvalidArgumentError('invalid value for IPAM.Config[0]: expected an object');
  const subnet = first ? optString(first, 'Subnet') : undefined;
  const gateway = first ? optString(first, 'Gateway') : undefined;
  const ipRange = first ? optString(first, 'IPRange') : undefined;
  if (ipRange !== undefined && ipRange !== '' && ipRange !== subnet) throw new NotImplementedError('--ip-range is not supported yet: give --subnet alone');
  const driver = optString(body, 'Driver');
  const labels = optStringMap(body, 'Labels');
  const options = optStringMap(body, 'Options');
  return {
    name,
    ...(driver !== undefined && driver !== '' ? { driver } : {}),
    internal: optBool(body, 'Internal') ?? false,
    ...(labels ? { labels } : {}),
    ...(subnet !== undefined && subnet !== '' ? { subnet } : {}),
    ...(gateway !== undefined && gateway !== '' ? { gateway } : {}),
    ...(options ? { options } : {}),
  };
}

/** Networks: list, inspect, create, remove, prune (none without a network service: `/networks/X` is then a plain 404). */
export function registerNetworkRoutes(router: Router, { engine, networks }: RouteDeps): void {
  if (!networks) return;
  const service = (): NetworkService => networks;

  router.get('/networks', ({ req, res }) => {
    const state = engine.state();
    const all: { id: string; name: string; driver: string; labels?: Readonly<Record<string, string>>; endpoints?: Readonly<Record<string, unknown>>; view: () => NetworkView }[] = [
      ...service().list().map((n) => ({ ...n, view: () => presentNetwork(n, state.containers, false) })),
      ...service().predefined().map((p) => ({ ...p, view: () => presentPredefined(p, state.containers, false) })),
    ];
    res.json(200, selectNetworks(all, parseFilters(req.query.get('filters'))).map((n) => n.view()));
  });

  router.post('/networks/create', async ({ req, res }) => {
    const request = parseCreateNetworkBody(parseJsonObject(await req.body()));
    const id = await service().create(request);
    res.json(201, { Id: id, Warning: '' });
  });

  router.post('/networks/prune', async ({ req, res }) => {
    const filters = parseFilters(req.query.get('filters'));
    checkFilterKeys(filters, NETWORK_PRUNE_FILTER_KEYS);
    const until = filters.get('until');
    if (until !== undefined && until.length > 1) throw new InvalidArgumentError('more than one until filter');
    const deleted = await service().prune({
      label: filters.get('label') ?? [], labelNot: filters.get('label!') ?? [],
      ...(until?.[0] !== undefined ? { until: pruneUntil(until[0]) } : {}),
    });
    res.json(200, { NetworksDeleted: deleted });
  });

  router.get('/networks/{id}', ({ res, params }) => {
    const found = service().findAny(params.id);
    const containers = engine.state().containers;
    res.json(200, found.kind === 'bridge' ? presentNetwork(found.network, containers, true) : presentPredefined(found.network, containers, true));
  });

  router.delete('/networks/{id}', async ({ res, params }) => {
    await service().remove(params.id);
    res.empty(204);
  });
}
