import type { NetworkResource } from '../../lib/api-types.js';
import { defineCommand, flag } from '../../lib/command-declaration.js';
import { filtersJson } from '../../lib/events-view.js';
import { renderNetworks } from '../../lib/networks-view.js';

/** `mini-docker network ls`: list networks. */
export default defineCommand({
  summary: 'List networks.',

  description: `Shows NETWORK ID (12 hex), NAME, DRIVER and SCOPE, sorted by name: the pre-defined bridge, host (driver host) and none (driver null), and the networks made with network create.

--filter takes driver=, id=, label=KEY or label=KEY=VALUE, name=, scope=local, type=custom|builtin, dangling=true|false (repeatable; values of one key are alternatives, keys must all match; name and id match anywhere in the name or id). --format takes "table", "json", "table <template>" or a template with the fields ID, Name, Driver, Scope, IPv6, Internal, Labels, CreatedAt. --json prints the daemon's raw list.`,

  examples: [
    '<%= config.bin %> network ls',
    '<%= config.bin %> network ls -q --filter type=custom',
    "<%= config.bin %> network ls --filter label=team=web --format '{{.Name}} {{.Driver}}'",
    '<%= config.bin %> network ls --no-trunc',
  ],

  json: true,

  flags: {
    filter: flag.string({ char: 'f', summary: 'Provide filter values (e.g. driver=bridge, label=x, name=app); repeatable.', multiple: true }),
    quiet: flag.boolean({ char: 'q', summary: 'Only display network IDs.' }),
    'no-trunc': flag.boolean({ summary: 'Do not truncate the output.' }),
    format: flag.string({ summary: 'Format: table, json, or a Go-like template.' }),
  },

  async run(ctx, { flags }) {
    const filters = filtersJson(flags.filter);
    const networks = await ctx.client.json<NetworkResource[]>('GET', '/networks', { query: { filters } });
    if (!ctx.jsonEnabled) process.stdout.write(renderNetworks(networks, { quiet: flags.quiet, noTrunc: flags['no-trunc'], format: flags.format }));
    return networks;
  },
});
