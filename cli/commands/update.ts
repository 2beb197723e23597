import { arg, defineCommand, flag } from '../lib/command-declaration.js';
import { containerPath, forEachRef } from '../lib/container-ops.js';
import { restartPolicyFlag } from '../lib/create-body.js';
import { CliError } from '../lib/errors.js';
import { limitFlags, limitsFromFlags } from '../lib/limit-flags.js';

/** `mini-docker update`: change the resource limits of containers. */
export default defineCommand({
  summary: 'Update the resource limits or the restart policy of one or more containers.',

  description: 'Takes the resource flags of run (-m, --memory-swap, -c, --cpus, --cpu-shares, --cpuset-cpus, --pids-limit, ...) and --restart, and applies them to each container, running or not. Prints each name.\n\nExit codes: 0; 1 when a value is invalid or a container could not be updated.',

  examples: ['<%= config.bin %> update -m 256m web', "<%= config.bin %> update -c '50000 100000' --pids-limit 100 web db", '<%= config.bin %> update --restart unless-stopped web'],

  variadic: true,

  flags: {
    ...limitFlags,
    restart: flag.string({ summary: 'Restart policy: no, always, unless-stopped, on-failure[:max-retries].' }),
  },

  args: {
    container: arg({ required: true, description: 'Container names or ids.' }),
  },

  async run(ctx, { flags, argv }) {
    const limits = limitsFromFlags(flags, 1);
    const restart = restartPolicyFlag(flags.restart, false, 1);
    if (Object.keys(limits).length === 0 && !restart) throw new CliError('you must provide one or more flags when using this command');
    const body = { ...limits, ...(restart ? { RestartPolicy: restart } : {}) };
    const code = await forEachRef(argv.map(String), async (ref) => {
      const result = await ctx.client.json<{ Warnings?: readonly string[] | null } | undefined>('POST', containerPath(ref, '/update'), { json: body });
      for (const w of result?.Warnings ?? []) ctx.err(`WARNING: ${w}`);
      return ref;
    }, { out: (l) => ctx.out(l), err: (l) => ctx.err(l) });
    if (code !== 0) ctx.exit(code);
  },
});
