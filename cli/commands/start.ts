import { Args, Flags } from '@oclif/core';
import { containerSession } from '../lib/attach-session.js';
import { BaseCommand } from '../lib/base-command.js';
import { containerPath, forEachRef, inspectContainer, startContainer } from '../lib/container-ops.js';
import { CliError } from '../lib/errors.js';
import { parseDetachKeys } from '../lib/terminal.js';

/** `mini-docker start`: start stopped containers, optionally attached. */
export default class Start extends BaseCommand {
  static override summary = 'Start one or more stopped containers.';

  static override description = `Prints each name as it starts. With -a (and -i) it attaches first, like run, streams the output and exits with the container's exit code; only one container can be attached at a time.

Exit codes: 0; 1 when a container could not be started (the others are still started); with -a the container's own code, or 125/126/127 when it cannot start.`;

  static override examples = ['<%= config.bin %> start web', '<%= config.bin %> start -a job', '<%= config.bin %> start -ai shell'];

  static override strict = false;

  static override flags = {
    attach: Flags.boolean({ char: 'a', summary: "Attach STDOUT/STDERR and forward signals." }),
    interactive: Flags.boolean({ char: 'i', summary: "Attach the container's STDIN." }),
    'detach-keys': Flags.string({ summary: 'Key sequence that detaches from a TTY session.', default: 'ctrl-p,ctrl-q' }),
  };

  static override args = {
    container: Args.string({ ignoreStdin: true, required: true, description: 'Container names or ids.' }),
  };

  async run(): Promise<void> {
    const { flags, argv } = await this.parse(Start);
    const refs = argv.map(String);
    if (flags.attach || flags.interactive) {
      if (refs.length > 1) throw new CliError('you cannot start and attach multiple containers at once');
      const c = await inspectContainer(this.client, refs[0]!);
      const code = await containerSession({
        client: this.client,
        id: c.Id,
        tty: c.Config.Tty,
        stdin: flags.interactive && c.Config.OpenStdin === true,
        stdout: flags.attach,
        stderr: flags.attach,
        condition: 'next-exit',
        start: () => startContainer(this.client, c.Id),
        sigProxy: true,
        detachKeys: parseDetachKeys(flags['detach-keys']),
        warn: (line) => this.err(line),
      });
      this.exit(code);
    }
    const code = await forEachRef(refs, async (ref) => {
      await this.client.call('POST', containerPath(ref, '/start'));
      return ref;
    }, { out: (l) => this.out(l), err: (l) => this.err(l) });
    if (code !== 0) this.exit(code);
  }
}
