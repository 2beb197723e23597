import { defineCommand, flag } from '../../lib/command-declaration.js';
import { CliError } from '../../lib/errors.js';
import { packPluginKit } from '../../lib/plugin-kit.js';
import { packageRoot } from '../../lib/paths.js';

/** `mini-docker plugins kit`: packs the plugin kit (the plugin API's types and code, the conformance suites). */
export default defineCommand({
  summary: 'Write the plugin kit tarball a plugin outside this repository installs for its types and tests.',

  description: 'Packs tiny-docker-<version>.tgz: the package "tiny-docker" reduced to the plugin API (tiny-docker/plugin-api, tiny-docker/events) and the drivers\' conformance suites (tiny-docker/testing/log, reactor, storage, limiter). A plugin puts it in its devDependencies as "tiny-docker": "file:./tiny-docker-<version>.tgz"; at run time the daemon resolves tiny-docker to itself.',

  examples: ['<%= config.bin %> plugins kit --out ./my-plugin'],

  flags: {
    out: flag.string({ summary: 'Folder to write the tarball to.', default: '.' }),
  },

  async run(ctx, { flags }) {
    try {
      ctx.out(await packPluginKit(packageRoot(), flags.out));
    } catch (err) {
      throw new CliError(`cannot pack the plugin kit: ${(err as Error).message}`);
    }
  },
});
