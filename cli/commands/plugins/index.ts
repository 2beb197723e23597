import { commands } from '@oclif/plugin-plugins';
import { describeDaemonDrivers, daemonDrivers } from '../../lib/plugin-reload.js';
import { resolveClientPaths } from '../../lib/paths.js';

const OclifPlugins: (typeof commands)['plugins'] = commands.plugins;

/**
 * `mini-docker plugins`: oclif's list of installed and linked plugins, then what a running daemon
 * made of each of them: every driver with its status, and a package that failed to load with why.
 */
export default class PluginsIndex extends OclifPlugins {
  static override summary = 'List installed plugins, and the status of their drivers in the running daemon.';

  override async run(): ReturnType<InstanceType<typeof OclifPlugins>['run']> {
    const listed = await super.run();
    if (this.jsonEnabled()) return listed;
    try {
      for (const line of describeDaemonDrivers(await daemonDrivers(resolveClientPaths(undefined)))) this.log(line);
    } catch (err) {
      this.warn(`the daemon's view of the plugins is not available: ${(err as Error).message}`);
    }
    return listed;
  }
}
