/**
 * `POST /networks/{id}/connect` and `/disconnect`: containers joining and leaving networks
 * (core/engine/network-commands.ts, core/engine/container-endpoints.ts); the networks themselves are network-routes.ts's.
 */
import { InvalidArgumentError } from '../engine/errors.js';
import { optBool, optObject, optString, optStringArray, parseJsonObject } from './narrow.js';
import type { Router } from './router.js';
import type { RouteDeps } from './route-support.js';

export function registerNetworkConnectRoutes(router: Router, { engine }: RouteDeps): void {
  router.post('/networks/{id}/connect', async ({ req, res, params }) => {
    const body = parseJsonObject(await req.body(), 'network connect');
    const container = optString(body, 'Container');
    if (!container) throw new InvalidArgumentError('Container is required: the container to connect');
    const endpoint = optObject(body, 'EndpointConfig') ?? {};
    const ipam = optObject(endpoint, 'IPAMConfig');
    await engine.connectContainer(params.id, container, {
      Aliases: optStringArray(endpoint, 'Aliases') ?? [],
      IPv4Address: (ipam ? optString(ipam, 'IPv4Address') : undefined) ?? '',
    });
    res.empty(200);
  });

  router.post('/networks/{id}/disconnect', async ({ req, res, params }) => {
    const body = parseJsonObject(await req.body(), 'network disconnect');
    const container = optString(body, 'Container');
    if (!container) throw new InvalidArgumentError('Container is required: the container to disconnect');
    await engine.disconnectContainer(params.id, container, optBool(body, 'Force') ?? false);
    res.empty(200);
  });
}
