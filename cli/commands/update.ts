import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../lib/base-command.js';
import { containerPath, forEachRef } from '../lib/container-ops.js';
import { restartPolicyFlag } from '../lib/create-body.js';
import { CliError } from '../lib/errors.js';
import { limitFlags, limitsFromFlags } from '../lib/limit-flags.js';

/** `mini-docker update`: change the resource limits of containers. */
export default class Update extends BaseCommand {
  static override summary = 'Update the resource limits or the restart policy of one or more containers.';

  static override description = 'Takes the resource flags of run (-m, --memory-swap, -c, --cpus, --cpu-shares, --cpuset-cpus, --pids-limit, ...) and --restart, and applies them to each container, running or not. Prints each name.\n\nExit codes: 0; 1 when a value is invalid or a container could not be updated.';

  static override examples = ['<%= config.bin %> update -m 256m web', "<%= config.bin %> update -c '50000 100000' --pids-limit 100 web db", '<%= config.bin %> update --restart unless-stopped web'];

  static override strict = false;

  static override flags = {
    ...limitFlags,
    restart: Flags.string({ summary: 'Restart policy: no, always, unless-stopped, on-failure[:max-retries].' }),
  };

  static override args = {
    container: Args.string({ ignoreStdin: true, required: true, description: 'Container names or ids.' }),
  };

  async run(): Promise<void> {
    const { flags, argv } = await this.parse(Update);
    const limits = limitsFromFlags(flags, 1);
    const restart = restartPolicyFlag(flags.restart, false, 1);
    if (Object.keys(limits).length === 0 && !restart) throw new CliError('you must provide one or more flags when using this command');
    const body = { ...limits, ...(restart ? { RestartPolicy: restart } : {}) };
    const code = await forEachRef(argv.map(String), async (ref) => {
      const result = await this.client.json<{ Warnings?: readonly string[] | null } | undefined>('POST', containerPath(ref, '/update'), { json: body });
      for (const w of result?.Warnings ?? []) this.err(`WARNING: ${w}`);
      return ref;
    }, { out: (l) => this.out(l), err: (l) => this.err(l) });
    if (code !== 0) this.exit(code);
  }
}
