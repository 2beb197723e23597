import { Args } from '@oclif/core';
import { BaseCommand } from '../lib/base-command.js';
import { containerPath, forEachRef } from '../lib/container-ops.js';

/** `mini-docker unpause`: thaw a paused container. */
export default class Unpause extends BaseCommand {
  static override summary = 'Unpause all processes within one or more containers.';

  static override description = 'Thaws the processes of each paused container. Prints each name.\n\nExit codes: 0, or 1 when any container could not be unpaused.';

  static override examples = ['<%= config.bin %> unpause web'];

  static override strict = false;

  static override args = {
    container: Args.string({ ignoreStdin: true, required: true, description: 'Container names or ids.' }),
  };

  async run(): Promise<void> {
    const { argv } = await this.parse(Unpause);
    const code = await forEachRef(argv.map(String), async (ref) => {
      await this.client.call('POST', containerPath(ref, '/unpause'));
      return ref;
    }, { out: (l) => this.out(l), err: (l) => this.err(l) });
    if (code !== 0) this.exit(code);
  }
}
