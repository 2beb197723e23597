import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../lib/base-command.js';
import { containerPath, forEachRef } from '../lib/container-ops.js';

/** `mini-docker stop`: SIGTERM, then SIGKILL after the grace period. */
export default class Stop extends BaseCommand {
  static override summary = 'Stop one or more running containers.';

  static override description = 'Sends the stop signal (SIGTERM unless -s), then SIGKILL after -t seconds (10 by default). Prints each name; stopping a stopped container is not an error.\n\nExit codes: 0, or 1 when any container could not be stopped.';

  static override examples = ['<%= config.bin %> stop web', '<%= config.bin %> stop -t 0 web db', '<%= config.bin %> stop -s SIGINT web'];

  static override strict = false;

  static override flags = {
    time: Flags.integer({ char: 't', summary: 'Seconds to wait before killing the container.' }),
    signal: Flags.string({ char: 's', summary: 'Signal to send to the container.' }),
  };

  static override args = {
    container: Args.string({ ignoreStdin: true, required: true, description: 'Container names or ids.' }),
  };

  async run(): Promise<void> {
    const { flags, argv } = await this.parse(Stop);
    const code = await forEachRef(argv.map(String), async (ref) => {
      await this.client.call('POST', containerPath(ref, '/stop'), { query: { t: flags.time, signal: flags.signal } });
      return ref;
    }, { out: (l) => this.out(l), err: (l) => this.err(l) });
    if (code !== 0) this.exit(code);
  }
}
