import { Args } from '@oclif/core';
import type { WaitResponse } from '../lib/api-types.js';
import { BaseCommand } from '../lib/base-command.js';
import { containerPath, forEachRef } from '../lib/container-ops.js';

/** `mini-docker wait`: block until containers stop; print their exit codes. */
export default class Wait extends BaseCommand {
  static override summary = 'Block until one or more containers stop, then print their exit codes.';

  static override description = 'Waits for each container in turn (condition not-running: a container that has already exited returns at once) and prints its exit code.\n\nExit codes: 0, or 1 when any container was not found.';

  static override examples = ['<%= config.bin %> wait job', '<%= config.bin %> wait job1 job2'];

  static override strict = false;

  static override args = {
    container: Args.string({ ignoreStdin: true, required: true, description: 'Container names or ids.' }),
  };

  async run(): Promise<void> {
    const { argv } = await this.parse(Wait);
    const code = await forEachRef(argv.map(String), async (ref) => {
      const result = await this.client.json<WaitResponse>('POST', containerPath(ref, '/wait'), { query: { condition: 'not-running' } });
      if (result.Error?.Message) this.err(`Error: ${result.Error.Message}`);
      return String(result.StatusCode);
    }, { out: (l) => this.out(l), err: (l) => this.err(l) });
    if (code !== 0) this.exit(code);
  }
}
