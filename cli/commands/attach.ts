import { containerSession } from '../lib/attach-session.js';
import { arg, defineCommand, flag } from '../lib/command-declaration.js';
import { inspectContainer } from '../lib/container-ops.js';
import { CliError } from '../lib/errors.js';
import { detachKeysFlag, sigProxyFlag } from '../lib/process-flags.js';
import { parseDetachKeys } from '../lib/terminal.js';

/** `mini-docker attach`: connect the terminal to a running container. */
export default defineCommand({
  summary: "Attach local standard input, output and error to a running container.",

  description: `Streams the container's output from now on (no backlog) and, when it was started with -i, sends your input to it. With a TTY container, Ctrl-P Ctrl-Q detaches and leaves it running. Signals are forwarded to non-TTY containers unless --no-sig-proxy.

Exit codes: the container's exit code when it ends; 0 after a detach; 1 when it is not running or not found.`,

  examples: ['<%= config.bin %> attach shell', '<%= config.bin %> attach --no-stdin web'],

  flags: {
    'no-stdin': flag.boolean({ summary: 'Do not attach STDIN.' }),
    ...sigProxyFlag,
    ...detachKeysFlag,
  },

  args: {
    container: arg({ required: true, description: 'Container name or id.' }),
  },

  async run(ctx, { flags, args }) {
    const c = await inspectContainer(ctx.client, args.container);
    if (c.State.Paused) throw new CliError('You cannot attach to a paused container, unpause it first');
    if (!c.State.Running) throw new CliError('You cannot attach to a stopped container, start it first');
    const code = await containerSession({
      client: ctx.client,
      id: c.Id,
      tty: c.Config.Tty,
      stdin: !flags['no-stdin'] && c.Config.OpenStdin === true,
      stdout: true,
      stderr: true,
      condition: 'not-running',
      sigProxy: flags['sig-proxy'],
      detachKeys: parseDetachKeys(flags['detach-keys']),
      warn: (line) => ctx.err(line),
    });
    ctx.exit(code);
  },
});
