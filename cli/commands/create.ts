import { defineCommand } from '../lib/command-declaration.js';
import { createBody, createFlags, imageCommandArgs } from '../lib/container-flags.js';
import { createContainer, type PullPolicy } from '../lib/container-ops.js';
import { DaemonError } from '../lib/errors.js';
import { consoleSize } from '../lib/terminal.js';

/** `mini-docker create`: create a container without starting it; prints its id. */
export default defineCommand({
  summary: 'Create a new container without starting it.',

  description: `Takes the same flags as run (except -d). Prints the full container ID. Start it later with "mini-docker start" (-a to attach).

Exit codes: 0; 125 for a bad flag or value; 1 when the daemon refuses the container (name in use, no such image, a bad mount), as docker create.`,

  examples: [
    '<%= config.bin %> create --name web busybox httpd -f -p 8080',
    '<%= config.bin %> create -it --name shell busybox sh',
  ],

  stopAtFirstArg: true,

  usage: 'IMAGE [COMMAND] [ARG...]',

  flags: { ...createFlags },

  args: imageCommandArgs,

  errorExitCode: 125,

  async run(ctx, { flags, argv }) {
    const [image, ...cmd] = argv as [string, ...string[]];
    const body = createBody({ image, cmd, flags, detach: false, consoleSize: consoleSize(), exitCode: 125 });
    try {
      ctx.out(await createContainer(ctx.client, body, flags.name, (line) => ctx.err(line), flags.pull as PullPolicy));
    } catch (err) {
      // docker create: 125 is for its own failures (flags); the daemon's refusal is a plain error (1)
      if (err instanceof DaemonError) throw err.exitingWith(1);
      throw err;
    }
  },
});
