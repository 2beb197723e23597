import { commands } from '@oclif/plugin-plugins';
import { CliError, oneLine } from '../../lib/errors.js';
import { checkLocalPlugin, describeReload, localInstallSource, reloadDaemonPlugins } from '../../lib/plugin-reload.js';
import { resolveClientPaths } from '../../lib/paths.js';

const OclifInstall: (typeof commands)['plugins:install'] = commands['plugins:install'];
type Parsed = Awaited<ReturnType<InstanceType<typeof OclifInstall>['parsePlugin']>>;

/**
 * `mini-docker plugins install`: oclif's install, which also takes a plugin folder or tarball on
 * disk (oclif reads `/path/x.tgz` as a GitHub slug), then asks a running daemon to load what is
 * new, so the plugin's drivers work at once.
 */
export default class PluginsInstall extends OclifInstall {
  static override summary = 'Install a plugin package (npm name, folder, tarball or URL) and have the daemon load it.';

  static override description = `${OclifInstall.description ?? ''}

A folder or a tarball on disk (./my-plugin, /tmp/my-plugin-0.1.0.tgz) is installed from there. When a daemon is running it loads the new package at once (POST /tiny/plugins/reload); otherwise it loads every installed plugin when it starts. A package that was already loaded needs a daemon restart to take a new version.`;

  static override examples = [
    { command: '<%= config.bin %> plugins install ./my-log-driver-0.1.0.tgz', description: 'Install a plugin from a tarball made by npm pack.' },
    { command: '<%= config.bin %> plugins install /src/my-log-driver', description: 'Install a plugin from its folder (a copy, unlike plugins link).' },
    { command: '<%= config.bin %> plugins install @acme/tiny-docker-log-shipper', description: 'Install a plugin from the npm registry.' },
  ];

  override async parsePlugin(plugins: Parameters<InstanceType<typeof OclifInstall>['parsePlugin']>[0], input: string): Promise<Parsed> {
    let local: string | undefined;
    try {
      local = localInstallSource(input);
      if (local) checkLocalPlugin(local.slice('file:'.length));
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    if (local) return { type: 'repo', url: local };
    return super.parsePlugin(plugins, input);
  }

  /** One `Error: …` line and the error's exit code, as every mini-docker command. */
  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if ((err as { code?: unknown }).code === 'EEXIT') throw err;
    process.stderr.write(`Error: ${oneLine(err.message)}\n`);
    if (process.env.DEBUG === '1' && err.stack) process.stderr.write(`${err.stack}\n`);
    return this.exit(err instanceof CliError ? err.exitCode : err.oclif?.exit ?? 1);
  }

  override async run(): Promise<void> {
    await super.run();
    try {
      for (const line of describeReload(await reloadDaemonPlugins(resolveClientPaths(undefined)))) this.log(line);
    } catch (err) {
      this.warn(`the daemon did not load the plugin now (${(err as Error).message}): restart it with its usual command, it loads installed plugins when it starts`);
    }
  }
}
