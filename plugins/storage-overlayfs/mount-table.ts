import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/** Runs a command; rejects with its stderr in the message. */
export function run(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, (error, _stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')}: ${stderr.trim() || error.message}`));
      else resolve();
    });
  });
}

/** The mount points of this process's mount namespace (/proc/self/mounts, octal escapes decoded). */
export async function mountPoints(): Promise<string[]> {
  const table = await readFile('/proc/self/mounts', 'utf8');
  return table
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (line.split(' ')[1] ?? '').replace(/\\([0-7]{3})/g, (_m, octal: string) => String.fromCharCode(parseInt(octal, 8))));
}

/** Mounts an overlay at `target`; `options` are the overlay's data options (lowerdir=…, …). */
export function mountOverlay(target: string, options: readonly string[]): Promise<void> {
  return run('mount', ['-t', 'overlay', 'overlay', '-o', options.join(','), target]);
}

/** Unmounts every mount at or below `path`, deepest first; falls back to a lazy unmount when busy; what is already gone is not an error. */
export async function unmountAll(path: string): Promise<void> {
  const below = (await mountPoints()).filter((target) => target === path || target.startsWith(`${path}/`));
  for (const target of [...new Set(below)].sort((a, b) => b.length - a.length)) {
    try {
      await run('umount', [target]);
    } catch (err) {
      // Someone else (a concurrent release or remove) may have unmounted it meanwhile: that is fine.
      if (!(await mountPoints()).includes(target)) continue;
      try {
        await run('umount', ['-l', target]);
      } catch (lazyErr) {
        if ((await mountPoints()).includes(target)) throw lazyErr instanceof Error ? lazyErr : err;
      }
    }
  }
}
