import { join } from 'node:path';
import { InvalidArgumentError } from '../engine/errors.js';
import { selectContainers } from './container-filters.js';
import { parseCreateRequest, parseLimits } from './create-request.js';
import { parseFilters, queryBool, queryInt, queryString } from './http-params.js';
import { optNumber, optObject, optString, parseJsonObject } from './narrow.js';
import { presentContainerInspect, presentContainerSummary } from './presenters.js';
import type { Router } from './router.js';
import type { RouteDeps } from './route-support.js';
import { normaliseSignal } from './signals.js';

function requiredInt(query: URLSearchParams, key: string): number {
  const n = queryInt(query, key);
  if (n === undefined) throw new InvalidArgumentError(`${key} is required`);
  return n;
}

/** Container lifecycle and state: list, create, inspect, start/stop/kill/rm, update, rename, top, prune. */
export function registerContainerRoutes(router: Router, { engine }: RouteDeps): void {
  router.get('/containers/json', async ({ req, res }) => {
    const state = engine.state();
    const selected = selectContainers(Object.values(state.containers), state.images, {
      all: queryBool(req.query, 'all'),
      limit: queryInt(req.query, 'limit'),
      filters: parseFilters(req.query.get('filters')),
    }, state);
    const now = new Date();
    const withSize = queryBool(req.query, 'size'); // docker ps -s
    res.json(200, await Promise.all(selected.map(async (c) => {
      const summary = presentContainerSummary(c, now, state);
      if (!withSize) return summary;
      const size = await engine.containerSize(c.id);
      return { ...summary, SizeRw: size.sizeRw, SizeRootFs: size.sizeRootFs };
    })));
  });

  router.post('/containers/create', async ({ req, res }) => {
    const body = parseJsonObject(await req.body(), 'container config');
    const { request, warnings } = parseCreateRequest(body, queryString(req.query, 'name'));
    const created = await engine.createContainer(request);
    res.json(201, { Id: created.id, Warnings: [...created.warnings, ...warnings] });
  });

  router.post('/containers/prune', async ({ res }) => {
    const pruned = await engine.pruneContainers();
    res.json(200, { ContainersDeleted: [...pruned.deleted], SpaceReclaimed: pruned.spaceReclaimed });
  });

  router.get('/containers/{id}/json', async ({ req, res, params }) => {
    const c = engine.container(params.id);
    const volumes = engine.state().volumes;
    const inspect = presentContainerInspect(c, { storageDriver: engine.info().storageDriver, volume: (name) => volumes[name], net: engine.state(), filesDir: join(engine.info().dataRoot, 'containers', c.id) });
    if (!queryBool(req.query, 'size')) {
      res.json(200, inspect);
      return;
    }
    const size = await engine.containerSize(c.id);
    res.json(200, { ...inspect, SizeRw: size.sizeRw, SizeRootFs: size.sizeRootFs });
  });

  router.post('/containers/{id}/start', async ({ res, params }) => {
    await engine.startContainer(params.id);
    res.empty(204);
  });

  router.post('/containers/{id}/stop', async ({ req, res, params }) => {
    const timeoutSeconds = queryInt(req.query, 't');
    const signal = queryString(req.query, 'signal');
    await engine.stopContainer(params.id, {
      ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
      ...(signal !== undefined ? { signal: normaliseSignal(signal) } : {}),
    });
    res.empty(204);
  });

  router.post('/containers/{id}/restart', async ({ req, res, params }) => {
    const timeoutSeconds = queryInt(req.query, 't');
    await engine.restartContainer(params.id, timeoutSeconds !== undefined ? { timeoutSeconds } : {});
    res.empty(204);
  });

  router.post('/containers/{id}/kill', async ({ req, res, params }) => {
    await engine.killContainer(params.id, normaliseSignal(queryString(req.query, 'signal') ?? 'SIGKILL'));
    res.empty(204);
  });

  router.delete('/containers/{id}', async ({ req, res, params }) => {
    await engine.removeContainer(params.id, { force: queryBool(req.query, 'force'), removeVolumes: queryBool(req.query, 'v') });
    res.empty(204);
  });

  router.post('/containers/{id}/resize', async ({ req, res, params }) => {
    await engine.resizeContainer(params.id, requiredInt(req.query, 'h'), requiredInt(req.query, 'w'));
    res.empty(200);
  });

  router.get('/containers/{id}/top', async ({ req, res, params }) => {
    const top = await engine.topContainer(params.id, queryString(req.query, 'ps_args'));
    res.json(200, { Titles: [...top.titles], Processes: top.processes.map((p) => [...p]) });
  });

  // Docker's Kind: 0 modified, 1 added, 2 deleted.
  router.get('/containers/{id}/changes', async ({ res, params }) => {
    const kinds = { modified: 0, added: 1, deleted: 2 } as const;
    const changes = await engine.containerChanges(params.id);
    res.json(200, changes.map((c) => ({ Path: c.path, Kind: kinds[c.kind] })));
  });

  router.post('/containers/{id}/update', async ({ req, res, params }) => {
    const body = parseJsonObject(await req.body(), 'update');
    const restart = optObject(body, 'RestartPolicy');
    const policy = restart ? { Name: optString(restart, 'Name') ?? '', MaximumRetryCount: optNumber(restart, 'MaximumRetryCount') ?? 0 } : undefined;
    await engine.updateContainer(params.id, parseLimits(body), policy);
    res.json(200, { Warnings: [] });
  });

  router.post('/containers/{id}/rename', async ({ req, res, params }) => {
    const name = queryString(req.query, 'name');
    if (!name) throw new InvalidArgumentError('name is required: give the new name');
    await engine.renameContainer(params.id, name.replace(/^\//, ''));
    res.empty(204);
  });

  router.post('/containers/{id}/pause', async ({ res, params }) => {
    await engine.pauseContainer(params.id);
    res.empty(204);
  });

  router.post('/containers/{id}/unpause', async ({ res, params }) => {
    await engine.unpauseContainer(params.id);
    res.empty(204);
  });
}
