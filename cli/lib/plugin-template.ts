/**
 * The files of a new plugin package, as `mini-docker plugins new NAME` writes them. They are the
 * example docs/writing-a-driver.md walks through (with NAME acme-lines): a unit test checks that the
 * guide shows exactly these files, and an end-to-end test builds, tests, packs and installs the
 * guide's copy outside this repository.
 *
 * The package has no build step (plain ES modules); its types come from the kit (`tiny-docker`
 * in devDependencies), so an editor or `tsc --checkJs` checks it.
 */
export function pluginFiles(name: string, kitFile: string): Readonly<Record<string, string>> {
  const className = name.split(/[^a-z0-9]+/i).filter((p) => p !== '').map((p) => p[0]!.toUpperCase() + p.slice(1)).join('');
  return {
    'package.json': `${JSON.stringify({
      name,
      version: '0.1.0',
      description: `A tiny-docker plugin: the ${name} log driver and a reactor that records container deaths`,
      type: 'module',
      license: 'MIT',
      files: ['plugin-module.js', 'log-driver.js', 'deaths-reactor.js', 'commands/'],
      tinyDocker: { module: './plugin-module.js' },
      oclif: { commands: './commands' },
      scripts: { test: 'node --test test/' },
      peerDependencies: { 'tiny-docker': '*' },
      peerDependenciesMeta: { 'tiny-docker': { optional: true } },
      dependencies: { '@oclif/core': '4.14.0' },
      devDependencies: { 'tiny-docker': `file:./${kitFile}` },
    }, null, 2)}\n`,

    'plugin-module.js': `// The one file the daemon imports (package.json's tinyDocker.module): binds each driver under Driver.
import { ContainerModule, Driver } from 'tiny-docker/plugin-api';
import { ${className}LogDriver } from './log-driver.js';
import { DeathsReactor } from './deaths-reactor.js';

export default new ContainerModule((options) => {
  options.bind(Driver).to(${className}LogDriver).inSingletonScope();
  options.bind(Driver).to(DeathsReactor).inSingletonScope();
});
`,

    'log-driver.js': `// A write-only log driver: each chunk of a container's output becomes one line in
// <stateDir>/<container id>.log ("<time> <stream> <text>"). It does not read back, so \`logs\`
// answers Docker's "configured logging driver does not support reading".
import { appendFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DriverKinds, injectable } from 'tiny-docker/plugin-api';

export class ${className}LogDriver {
  name = '${name}';
  id = \`\${DriverKinds.log}.${name}\`;
  dir = '';

  /** @param {import('tiny-docker/plugin-api').DriverContext} context */
  async init(context) {
    this.dir = context.stateDir;
    return { status: 'ok' };
  }

  /** @param {Record<string, string>} options */
  validateOptions(options) {
    const key = Object.keys(options)[0];
    if (key !== undefined) throw new Error(\`unknown log-opt "\${key}" for log driver ${name} (it takes no options)\`);
  }

  /**
   * @param {string} containerId
   * @param {Record<string, string>} options
   * @returns {Promise<import('tiny-docker/plugin-api').LogWriter>}
   */
  async open(containerId, options) {
    this.validateOptions(options);
    const file = join(this.dir, \`\${containerId}.log\`);
    // What was written before a daemon restart is not known: a re-sent chunk may be written twice.
    let storedOffset = 0;
    return {
      get storedOffset() { return storedOffset; },
      async write(entry, endOffset) {
        if (endOffset <= storedOffset) return;
        const text = entry.data.toString('utf8').replace(/\\n$/, '').replace(/\\n/g, '\\n ');
        await appendFile(file, \`\${entry.time} \${entry.stream} \${text}\\n\`);
        storedOffset = endOffset;
      },
      async close() {},
    };
  }

  /** @returns {AsyncIterable<import('tiny-docker/plugin-api').LogEntry>} */
  read() {
    throw new Error('configured logging driver does not support reading');
  }

  /** @param {string} containerId */
  async remove(containerId) {
    await rm(join(this.dir, \`\${containerId}.log\`), { force: true });
  }

  /** The containers it keeps a file for (the daemon removes those of containers it does not know). */
  async held() {
    return (await readdir(this.dir)).filter((f) => f.endsWith('.log')).map((f) => f.slice(0, -'.log'.length));
  }
}
injectable()(${className}LogDriver);
`,

    'deaths-reactor.js': `// A reactor: appends one JSON line per container death to <stateDir>/deaths.log.
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DriverKinds, injectable } from 'tiny-docker/plugin-api';

export class DeathsReactor {
  id = \`\${DriverKinds.reactor}.${name}-deaths\`;
  file = '';

  /** @param {import('tiny-docker/plugin-api').DriverContext} context */
  async init(context) {
    this.file = join(context.stateDir, 'deaths.log');
    return { status: 'ok' };
  }

  /** @param {import('tiny-docker/plugin-api').EventEnvelope} event */
  async onEvent(event) {
    if (event.type !== 'ContainerExited') return;
    const { id, name, exitCode, oomKilled, finishedAt } = event.data;
    await appendFile(this.file, \`\${JSON.stringify({ position: event.position, id, name, exitCode, oomKilled, finishedAt })}\\n\`);
  }
}
injectable()(DeathsReactor);
`,

    'commands/deaths.js': `// \`mini-docker deaths\`: prints the deaths the reactor recorded.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, Flags } from '@oclif/core';

const dataRoot = process.env.MINI_DOCKER_DATA_ROOT || '/var/lib/mini-docker';

export default class Deaths extends Command {
  static summary = 'List the container deaths recorded by reactor.v1.${name}-deaths';
  static flags = {
    file: Flags.string({ description: 'the file the reactor writes', default: join(dataRoot, 'reactor.v1.${name}-deaths', 'deaths.log') }),
  };

  async run() {
    const { flags } = await this.parse(Deaths);
    const text = await readFile(flags.file, 'utf8').catch(() => '');
    for (const line of text.split('\\n').filter((l) => l !== '')) {
      const d = JSON.parse(line);
      this.log(\`#\${d.position} \${d.finishedAt} \${d.name} exited \${d.exitCode}\${d.oomKilled ? ' (OOM killed)' : ''}\`);
    }
  }
}
`,

    'test/plugin.test.js': `// The kit's conformance suites, run by \`npm test\` in the plugin's folder.
import { logDriverConformance } from 'tiny-docker/testing/log';
import { reactorConformance } from 'tiny-docker/testing/reactor';
import { ${className}LogDriver } from '../log-driver.js';
import { DeathsReactor } from '../deaths-reactor.js';

logDriverConformance('${name}', () => new ${className}LogDriver(), { rotates: false, readable: false });
reactorConformance('${name}-deaths', async () => new DeathsReactor());
`,
  };
}
