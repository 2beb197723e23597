import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { arg, defineCommand, flag } from '../../lib/command-declaration.js';
import { CliError } from '../../lib/errors.js';
import { packPluginKit } from '../../lib/plugin-kit.js';
import { pluginFiles } from '../../lib/plugin-template.js';
import { packageRoot } from '../../lib/paths.js';

/** `mini-docker plugins new NAME`: a working plugin package with its tests, ready for npm install. */
export default defineCommand({
  summary: 'Write a new plugin package: a log driver, a reactor, a command, their tests and the plugin kit.',

  description: 'Writes the package docs/writing-a-driver.md walks through into a new folder (NAME, or --dir): the log driver "NAME" (write-only, one line per output chunk), the reactor reactor.v1.NAME-deaths, the command `deaths`, tests that run the kit\'s conformance suites, and the kit tarball itself. Then: cd into it, npm install, npm test, npm pack, mini-docker plugins install ./NAME-0.1.0.tgz.',

  examples: ['<%= config.bin %> plugins new acme-lines && cd acme-lines && npm install && npm test'],

  args: {
    name: arg({ required: true, description: 'the package name, also the log driver name (lowercase letters, digits, dashes)' }),
  },

  flags: {
    dir: flag.string({ summary: 'Folder to create (default: ./NAME). It must not exist or be empty.' }),
  },

  async run(ctx, { args, flags }) {
    if (!/^[a-z][a-z0-9-]*$/.test(args.name)) throw new CliError(`invalid plugin name "${args.name}": use lowercase letters, digits and dashes, starting with a letter`);
    const dir = resolve(flags.dir ?? args.name);
    if (existsSync(dir) && readdirSync(dir).length > 0) throw new CliError(`${dir} exists and is not empty: choose another --dir`);
    mkdirSync(dir, { recursive: true });
    let kit: string;
    try {
      kit = await packPluginKit(packageRoot(), dir);
    } catch (err) {
      throw new CliError(`cannot pack the plugin kit: ${(err as Error).message}`);
    }
    for (const [file, text] of Object.entries(pluginFiles(args.name, basename(kit)))) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), text);
    }
    const where = relative(process.cwd(), dir) || '.';
    ctx.out(`wrote the plugin ${args.name} in ${where}; next:`);
    ctx.out(`  cd ${where} && npm install && npm test && npm pack`);
    ctx.out(`  mini-docker plugins install ./${args.name}-0.1.0.tgz`);
    ctx.out(`  mini-docker run --log-driver ${args.name} busybox echo hi && mini-docker deaths`);
  },
});
