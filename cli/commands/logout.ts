import { Args } from '@oclif/core';
import { BaseCommand } from '../lib/base-command.js';
import { DOCKER_HUB_AUTH_KEY, authKeyOf, removeCredentials } from '../lib/registry-config.js';

/** `mini-docker logout`: forget a registry's credentials. */
export default class Logout extends BaseCommand {
  static override summary = 'Log out from a registry.';

  static override description = 'Removes the credentials of SERVER (Docker Hub when omitted) from the docker CLI\'s config.json. Needs no daemon.';

  static override examples = ['<%= config.bin %> logout 127.0.0.1:5000'];

  static override args = {
    server: Args.string({ ignoreStdin: true, description: 'Registry host[:port]; Docker Hub when omitted.' }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(Logout);
    const server = args.server ?? DOCKER_HUB_AUTH_KEY;
    const key = authKeyOf(server);
    if (await removeCredentials(server)) this.out(`Removing login credentials for ${key}`);
    else this.out(`Not logged in to ${key}`);
  }
}
