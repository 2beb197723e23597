import { Args } from '@oclif/core';
import { BaseCommand } from '../lib/base-command.js';
import { containerPath, forEachRef } from '../lib/container-ops.js';

/** `mini-docker pause`: freeze all processes (cgroup freezer). */
export default class Pause extends BaseCommand {
  static override summary = 'Pause all processes within one or more containers.';

  static override description = 'Freezes every process of each container with the cgroup freezer; ps shows it as Up … (Paused). Prints each name.\n\nExit codes: 0, or 1 when any container could not be paused.';

  static override examples = ['<%= config.bin %> pause web'];

  static override strict = false;

  static override args = {
    container: Args.string({ ignoreStdin: true, required: true, description: 'Container names or ids.' }),
  };

  async run(): Promise<void> {
    const { argv } = await this.parse(Pause);
    const code = await forEachRef(argv.map(String), async (ref) => {
      await this.client.call('POST', containerPath(ref, '/pause'));
      return ref;
    }, { out: (l) => this.out(l), err: (l) => this.err(l) });
    if (code !== 0) this.exit(code);
  }
}
