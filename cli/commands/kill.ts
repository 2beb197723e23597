import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../lib/base-command.js';
import { containerPath, forEachRef } from '../lib/container-ops.js';

/** `mini-docker kill`: send a signal. */
export default class Kill extends BaseCommand {
  static override summary = 'Kill one or more running containers.';

  static override description = 'Sends SIGKILL, or the signal given with -s (a name such as TERM or SIGTERM, or a number). Prints each name.\n\nExit codes: 0, or 1 when any container could not be signalled (e.g. it is not running).';

  static override examples = ['<%= config.bin %> kill web', '<%= config.bin %> kill -s HUP web'];

  static override strict = false;

  static override flags = {
    signal: Flags.string({ char: 's', summary: 'Signal to send to the container.', default: 'KILL' }),
  };

  static override args = {
    container: Args.string({ ignoreStdin: true, required: true, description: 'Container names or ids.' }),
  };

  async run(): Promise<void> {
    const { flags, argv } = await this.parse(Kill);
    const code = await forEachRef(argv.map(String), async (ref) => {
      await this.client.call('POST', containerPath(ref, '/kill'), { query: { signal: flags.signal } });
      return ref;
    }, { out: (l) => this.out(l), err: (l) => this.err(l) });
    if (code !== 0) this.exit(code);
  }
}
