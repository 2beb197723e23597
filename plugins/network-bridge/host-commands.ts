/**
 * The few programs the bridge driver runs, each given a whole script on stdin so one step costs one
 * process: `ip -batch -` (iproute2) on the host and `nft -f -` (one atomic nftables transaction).
 * A container's own wiring goes through the netlink session (netlink-session.ts), not through these.
 */
import { spawn } from 'node:child_process';

export class HostCommandError extends Error {
  constructor(message: string, readonly stderr: string) {
    super(message);
    this.name = 'HostCommandError';
  }
}

/** Runs `command args` with `input` on stdin; resolves with stdout, rejects with the first line of stderr. */
export function runWithInput(command: string, args: readonly string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => reject(new HostCommandError(`${command}: ${e.message} (is it installed? see scripts/debian-packages.sh)`, '')));
    child.on('close', (code) => {
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else {
        const first = stderr.split('\n').find((l) => l.trim() !== '') ?? `exit code ${code}`;
        reject(new HostCommandError(`${[command, ...args].join(' ')} failed: ${first.trim()}`, stderr));
      }
    });
    child.stdin.on('error', () => undefined); // a program that exits early closes its stdin: its exit code says why
    child.stdin.end(input);
  });
}

/** `ip -batch -` in the daemon's own namespace. */
export function ipBatch(lines: readonly string[]): Promise<string> {
  return runWithInput('ip', ['-batch', '-'], lines.join('\n') + '\n');
}

/** One nft transaction: every line applies, or none. */
export function nftScript(lines: readonly string[]): Promise<string> {
  return runWithInput('nft', ['-f', '-'], lines.join('\n') + '\n');
}

/** `nft -j list table <family> <name>` parsed; null when the table does not exist. */
export async function nftListTable(family: string, name: string): Promise<unknown> {
  try {
    return JSON.parse(await runWithInput('nft', ['-j', 'list', 'table', family, name], '')) as unknown;
  } catch (e) {
    if (e instanceof HostCommandError && /No such file or directory/.test(e.stderr)) return null;
    throw e;
  }
}

/** `ip -json link show` of the given type (bridge, veth). */
export async function ipLinks(type: string): Promise<unknown> {
  return JSON.parse(await runWithInput('ip', ['-json', '-details', 'link', 'show', 'type', type], '')) as unknown;
}
