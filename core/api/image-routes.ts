import type { Writable } from 'node:stream';
import type { ProgressReporter } from '../engine/engine.js';
import { InvalidArgumentError } from '../engine/errors.js';
import type { ApiResponse } from './exchange.js';
import { parseFilters, queryBool, queryString } from './http-params.js';
import { selectImages, shownTags } from './image-filters.js';
import { familiarRef, presentImageHistory, presentImageInspect, presentImageSummary } from './presenters.js';
import type { Router } from './router.js';
import { pullRoute } from './registry-routes.js';
import { messageOf, writeJsonLine, type RouteDeps } from './route-support.js';

/** Progress lines (JSON, `\r\n`-separated as moby writes them) for import, load and commit. */
function progressLines(out: Writable, id: string): ProgressReporter {
  const last = new Map<string, number>();
  return (p) => {
    // Shown as a bar on a terminal; the CLI skips lines with progress when not on one.
    if (p.current <= 0) return;
    const now = Date.now();
    if (p.total === undefined || p.current < p.total) {
      if (now - (last.get(p.phase) ?? 0) < 200) return;
    }
    last.set(p.phase, now);
    writeJsonLine(out, { status: p.phase, progressDetail: { current: p.current, ...(p.total !== undefined ? { total: p.total } : {}) }, id }, '\r\n');
  };
}

function errorLine(out: Writable, message: string): void {
  writeJsonLine(out, { errorDetail: { message }, error: message }, '\r\n');
}

/** Images: list, inspect, history, import (a pull goes to registry-routes), tag, rm, save, load, prune, commit. */
export function registerImageRoutes(router: Router, { engine, logger, registry }: RouteDeps): void {
  router.get('/images/json', ({ req, res }) => {
    const state = engine.state();
    const using = new Map<string, number>();
    for (const c of Object.values(state.containers)) using.set(c.image.id, (using.get(c.image.id) ?? 0) + 1);
    const byRef = (ref: string) => {
      try {
        return engine.image(ref);
      } catch {
        return undefined;
      }
    };
    const filters = parseFilters(req.query.get('filters'));
    const selected = selectImages(Object.values(state.images), filters, byRef);
    res.json(200, selected.map((img) => presentImageSummary({ ...img, tags: shownTags(img, filters) }, using.get(img.id) ?? 0)));
  });

  router.post('/images/create', async ({ req, res }) => {
    const q = req.query;
    const fromSrc = queryString(q, 'fromSrc');
    const fromImage = queryString(q, 'fromImage');
    if (fromSrc === undefined && fromImage === undefined) throw new InvalidArgumentError('fromSrc or fromImage is required');
    if (fromSrc === undefined) return pullRoute(registry, req, res, fromImage!);
    const out = res.stream('application/json');
    if (fromSrc !== '-') {
      errorLine(out, `importing from a URL is not supported: download ${fromSrc} and import the file: mini-docker import <file> [name]`);
      out.end();
      return;
    }
    const repo = queryString(q, 'repo');
    const tag = queryString(q, 'tag');
    const message = queryString(q, 'message');
    const changes = q.getAll('changes').filter((c) => c !== '');
    try {
      const id = await engine.importImage(req.bodyStream(), {
        ...(repo !== undefined ? { repo: familiarRef(repo) } : {}),
        ...(tag !== undefined ? { tag } : {}),
        ...(message !== undefined ? { message } : {}),
        ...(changes.length > 0 ? { changes } : {}),
      }, progressLines(out, 'import'));
      writeJsonLine(out, { status: id.startsWith('sha256:') ? id : `sha256:${id}` }, '\r\n');
    } catch (err) {
      await req.discardBody();
      errorLine(out, messageOf(err));
    }
    out.end();
  });

  router.get('/images/get', async ({ req, res }) => {
    const names = req.query.getAll('names').filter((n) => n !== '');
    if (names.length === 0) throw new InvalidArgumentError('names is required: give at least one image');
    await saveImages(names, res);
  });

  router.post('/images/load', async ({ req, res }) => {
    const out = res.stream('application/json');
    try {
      const loaded = await engine.loadImages(req.bodyStream(), queryBool(req.query, 'quiet') ? undefined : progressLines(out, 'load'));
      for (const ref of loaded) {
        const text = /^(sha256:)?[0-9a-f]{64}$/.test(ref) ? `Loaded image ID: ${ref}\n` : `Loaded image: ${familiarRef(ref)}\n`;
        writeJsonLine(out, { stream: text }, '\r\n');
      }
    } catch (err) {
      await req.discardBody();
      errorLine(out, messageOf(err));
    }
    out.end();
  });

  router.post('/images/prune', async ({ req, res }) => {
    // dangling=false (prune -a): every unused image, not only the untagged ones.
    const dangling = parseFilters(queryString(req.query, 'filters') ?? null).get('dangling');
    const all = dangling !== undefined && dangling.some((v) => v === 'false' || v === '0');
    const pruned = await engine.pruneImages(all);
    res.json(200, { ImagesDeleted: pruned.deleted.map((d) => ({ ...d })), SpaceReclaimed: pruned.spaceReclaimed });
  });

  router.post('/commit', async ({ req, res }) => {
    const q = req.query;
    const container = queryString(q, 'container');
    if (!container) throw new InvalidArgumentError('container is required: give the container to commit');
    await req.body(); // dockerode sends its options as JSON: nothing in it that the query lacks
    const repo = queryString(q, 'repo');
    const tag = queryString(q, 'tag');
    const comment = queryString(q, 'comment');
    const author = queryString(q, 'author');
    const changes = q.getAll('changes').filter((c) => c !== '');
    const id = await engine.commitContainer(container, {
      ...(repo !== undefined ? { repo: familiarRef(repo) } : {}),
      ...(repo !== undefined && tag !== undefined ? { tag } : {}),
      ...(comment !== undefined ? { comment } : {}),
      ...(author !== undefined ? { author } : {}),
      ...(changes.length > 0 ? { changes } : {}),
      pause: queryBool(q, 'pause', true),
    });
    res.json(201, { Id: id.startsWith('sha256:') ? id : `sha256:${id}` });
  });

  router.get('/images/{name:.*}/json', ({ res, params }) => {
    res.json(200, presentImageInspect(engine.image(params.name), { storageDriver: engine.info().storageDriver }));
  });

  router.get('/images/{name:.*}/history', ({ res, params }) => {
    res.json(200, presentImageHistory(engine.image(params.name)));
  });

  router.get('/images/{name:.*}/get', async ({ res, params }) => {
    await saveImages([params.name], res);
  });

  router.post('/images/{name:.*}/tag', async ({ req, res, params }) => {
    const repo = queryString(req.query, 'repo');
    if (!repo) throw new InvalidArgumentError('repo is required: give the new name');
    await engine.tagImage(params.name, familiarRef(repo), queryString(req.query, 'tag'));
    res.empty(201);
  });

  router.delete('/images/{name:.*}', async ({ req, res, params }) => {
    const removed = await engine.removeImage(params.name, { force: queryBool(req.query, 'force') });
    res.json(200, removed.map((r) => ({ ...r })));
  });

  async function saveImages(names: readonly string[], res: ApiResponse): Promise<void> {
    for (const n of names) engine.image(n); // 404 before the stream starts
    const out = res.stream('application/x-tar');
    try {
      await engine.saveImages(names, out);
    } catch (err) {
      logger.error(`save of ${names.join(', ')} failed: ${messageOf(err)}`);
      res.destroy();
      return;
    }
    if (!out.writableEnded) out.end();
  }
}
