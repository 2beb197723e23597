import { Args } from '@oclif/core';
import { BaseCommand } from '../lib/base-command.js';
import { containerPath } from '../lib/container-ops.js';

/** `mini-docker rename`: give a container a new name. */
export default class Rename extends BaseCommand {
  static override summary = 'Rename a container.';

  static override description = 'Gives CONTAINER the name NEW_NAME (which must be free). Prints nothing.\n\nExit codes: 0, or 1 (no such container, name in use).';

  static override examples = ['<%= config.bin %> rename web web-old'];

  static override args = {
    container: Args.string({ ignoreStdin: true, required: true, description: 'Container name or id.' }),
    new_name: Args.string({ ignoreStdin: true, required: true, description: 'The new name.' }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(Rename);
    await this.client.call('POST', containerPath(args.container, '/rename'), { query: { name: args.new_name } });
  }
}
