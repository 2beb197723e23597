import { Args } from '@oclif/core';
import type { TopResponse } from '../lib/api-types.js';
import { BaseCommand } from '../lib/base-command.js';
import { containerPath } from '../lib/container-ops.js';
import { CliError } from '../lib/errors.js';
import { renderTable } from '../lib/table.js';

/** `mini-docker top`: the processes of a container. */
export default class Top extends BaseCommand {
  static override summary = 'Display the running processes of a container.';

  static override description = 'Lists the processes in the container\'s cgroup as ps shows them on the host; extra arguments are ps options (default -ef).\n\nExit codes: 0, or 1 (no such container, not running).';

  static override examples = ['<%= config.bin %> top web', '<%= config.bin %> top web -o pid,comm', '<%= config.bin %> top web --json'];

  static override enableJsonFlag = true;

  static override strict = false;

  static override args = {
    container: Args.string({ ignoreStdin: true, required: true, description: 'Container name or id.' }),
    psOptions: Args.string({ ignoreStdin: true, description: 'ps options (e.g. aux).' }),
  };

  async run(): Promise<TopResponse> {
    const split = this.splitArgv();
    if (split.positional === undefined) throw new CliError("'mini-docker top' requires at least 1 argument: CONTAINER [ps OPTIONS] (see 'mini-docker top --help')");
    await this.parse(Top, [...split.flags, split.positional]);
    const psArgs = split.rest;
    const top = await this.client.json<TopResponse>('GET', containerPath(split.positional, '/top'), { query: { ps_args: psArgs.length > 0 ? psArgs.join(' ') : undefined } });
    if (!this.jsonEnabled()) process.stdout.write(renderTable([top.Titles, ...top.Processes]));
    return top;
  }
}
