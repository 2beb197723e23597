import { defineCommand, flag } from '../../lib/command-declaration.js';
import { filtersJson } from '../../lib/events-view.js';
import { renderVolumes, type VolumeSummary } from '../../lib/volumes-view.js';

/** `mini-docker volume ls`: list volumes. */
export default defineCommand({
  summary: 'List volumes.',

  description: `Shows DRIVER and VOLUME NAME, one row per volume, by name.

--filter takes dangling=true|false (used by no container, running or not), name=PART, label=KEY[=VALUE] and driver=NAME. --format takes "table", "json" (one object per line), "table <template>" or a template with the fields Name, Driver, Scope, Mountpoint, Labels, CreatedAt. --json prints the daemon's raw list.`,

  examples: [
    '<%= config.bin %> volume ls',
    '<%= config.bin %> volume ls -q --filter dangling=true',
    "<%= config.bin %> volume ls --format '{{.Name}} {{.Mountpoint}}'",
  ],

  json: true,

  flags: {
    quiet: flag.boolean({ char: 'q', summary: 'Only display volume names.' }),
    format: flag.string({ summary: 'Format: table, json, or a Go-like template.' }),
    filter: flag.string({ char: 'f', summary: 'Filter output (dangling=, name=, label=, driver=); repeatable.', multiple: true }),
  },

  async run(ctx, { flags }) {
    const filters = filtersJson(flags.filter);
    const { Volumes } = await ctx.client.json<{ Volumes: VolumeSummary[] | null }>('GET', '/volumes', { query: { filters } });
    const volumes = Volumes ?? [];
    if (!ctx.jsonEnabled) process.stdout.write(renderVolumes(volumes, { quiet: flags.quiet, format: flags.format }));
    return volumes;
  },
});
