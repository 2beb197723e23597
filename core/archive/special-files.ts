import { execFile } from 'node:child_process';

export type SpecialFileKind = 'char-device' | 'block-device' | 'fifo';

/**
 * Creates a device node or fifo at `path` with exactly `mode` (Node has no mknod, so this runs
 * coreutils' `mknod`/`mkfifo`). The caller has made sure nothing exists at `path` and that its
 * parent folders are real folders inside the target.
 */
export function makeSpecialFile(path: string, kind: SpecialFileKind, mode: number, major = 0, minor = 0): Promise<void> {
  const modeText = (mode & 0o7777).toString(8);
  const [command, args] =
    kind === 'fifo'
      ? ['mkfifo', ['-m', modeText, '--', path]]
      : ['mknod', ['-m', modeText, '--', path, kind === 'char-device' ? 'c' : 'b', String(major), String(minor)]];
  return new Promise((resolve, reject) => {
    execFile(command, args, (error, _stdout, stderr) => {
      if (error) reject(new Error(`${command} ${path}: ${stderr.trim() || error.message}`));
      else resolve();
    });
  });
}
