import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import { InvalidArgumentError, NotImplementedError } from '../engine/errors.js';
import { pastTheEnd } from '../state/replay-bounds.js';
import type { RouteHandler } from './exchange.js';
import { API_VERSION, MIN_API_VERSION } from './http-params.js';
import type { Router } from './router.js';
import type { RouteDeps } from './route-support.js';
import { presentContainerSummary, presentImageSummary } from './presenters.js';
import { dockerArch, presentInfo, presentVersion, type HostFacts } from './system-presenters.js';
import { volumesForDiskUsage } from './volume-routes.js';

function operatingSystem(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m?.[1]) return m[1];
  } catch {
    // No os-release: fall through.
  }
  return `${os.type()} ${os.release()}`;
}

/** The host as `/version` and `/info` describe it; read once (the OS name comes from a file). */
export function hostFacts(): HostFacts {
  return {
    hostname: os.hostname(),
    kernelVersion: os.release(),
    operatingSystem: operatingSystem(),
    arch: dockerArch(process.arch),
    ncpu: os.cpus().length,
    memTotal: os.totalmem(),
    runtimeVersion: `node ${process.version}`,
  };
}

/** `/_ping`, `/version`, `/info` and the tiny-docker extensions `/tiny/plugins` and `/tiny/replay`. */
export function registerSystemRoutes(router: Router, { engine, version, reloadPlugins }: RouteDeps): void {
  let host: HostFacts | undefined;
  const facts = (): HostFacts => (host ??= hostFacts());

  const ping: RouteHandler = ({ res }) => {
    res.text(200, 'text/plain; charset=utf-8', 'OK', {
      'Api-Version': API_VERSION,
      'Docker-Experimental': 'false',
      Swarm: 'inactive',
      'Cache-Control': 'no-cache, no-store, must-revalidate',
      Pragma: 'no-cache',
    });
  };
  router.get('/_ping', ping).add('HEAD', '/_ping', ping);

  router.get('/version', ({ res }) => {
    res.json(200, presentVersion({ serverVersion: version, apiVersion: API_VERSION, minApiVersion: MIN_API_VERSION, gitCommit: '', buildTime: '' }, facts()));
  });

  router.get('/info', ({ res }) => {
    res.json(200, presentInfo(engine.state(), engine.info(), facts()));
  });

  // Disk usage as far as we know it: image sizes, volumes (their drivers measure them); container layers are not measured (0).
  router.get('/system/df', async ({ res }) => {
    const state = engine.state();
    const using = new Map<string, number>();
    for (const c of Object.values(state.containers)) using.set(c.image.id, (using.get(c.image.id) ?? 0) + 1);
    const images = Object.values(state.images).map((img) => ({ ...presentImageSummary(img, using.get(img.id) ?? 0), SharedSize: 0 }));
    const now = new Date();
    res.json(200, {
      LayersSize: images.reduce((n, i) => n + i.Size, 0),
      Images: images,
      Containers: Object.values(state.containers).map((c) => ({ ...presentContainerSummary(c, now, state), SizeRw: 0, SizeRootFs: 0 })),
      Volumes: await volumesForDiskUsage(state, (name) => engine.volumeSize(name)),
      BuildCache: [],
    });
  });

  router.get('/tiny/plugins', ({ res }) => {
    res.json(200, engine.info().plugins);
  });

  // Loads plugin packages installed since the daemon started (`mini-docker plugins install` calls it).
  router.post('/tiny/plugins/reload', async ({ res }) => {
    if (!reloadPlugins) throw new NotImplementedError('this daemon cannot load plugins while it runs: restart it');
    res.json(200, await reloadPlugins());
  });

  // The state as of a position or a time: a pure replay of the log (no driver runs).
  router.get('/tiny/replay', async ({ req, res }) => {
    const until = req.query.get('until');
    if (until === null || until === '') {
      res.json(200, engine.state());
      return;
    }
    if (/^\d+$/.test(until)) {
      const state = await engine.replay({ position: Number(until) });
      if (state.position < Number(until)) throw new InvalidArgumentError(pastTheEnd(Number(until), state.position));
      res.json(200, state);
      return;
    }
    if (Number.isNaN(Date.parse(until))) throw new InvalidArgumentError(`invalid value for until: ${until}: expected a position or an RFC 3339 time`);
    res.json(200, await engine.replay({ time: until }));
  });
}
