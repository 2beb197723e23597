import { containerSession } from '../lib/attach-session.js';
import { arg, defineCommand, flag } from '../lib/command-declaration.js';
import { containerPath, forEachRef, inspectContainer, startContainer } from '../lib/container-ops.js';
import { CliError } from '../lib/errors.js';
import { detachKeysFlag } from '../lib/process-flags.js';
import { parseDetachKeys } from '../lib/terminal.js';

/** `mini-docker start`: start stopped containers, optionally attached. */
export default defineCommand({
  summary: 'Start one or more stopped containers.',

  description: `Prints each name as it starts. With -a (and -i) it attaches first, like run, streams the output and exits with the container's exit code; only one container can be attached at a time.

Exit codes: 0; 1 when a container could not be started (the others are still started); with -a the container's own code, or 125/126/127 when it cannot start.`,

  examples: ['<%= config.bin %> start web', '<%= config.bin %> start -a job', '<%= config.bin %> start -ai shell'],

  variadic: true,

  flags: {
    attach: flag.boolean({ char: 'a', summary: "Attach STDOUT/STDERR and forward signals." }),
    interactive: flag.boolean({ char: 'i', summary: "Attach the container's STDIN." }),
    ...detachKeysFlag,
  },

  args: {
    container: arg({ required: true, description: 'Container names or ids.' }),
  },

  async run(ctx, { flags, argv }) {
    const refs = argv.map(String);
    if (flags.attach || flags.interactive) {
      if (refs.length > 1) throw new CliError('you cannot start and attach multiple containers at once');
      const c = await inspectContainer(ctx.client, refs[0]!);
      const code = await containerSession({
        client: ctx.client,
        id: c.Id,
        tty: c.Config.Tty,
        stdin: flags.interactive && c.Config.OpenStdin === true,
        stdout: flags.attach,
        stderr: flags.attach,
        condition: 'next-exit',
        start: () => startContainer(ctx.client, c.Id),
        sigProxy: true,
        detachKeys: parseDetachKeys(flags['detach-keys']),
        warn: (line) => ctx.err(line),
      });
      ctx.exit(code);
    }
    const code = await forEachRef(refs, async (ref) => {
      await ctx.client.call('POST', containerPath(ref, '/start'));
      return ref;
    }, { out: (l) => ctx.out(l), err: (l) => ctx.err(l) }, (failed) => `failed to start containers: ${failed.join(', ')}`);
    if (code !== 0) ctx.exit(code);
  },
});
