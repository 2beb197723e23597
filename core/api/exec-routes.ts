import { InvalidArgumentError } from '../engine/errors.js';
import { parseExecRequest } from './create-request.js';
import { queryInt } from './http-params.js';
import { optBool, optNumberPair, parseJsonObject } from './narrow.js';
import { presentExecInspect } from './presenters.js';
import type { Router } from './router.js';
import { streamContentType, type RouteDeps } from './route-support.js';
import { pumpSession } from './session-pump.js';

/** exec create, start (hijacked like attach), resize and inspect. */
export function registerExecRoutes(router: Router, { engine }: RouteDeps): void {
  router.post('/containers/{id}/exec', async ({ req, res, params }) => {
    const request = parseExecRequest(parseJsonObject(await req.body(), 'exec config'));
    const id = await engine.createExec(params.id, request);
    res.json(201, { Id: id });
  });

  router.post('/exec/{id}/start', async ({ req, res, params }) => {
    // Exactly the body's bytes (Content-Length): anything after them on an upgraded socket is stdin.
    const body = parseJsonObject(await req.body(), 'exec start config');
    const detach = optBool(body, 'Detach') ?? false;
    const startTty = optBool(body, 'Tty');
    const consoleSize = optNumberPair(body, 'ConsoleSize');
    const exec = engine.exec(params.id);
    const session = await engine.startExec(params.id, {
      detach,
      ...(startTty !== undefined ? { tty: startTty } : {}),
      ...(consoleSize && consoleSize[0] > 0 && consoleSize[1] > 0 ? { consoleSize } : {}),
    });
    if (detach) {
      res.empty(200);
      return;
    }
    // Like moby, the start body's Tty (default false) decides the framing.
    const tty = startTty ?? false;
    const conn = res.hijack(streamContentType(tty, req.apiVersion));
    await pumpSession(session, conn, {
      tty,
      stdin: exec.attachStdin,
      // Clients read ExitCode from /exec/{id}/json once, right after the stream closes: the exit
      // is recorded by then (startExec), or the stream ends with the error that kept it out.
      beforeClose: () => session.exitCode,
    });
  });

  router.post('/exec/{id}/resize', async ({ req, res, params }) => {
    const h = queryInt(req.query, 'h');
    const w = queryInt(req.query, 'w');
    if (h === undefined || w === undefined) throw new InvalidArgumentError('h and w are required');
    await engine.resizeExec(params.id, h, w);
    res.empty(200);
  });

  router.get('/exec/{id}/json', ({ res, params }) => {
    res.json(200, presentExecInspect(engine.exec(params.id)));
  });
}
