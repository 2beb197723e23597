/** `docker top`: ps's output, as moby reads it (api/server/router/container: parsePSOutput). */
export interface PsTable {
  readonly titles: readonly string[];
  readonly processes: readonly (readonly string[])[];
}

/**
 * Keeps the rows of `pids`, found by the PID column; the last column (the command) takes the rest
 * of the line, spaces included. Throws when there is no PID column (`ps -o comm` alone).
 */
export function parsePsOutput(stdout: string, pids: readonly number[]): PsTable {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  const titles = (lines[0] ?? '').trim().split(/\s+/).filter((t) => t !== '');
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw new Error('Couldn\'t find PID field in ps output');
  const wanted = new Set(pids);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (!wanted.has(Number(fields[pidIndex]))) continue;
    processes.push([...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')]);
  }
  return { titles, processes };
}
