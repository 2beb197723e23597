import { arg, defineCommand } from '../lib/command-declaration.js';
import { DOCKER_HUB_AUTH_KEY, authKeyOf, removeCredentials } from '../lib/registry-config.js';

/** `mini-docker logout`: forget a registry's credentials. */
export default defineCommand({
  summary: 'Log out from a registry.',

  description: 'Removes the credentials of SERVER (Docker Hub when omitted) from the docker CLI\'s config.json. Needs no daemon.',

  examples: ['<%= config.bin %> logout 127.0.0.1:5000'],

  args: {
    server: arg({ description: 'Registry host[:port]; Docker Hub when omitted.' }),
  },

  async run(ctx, { args }) {
    const server = args.server ?? DOCKER_HUB_AUTH_KEY;
    const key = authKeyOf(server);
    if (await removeCredentials(server)) ctx.out(`Removing login credentials for ${key}`);
    else ctx.out(`Not logged in to ${key}`);
  },
});
