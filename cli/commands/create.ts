import { BaseCommand } from '../lib/base-command.js';
import { createBody, createFlags, imageCommandArgs } from '../lib/container-flags.js';
import { createContainer, type PullPolicy } from '../lib/container-ops.js';
import { CliError } from '../lib/errors.js';
import { consoleSize } from '../lib/terminal.js';

/** `mini-docker create`: create a container without starting it; prints its id. */
export default class Create extends BaseCommand {
  static override summary = 'Create a new container without starting it.';

  static override description = `Takes the same flags as run (except -d). Prints the full container ID. Start it later with "mini-docker start" (-a to attach).

Exit codes: 0, or 125 when the container cannot be created.`;

  static override examples = [
    '<%= config.bin %> create --name web busybox httpd -f -p 8080',
    '<%= config.bin %> create -it --name shell busybox sh',
  ];

  static override strict = false;

  static override flags = { ...createFlags };

  static override args = imageCommandArgs;

  protected override errorExitCode = 125;

  async run(): Promise<void> {
    const split = this.splitArgv();
    if (split.positional === undefined) {
      throw new CliError("'mini-docker create' requires at least 1 argument: IMAGE [COMMAND] [ARG...] (see 'mini-docker create --help')", 125);
    }
    const { flags } = await this.parse(Create, [...split.flags, split.positional]);
    const body = createBody({ image: split.positional, cmd: split.rest, flags, detach: false, consoleSize: consoleSize(), exitCode: 125 });
    this.out(await createContainer(this.client, body, flags.name, (line) => this.err(line), flags.pull as PullPolicy));
  }
}
