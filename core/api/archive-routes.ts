import { InvalidArgumentError } from '../engine/errors.js';
import { messageOf } from '../engine/engine-context.js';
import { encodePathStat, PATH_STAT_HEADER } from '../archive/path-stat.js';
import { queryBool, queryString } from './http-params.js';
import type { Router } from './router.js';
import type { RouteDeps } from './route-support.js';

function requiredPath(query: URLSearchParams): string {
  const path = queryString(query, 'path');
  if (path === undefined || path === '') throw new InvalidArgumentError('path cannot be empty');
  return path;
}

/**
 * Docker's archive API, what `docker cp` and dockerode's getArchive/putArchive use: HEAD stats a
 * path of the container (the `X-Docker-Container-Path-Stat` header), GET sends it as a tar (with
 * that header), PUT extracts a tar into a folder of it. Running and stopped containers alike
 * (core/engine/copy-container.ts).
 */
export function registerArchiveRoutes(router: Router, { engine, logger }: RouteDeps): void {
  router.add('HEAD', '/containers/{id}/archive', async ({ req, res, params }) => {
    const stat = await engine.statContainerPath(params.id, requiredPath(req.query));
    res.empty(200, { [PATH_STAT_HEADER]: encodePathStat(stat), 'Content-Type': 'application/json' });
  });

  router.get('/containers/{id}/archive', async ({ req, res, params }) => {
    const path = requiredPath(req.query);
    try {
      await engine.archiveContainerPath(params.id, path, (stat) => res.stream('application/x-tar', { [PATH_STAT_HEADER]: encodePathStat(stat) }));
    } catch (err) {
      if (!res.started) throw err; // a status can still say it (404, 409)
      logger.error(`archive of ${path} in ${params.id} failed: ${messageOf(err)}`);
      res.destroy();
    }
  });

  router.add('PUT', '/containers/{id}/archive', async ({ req, res, params }) => {
    const path = requiredPath(req.query);
    await engine.extractToContainer(params.id, path, req.bodyStream(), {
      noOverwriteDirNonDir: queryBool(req.query, 'noOverwriteDirNonDir'),
      copyUIDGID: queryBool(req.query, 'copyUIDGID'),
    });
    res.empty(200);
  });
}
