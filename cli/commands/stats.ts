import type { ContainerSummary, StatsSample } from '../lib/api-types.js';
import type { CommandContext } from '../lib/command-runtime.js';
import { arg, defineCommand, flag } from '../lib/command-declaration.js';
import { containerPath } from '../lib/container-ops.js';
import { errorLine } from '../lib/errors.js';
import type { StatsContext } from '../lib/stats-view.js';
import { renderStats, statsContext } from '../lib/stats-view.js';

/** `mini-docker stats`: live resource usage. */
export default defineCommand({
  summary: 'Display a live stream of container resource usage statistics.',

  description: `Shows CONTAINER ID, NAME, CPU %, MEM USAGE / LIMIT, MEM %, NET I/O, BLOCK I/O and PIDS for the given containers (all running ones by default, all with -a), refreshed every second like docker stats. CPU % comes from two readings (the daemon's current and previous sample), as docker computes it.

--no-stream prints one table and exits; --json implies --no-stream. --format takes json or a template with the fields ID, Name, CPUPerc, MemUsage, MemPerc, NetIO, BlockIO, PIDs.`,

  examples: [
    '<%= config.bin %> stats',
    '<%= config.bin %> stats --no-stream web',
    "<%= config.bin %> stats --no-stream --format '{{.Name}} {{.CPUPerc}} {{.MemUsage}}'",
  ],

  json: true,

  variadic: true,

  flags: {
    all: flag.boolean({ char: 'a', summary: 'Show all containers (default shows just running).' }),
    'no-stream': flag.boolean({ summary: 'Disable streaming stats and only pull the first result.' }),
    'no-trunc': flag.boolean({ summary: 'Do not truncate output.' }),
    format: flag.string({ summary: 'Format: table, json, or a Go-like template.' }),
  },

  args: {
    container: arg({ description: 'Container names or ids (default: all running).' }),
  },

  async run(ctx, { flags, argv }) {
    let refs = argv.map(String);
    if (refs.length === 0) {
      const list = await ctx.client.json<ContainerSummary[]>('GET', '/containers/json', { query: { all: flags.all || undefined } });
      refs = list.map((c) => c.Id);
    }
    const noTrunc = flags['no-trunc'];
    if (flags['no-stream'] || ctx.jsonEnabled) {
      const samples = await Promise.all(refs.map((ref) => ctx.client.json<StatsSample>('GET', containerPath(ref, '/stats'), { query: { stream: false } })));
      if (!ctx.jsonEnabled) process.stdout.write(renderStats(samples.map((s, i) => statsContext(s, refs[i]!, noTrunc)), flags.format));
      return samples;
    }
    await follow(ctx, refs, noTrunc, flags.format);
    return [];
  },
});

/** One streamed request per container; the table is redrawn at most once a second. */
async function follow(ctx: CommandContext, refs: readonly string[], noTrunc: boolean, format: string | undefined): Promise<void> {
  const latest = new Map<string, StatsContext>();
  for (const ref of refs) latest.set(ref, statsContext({}, ref, noTrunc));
  const tty = process.stdout.isTTY === true;
  const draw = (): void => {
    const table = renderStats([...latest.values()], format);
    process.stdout.write(tty ? `\x1b[2J\x1b[H${table}` : table);
  };
  const timer = setInterval(draw, 1000);
  process.once('SIGINT', () => {
    clearInterval(timer);
    process.exit(0);
  });
  draw();
  await Promise.all(
    refs.map(async (ref) => {
      try {
        for await (const sample of ctx.client.stream<StatsSample>('GET', containerPath(ref, '/stats'), { query: { stream: true } })) {
          latest.set(ref, statsContext(sample, ref, noTrunc));
        }
      } catch (err) {
        latest.delete(ref);
        ctx.err(errorLine(err));
      }
    }),
  );
  clearInterval(timer);
  draw();
}
