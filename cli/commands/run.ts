import { containerSession } from '../lib/attach-session.js';
import { defineCommand, flag } from '../lib/command-declaration.js';
import { createBody, createFlags, imageCommandArgs } from '../lib/container-flags.js';
import { containerPath, createContainer, startContainer, type PullPolicy } from '../lib/container-ops.js';
import { CliError } from '../lib/errors.js';
import { detachKeysFlag, sigProxyFlag } from '../lib/process-flags.js';
import { consoleSize, parseDetachKeys } from '../lib/terminal.js';

/** `mini-docker run`: create, attach, start, stream, exit with the container's status. */
export default defineCommand({
  summary: 'Create and run a new container from an image or a rootfs tarball.',

  description: `Follows docker's run sequence: create, attach (unless -d), wait, start, stream, and exit with the container's exit code.

IMAGE is an image name, id or id prefix, or the path of a rootfs tarball (imported on first use, the original project's way). Everything after IMAGE is the command, with or without a "--" in between; flags for run go before IMAGE.

Exit codes: the container's own; 125 when mini-docker or the daemon fails (bad flags, create errors); 126 when the command cannot be invoked; 127 when it cannot be found.`,

  examples: [
    { description: 'Run a command in the busybox image', command: '<%= config.bin %> run busybox echo hello' },
    { description: 'Start a detached container from a rootfs tarball, with limits (the original project\'s syntax)', command: `<%= config.bin %> run -d -e PATH=/bin/ -m 2000m -c '10000 100000' /tmp/busybox.tar -- /bin/sh -c "while true; do sleep 1; done"` },
    { description: 'An interactive shell, removed on exit', command: '<%= config.bin %> run --rm -it busybox sh' },
    { description: 'Pass a variable from your own environment', command: 'FOO=bar <%= config.bin %> run -e FOO busybox env' },
  ],

  stopAtFirstArg: true,

  usage: 'IMAGE [COMMAND] [ARG...]',

  flags: {
    detach: flag.boolean({ char: 'd', summary: 'Run in the background and print the container ID.', default: false }),
    ...sigProxyFlag,
    ...detachKeysFlag,
    ...createFlags,
  },

  args: imageCommandArgs,

  errorExitCode: 125,

  async run(ctx, { flags, argv }) {
    const [image, ...cmd] = argv as [string, ...string[]];
    let detachKeys: number[];
    try {
      detachKeys = parseDetachKeys(flags['detach-keys']);
    } catch (err) {
      throw new CliError((err as Error).message, 125);
    }
    const body = createBody({ image, cmd, flags, detach: flags.detach, consoleSize: consoleSize(), exitCode: 125 });
    const warn = (line: string): void => ctx.err(line);
    const id = await createContainer(ctx.client, body, flags.name, warn, flags.pull as PullPolicy);

    if (flags.detach) {
      // Like docker: a wait before start, so a --rm container removed after a failed start is seen.
      const wait = await ctx.client.request('POST', containerPath(id, '/wait'), { query: { condition: 'next-exit' } });
      wait.on('error', () => undefined); // a daemon that dies now cuts it: the start's own error says so
      try {
        await startContainer(ctx.client, id);
      } finally {
        wait.destroy();
      }
      ctx.out(id);
      return;
    }

    const code = await containerSession({
      client: ctx.client,
      id,
      tty: body.Tty,
      stdin: body.AttachStdin,
      stdout: body.AttachStdout,
      stderr: body.AttachStderr,
      condition: flags.rm ? 'removed' : 'next-exit',
      start: () => startContainer(ctx.client, id),
      sigProxy: flags['sig-proxy'],
      detachKeys,
      warn,
    });
    ctx.exit(code);
  },
});
