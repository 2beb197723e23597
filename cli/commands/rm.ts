import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../lib/base-command.js';
import { containerPath } from '../lib/container-ops.js';
import { DaemonError, isNotFound } from '../lib/errors.js';

/** `mini-docker rm`: remove containers. */
export default class Rm extends BaseCommand {
  static override summary = 'Remove one or more containers.';

  static override description = `Removes each container and everything it had (its rootfs, cgroups, logs). A running container needs -f (then it is killed first). Prints each name.

Exit codes: 0; 1 when any container could not be removed. With -f a missing container is reported but does not fail the command (docker's behaviour).`;

  static override examples = ['<%= config.bin %> rm web', '<%= config.bin %> rm -f web db', '<%= config.bin %> rm $(<%= config.bin %> ps -aq)'];

  static override strict = false;

  static override flags = {
    force: Flags.boolean({ char: 'f', summary: 'Force the removal of a running container (uses SIGKILL).' }),
    volumes: Flags.boolean({ char: 'v', summary: 'Remove anonymous volumes (accepted for compatibility; there are none).' }),
  };

  static override args = {
    container: Args.string({ ignoreStdin: true, required: true, description: 'Container names or ids.' }),
  };

  async run(): Promise<void> {
    const { flags, argv } = await this.parse(Rm);
    let failed = false;
    for (const ref of argv.map(String)) {
      try {
        await this.client.call('DELETE', containerPath(ref), { query: { force: flags.force || undefined, v: flags.volumes || undefined } });
        this.out(ref);
      } catch (err) {
        if (!(err instanceof DaemonError)) throw err;
        this.err(`Error: ${err.message}`);
        if (!(flags.force && isNotFound(err))) failed = true;
      }
    }
    if (failed) this.exit(1);
  }
}
