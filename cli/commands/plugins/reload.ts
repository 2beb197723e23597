import { defineCommand } from '../../lib/command-declaration.js';
import { CliError } from '../../lib/errors.js';
import { describeReload, reloadDaemonPlugins, type PluginReloadReport } from '../../lib/plugin-reload.js';

/** `mini-docker plugins reload`: the running daemon loads plugin packages installed since it started. */
export default defineCommand({
  summary: 'Have the running daemon load plugin packages installed or linked since it started.',

  description: 'POST /tiny/plugins/reload. Packages already loaded stay as they are (an ES module cannot be unloaded): a changed package needs a daemon restart. `plugins install` does this by itself.',

  examples: ['<%= config.bin %> plugins link ./my-plugin && <%= config.bin %> plugins reload'],

  json: true,

  async run(ctx): Promise<PluginReloadReport> {
    const report = await reloadDaemonPlugins(ctx.paths);
    if (!report) throw new CliError('no daemon is running: it loads the installed plugins when it starts');
    for (const line of describeReload(report)) ctx.out(line);
    if (report.failed.length > 0 && !ctx.jsonEnabled) throw new CliError(`${report.failed.length} plugin package(s) failed to load`);
    return report;
  },
});
