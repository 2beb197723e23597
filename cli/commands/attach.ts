import { Args, Flags } from '@oclif/core';
import { containerSession } from '../lib/attach-session.js';
import { BaseCommand } from '../lib/base-command.js';
import { inspectContainer } from '../lib/container-ops.js';
import { CliError } from '../lib/errors.js';
import { parseDetachKeys } from '../lib/terminal.js';

/** `mini-docker attach`: connect the terminal to a running container. */
export default class Attach extends BaseCommand {
  static override summary = "Attach local standard input, output and error to a running container.";

  static override description = `Streams the container's output from now on (no backlog) and, when it was started with -i, sends your input to it. With a TTY container, Ctrl-P Ctrl-Q detaches and leaves it running. Signals are forwarded to non-TTY containers unless --no-sig-proxy.

Exit codes: the container's exit code when it ends; 0 after a detach; 1 when it is not running or not found.`;

  static override examples = ['<%= config.bin %> attach shell', '<%= config.bin %> attach --no-stdin web'];

  static override flags = {
    'no-stdin': Flags.boolean({ summary: 'Do not attach STDIN.' }),
    'sig-proxy': Flags.boolean({ summary: 'Proxy received signals to the container (non-TTY).', default: true, allowNo: true }),
    'detach-keys': Flags.string({ summary: 'Key sequence that detaches from a TTY session.', default: 'ctrl-p,ctrl-q' }),
  };

  static override args = {
    container: Args.string({ ignoreStdin: true, required: true, description: 'Container name or id.' }),
  };

  async run(): Promise<void> {
    const { flags, args } = await this.parse(Attach);
    const c = await inspectContainer(this.client, args.container);
    if (c.State.Paused) throw new CliError('You cannot attach to a paused container, unpause it first');
    if (!c.State.Running) throw new CliError('You cannot attach to a stopped container, start it first');
    const code = await containerSession({
      client: this.client,
      id: c.Id,
      tty: c.Config.Tty,
      stdin: !flags['no-stdin'] && c.Config.OpenStdin === true,
      stdout: true,
      stderr: true,
      condition: 'not-running',
      sigProxy: flags['sig-proxy'],
      detachKeys: parseDetachKeys(flags['detach-keys']),
      warn: (line) => this.err(line),
    });
    this.exit(code);
  }
}
