import { Flags } from '@oclif/core';
import { containerSession } from '../lib/attach-session.js';
import { BaseCommand } from '../lib/base-command.js';
import { createBody, createFlags, imageCommandArgs } from '../lib/container-flags.js';
import { containerPath, createContainer, startContainer, type PullPolicy } from '../lib/container-ops.js';
import { CliError } from '../lib/errors.js';
import { consoleSize, parseDetachKeys } from '../lib/terminal.js';

/** `mini-docker run`: create, attach, start, stream, exit with the container's status. */
export default class Run extends BaseCommand {
  static override summary = 'Create and run a new container from an image or a rootfs tarball.';

  static override description = `Follows docker's run sequence: create, attach (unless -d), wait, start, stream, and exit with the container's exit code.

IMAGE is an image name, id or id prefix, or the path of a rootfs tarball (imported on first use, the original project's way). Everything after IMAGE is the command, with or without a "--" in between; flags for run go before IMAGE.

Exit codes: the container's own; 125 when mini-docker or the daemon fails (bad flags, create errors); 126 when the command cannot be invoked; 127 when it cannot be found.`;

  static override examples = [
    { description: 'Run a command in the busybox image', command: '<%= config.bin %> run busybox echo hello' },
    { description: 'Start a detached container from a rootfs tarball, with limits (the original project\'s syntax)', command: `<%= config.bin %> run -d -e PATH=/bin/ -m 2000m -c '10000 100000' /tmp/busybox.tar -- /bin/sh -c "while true; do sleep 1; done"` },
    { description: 'An interactive shell, removed on exit', command: '<%= config.bin %> run --rm -it busybox sh' },
    { description: 'Pass a variable from your own environment', command: 'FOO=bar <%= config.bin %> run -e FOO busybox env' },
  ];

  static override strict = false;

  static override flags = {
    detach: Flags.boolean({ char: 'd', summary: 'Run in the background and print the container ID.', default: false }),
    'sig-proxy': Flags.boolean({ summary: 'Forward received signals to the container (non-TTY only).', default: true, allowNo: true }),
    'detach-keys': Flags.string({ summary: 'Key sequence that detaches from a TTY session.', default: 'ctrl-p,ctrl-q' }),
    ...createFlags,
  };

  static override args = imageCommandArgs;

  protected override errorExitCode = 125;

  async run(): Promise<void> {
    const split = this.splitArgv();
    if (split.positional === undefined) {
      throw new CliError("'mini-docker run' requires at least 1 argument: IMAGE [COMMAND] [ARG...] (see 'mini-docker run --help')", 125);
    }
    const { flags } = await this.parse(Run, [...split.flags, split.positional]);
    let detachKeys: number[];
    try {
      detachKeys = parseDetachKeys(flags['detach-keys']);
    } catch (err) {
      throw new CliError((err as Error).message, 125);
    }
    const body = createBody({ image: split.positional, cmd: split.rest, flags, detach: flags.detach, consoleSize: consoleSize(), exitCode: 125 });
    const warn = (line: string): void => this.err(line);
    const id = await createContainer(this.client, body, flags.name, warn, flags.pull as PullPolicy);

    if (flags.detach) {
      // Like docker: a wait before start, so a --rm container removed after a failed start is seen.
      const wait = await this.client.request('POST', containerPath(id, '/wait'), { query: { condition: 'next-exit' } });
      wait.on('error', () => undefined); // a daemon that dies now cuts it: the start's own error says so
      try {
        await startContainer(this.client, id);
      } finally {
        wait.destroy();
      }
      this.out(id);
      return;
    }

    const code = await containerSession({
      client: this.client,
      id,
      tty: body.Tty,
      stdin: body.AttachStdin,
      stdout: body.AttachStdout,
      stderr: body.AttachStderr,
      condition: flags.rm ? 'removed' : 'next-exit',
      start: () => startContainer(this.client, id),
      sigProxy: flags['sig-proxy'],
      detachKeys,
      warn,
    });
    this.exit(code);
  }
}
