import { NotImplementedError } from '../engine/errors.js';
import type { Router } from './router.js';

/**
 * Endpoints of Docker's API that this engine does not have yet, answered with a 501 that says so
 * (instead of "page not found", which reads like a bug). Networks, volumes and plugins are left
 * out on purpose: `docker inspect` probes them and needs a 404.
 */
export function registerUnsupportedRoutes(router: Router): void {
  const refuse = (what: string, hint: string) => () => {
    throw new NotImplementedError(`${what} is not supported yet${hint ? `: ${hint}` : ''}`);
  };
  router.post('/build', refuse('building images', 'import a root filesystem (mini-docker import) and use commit with --change'));
  router.get('/images/search', refuse('searching a registry', ''));
}
