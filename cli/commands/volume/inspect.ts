import { arg, defineCommand, flag } from '../../lib/command-declaration.js';
import { printInspected } from '../../lib/inspect-output.js';
import { isNotFound } from '../../lib/errors.js';
import type { VolumeSummary } from '../../lib/volumes-view.js';

/** `mini-docker volume inspect`: a volume's JSON. */
export default defineCommand({
  summary: 'Display detailed information on one or more volumes.',

  description: `Prints a JSON array of the volumes (Name, Driver, Mountpoint, CreatedAt, Labels, Options, Scope), or with -f a Go-like template per volume.

Exit codes: 0, or 1 when any NAME was not found (the others are still printed).`,

  examples: ['<%= config.bin %> volume inspect data', "<%= config.bin %> volume inspect -f '{{.Mountpoint}}' data"],

  json: true,

  variadic: true,

  flags: {
    format: flag.string({ char: 'f', summary: 'Format the output using a Go-like template.' }),
  },

  args: {
    name: arg({ required: true, description: 'Volume names.' }),
  },

  async run(ctx, { flags, argv }) {
    const found: VolumeSummary[] = [];
    const missing: Error[] = [];
    for (const name of argv.map(String)) {
      try {
        found.push(await ctx.client.json<VolumeSummary>('GET', `/volumes/${encodeURIComponent(name)}`));
      } catch (err) {
        if (!isNotFound(err)) throw err;
        missing.push(err);
      }
    }
    return printInspected(ctx, found, missing, flags.format);
  },
});
