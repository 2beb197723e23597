import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../lib/base-command.js';
import { containerPath, forEachRef } from '../lib/container-ops.js';

/** `mini-docker restart`: stop then start. */
export default class Restart extends BaseCommand {
  static override summary = 'Restart one or more containers.';

  static override description = 'Stops each container (SIGTERM, SIGKILL after -t seconds) and starts it again. Prints each name.\n\nExit codes: 0, or 1 when any container could not be restarted.';

  static override examples = ['<%= config.bin %> restart web', '<%= config.bin %> restart -t 2 web db'];

  static override strict = false;

  static override flags = {
    time: Flags.integer({ char: 't', summary: 'Seconds to wait for stop before killing the container.' }),
  };

  static override args = {
    container: Args.string({ ignoreStdin: true, required: true, description: 'Container names or ids.' }),
  };

  async run(): Promise<void> {
    const { flags, argv } = await this.parse(Restart);
    const code = await forEachRef(argv.map(String), async (ref) => {
      await this.client.call('POST', containerPath(ref, '/restart'), { query: { t: flags.time } });
      return ref;
    }, { out: (l) => this.out(l), err: (l) => this.err(l) });
    if (code !== 0) this.exit(code);
  }
}
