import { Args, Flags } from '@oclif/core';
import type { ExecInspect } from '../lib/api-types.js';
import { streamWithTerminal } from '../lib/attach-session.js';
import { BaseCommand } from '../lib/base-command.js';
import { containerPath } from '../lib/container-ops.js';
import { environmentFrom } from '../lib/env-flags.js';
import { CliError } from '../lib/errors.js';
import { consoleSize, parseDetachKeys } from '../lib/terminal.js';

/** `mini-docker exec`: run a command in a running container. */
export default class Exec extends BaseCommand {
  static override summary = 'Execute a command in a running container.';

  static override description = `Runs COMMAND inside the container's namespaces and cgroup, with its environment and working directory (changed by -e and -w). Flags go before CONTAINER; everything after it is the command, with or without "--".

Exit codes: the command's exit code; 0 with -d; 1 when the container is missing or not running.`;

  static override examples = [
    '<%= config.bin %> exec web ls /',
    '<%= config.bin %> exec -it web sh',
    'echo data | <%= config.bin %> exec -i web cat',
    '<%= config.bin %> exec -d web touch /tmp/x',
    "<%= config.bin %> exec -e A=1 -w /tmp web sh -c 'echo $A; pwd'",
  ];

  static override strict = false;

  static override flags = {
    interactive: Flags.boolean({ char: 'i', summary: 'Keep STDIN open and attach it.', default: false }),
    tty: Flags.boolean({ char: 't', summary: 'Allocate a pseudo-TTY.', default: false }),
    detach: Flags.boolean({ char: 'd', summary: 'Detached mode: run the command in the background.', default: false }),
    env: Flags.string({ char: 'e', summary: 'Set an environment variable (NAME=value, or NAME to pass the CLI\'s own); repeatable.', multiple: true, multipleNonGreedy: true }),
    'env-file': Flags.string({ summary: 'Read environment variables from a file; repeatable.', multiple: true, multipleNonGreedy: true }),
    workdir: Flags.string({ char: 'w', summary: 'Working directory inside the container.' }),
    user: Flags.string({ char: 'u', summary: 'User name or UID[:GID].' }),
    privileged: Flags.boolean({ summary: 'Give extended privileges to the command (accepted; ignored).', default: false }),
    'detach-keys': Flags.string({ summary: 'Key sequence that detaches from a TTY session.', default: 'ctrl-p,ctrl-q' }),
  };

  static override args = {
    container: Args.string({ ignoreStdin: true, required: true, description: 'Container name or id.' }),
    command: Args.string({ ignoreStdin: true, description: 'Command and arguments (required).' }),
  };

  async run(): Promise<void> {
    const split = this.splitArgv();
    if (split.positional === undefined || split.rest.length === 0) {
      throw new CliError("'mini-docker exec' requires at least 2 arguments: CONTAINER COMMAND [ARG...] (see 'mini-docker exec --help')");
    }
    const { flags } = await this.parse(Exec, [...split.flags, split.positional]);
    const ref = split.positional;
    let env: string[];
    try {
      env = environmentFrom(flags['env-file'] ?? [], flags.env ?? []);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    const size = consoleSize();
    const created = await this.client.json<{ Id: string }>('POST', containerPath(ref, '/exec'), {
      json: {
        User: flags.user ?? '',
        Privileged: flags.privileged,
        Tty: flags.tty,
        ConsoleSize: flags.tty ? size : undefined,
        AttachStdin: flags.interactive && !flags.detach,
        AttachStdout: !flags.detach,
        AttachStderr: !flags.detach,
        Detach: flags.detach,
        DetachKeys: '',
        Env: env.length > 0 ? env : null,
        WorkingDir: flags.workdir ?? '',
        Cmd: split.rest,
      },
    });
    const execPath = `/exec/${encodeURIComponent(created.Id)}`;
    if (flags.detach) {
      await this.client.call('POST', `${execPath}/start`, { json: { Detach: true, Tty: flags.tty } });
      return;
    }
    const connection = await this.client.hijack('POST', `${execPath}/start`, { json: { Detach: false, Tty: flags.tty, ConsoleSize: flags.tty ? size : undefined } });
    const result = await streamWithTerminal({
      connection,
      tty: flags.tty,
      attachStdin: flags.interactive,
      resize: (h, w) => this.client.call('POST', `${execPath}/resize`, { query: { h, w } }),
      detachKeys: parseDetachKeys(flags['detach-keys']),
      warn: (line) => this.err(line),
    });
    if (result.detached) this.exit(0);
    this.exit(await this.exitCodeOf(execPath));
  }

  /** The exec's exit code once the daemon recorded it (it should be set before the stream closes). */
  private async exitCodeOf(execPath: string): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      const info = await this.client.json<ExecInspect>('GET', `${execPath}/json`);
      if ((!info.Running && info.ExitCode !== null) || attempt >= 20) return info.ExitCode ?? 0;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
