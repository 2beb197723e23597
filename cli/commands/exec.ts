import type { ExecInspect } from '../lib/api-types.js';
import { streamWithTerminal } from '../lib/attach-session.js';
import { arg, defineCommand, flag } from '../lib/command-declaration.js';
import { containerPath } from '../lib/container-ops.js';
import { environmentFrom } from '../lib/env-flags.js';
import { CliError } from '../lib/errors.js';
import { detachKeysFlag, processFlags } from '../lib/process-flags.js';
import { consoleSize, parseDetachKeys } from '../lib/terminal.js';

/** `mini-docker exec`: run a command in a running container. */
export default defineCommand({
  summary: 'Execute a command in a running container.',

  description: `Runs COMMAND inside the container's namespaces and cgroup, with its environment and working directory (changed by -e and -w). Flags go before CONTAINER; everything after it is the command, with or without "--".

Exit codes: the command's exit code; 0 with -d; 1 when the container is missing or not running.`,

  examples: [
    '<%= config.bin %> exec web ls /',
    '<%= config.bin %> exec -it web sh',
    'echo data | <%= config.bin %> exec -i web cat',
    '<%= config.bin %> exec -d web touch /tmp/x',
    "<%= config.bin %> exec -e A=1 -w /tmp web sh -c 'echo $A; pwd'",
  ],

  stopAtFirstArg: true,

  usage: 'CONTAINER COMMAND [ARG...]',

  flags: {
    ...processFlags,
    detach: flag.boolean({ char: 'd', summary: 'Detached mode: run the command in the background.', default: false }),
    privileged: flag.boolean({ summary: 'Give extended privileges to the command (accepted; ignored).', default: false }),
    ...detachKeysFlag,
  },

  args: {
    container: arg({ required: true, description: 'Container name or id.' }),
    command: arg({ required: true, description: 'Command and arguments.' }),
  },

  async run(ctx, { flags, argv }) {
    const [ref, ...cmd] = argv as [string, ...string[]];
    let env: string[];
    try {
      env = environmentFrom(flags['env-file'] ?? [], flags.env ?? []);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    const size = consoleSize();
    const created = await ctx.client.json<{ Id: string }>('POST', containerPath(ref, '/exec'), {
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
        Cmd: cmd,
      },
    });
    const execPath = `/exec/${encodeURIComponent(created.Id)}`;
    if (flags.detach) {
      await ctx.client.call('POST', `${execPath}/start`, { json: { Detach: true, Tty: flags.tty } });
      return;
    }
    const connection = await ctx.client.hijack('POST', `${execPath}/start`, { json: { Detach: false, Tty: flags.tty, ConsoleSize: flags.tty ? size : undefined } });
    const result = await streamWithTerminal({
      connection,
      tty: flags.tty,
      attachStdin: flags.interactive,
      resize: (h, w) => ctx.client.call('POST', `${execPath}/resize`, { query: { h, w } }),
      detachKeys: parseDetachKeys(flags['detach-keys']),
      warn: (line) => ctx.err(line),
    });
    if (result.detached) ctx.exit(0);
    // One inspect, as the docker client: the daemon records the exit before it ends the stream.
    const info = await ctx.client.json<ExecInspect>('GET', `${execPath}/json`);
    if (info.Running || info.ExitCode === null) throw new CliError(`the daemon ended the output of exec ${created.Id.slice(0, 12)} before recording its exit: its exit code is unknown`);
    ctx.exit(info.ExitCode);
  },
});
