/**
 * `cp` into a running container under `--userns-remap`, as the container's root: the daemon runs
 * this file with `nsenter --target <container pid> --user -- node extract-main.js SPEC`, the
 * folder to extract into as descriptor 3 (the daemon resolved it inside the container's root and
 * opened it component by component with O_NOFOLLOW: core/archive/held-dir.ts openInside), and the
 * archive on stdin. The extraction starts from that descriptor, never from a path: this process
 * has the host's root and mount namespace, where a symlink the container made would lead onto the
 * host.
 * In the container's user namespace its ids are the container's: what it makes in the container's
 * idmapped root filesystem is allowed (the host's root is not mapped there, and the kernel refuses
 * its creations with EOVERFLOW), owners are set as the archive (or `owner`) says and land as the
 * range's ids on the host, and it can write nowhere the container's root cannot.
 *
 * SPEC is JSON: `{"noOverwriteDirNonDir": bool, "owner"?: {uid, gid}}`.
 * Prints "e" on stdout after each entry; on failure one JSON line on stderr, `{"error", "code"?,
 * "refused"}` (refused: noOverwriteDirNonDir said no), and exits 1.
 */
import { extractTar, OverwriteRefusedError } from './extract-tar.js';

/** Where the extraction goes: the folder the daemon hands over as descriptor 3. */
export const EXTRACT_TARGET = '/proc/self/fd/3';

/** What the daemon asks of the extraction. */
export interface ExtractSpec {
  readonly noOverwriteDirNonDir: boolean;
  readonly owner?: { readonly uid: number; readonly gid: number };
}

/** How the extraction failed, as the daemon reads it back. */
export interface ExtractFailure {
  readonly error: string;
  readonly code?: string;
  readonly refused: boolean;
}

function isIds(value: unknown): value is { uid: number; gid: number } {
  return typeof value === 'object' && value !== null && typeof (value as { uid?: unknown }).uid === 'number' && typeof (value as { gid?: unknown }).gid === 'number';
}

function parseSpec(text: string): ExtractSpec {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null) throw new Error('extract-main: the spec is not an object');
  const { target, noOverwriteDirNonDir, owner } = value as { target?: unknown; noOverwriteDirNonDir?: unknown; owner?: unknown };
  if (target !== undefined) throw new Error('extract-main: the spec takes no target (the folder is descriptor 3)');
  if (typeof noOverwriteDirNonDir !== 'boolean') throw new Error('extract-main: noOverwriteDirNonDir must be a boolean');
  if (owner !== undefined && !isIds(owner)) throw new Error('extract-main: owner must be {uid, gid}');
  return { noOverwriteDirNonDir, ...(owner !== undefined ? { owner } : {}) };
}

async function main(): Promise<void> {
  try {
    const spec = parseSpec(process.argv[2] ?? '');
    await extractTar(process.stdin, EXTRACT_TARGET, {
      noOverwriteDirNonDir: spec.noOverwriteDirNonDir,
      preserveOwner: true,
      ...(spec.owner ? { owner: spec.owner } : {}),
      onEntry: () => { process.stdout.write('e\n'); },
      onWarning: (m) => process.stderr.write(`${JSON.stringify({ warning: m })}\n`),
    });
  } catch (err) {
    const failure: ExtractFailure = {
      error: err instanceof Error ? err.message : String(err),
      ...(typeof (err as NodeJS.ErrnoException | undefined)?.code === 'string' ? { code: (err as NodeJS.ErrnoException).code } : {}),
      refused: err instanceof OverwriteRefusedError,
    };
    process.stderr.write(`${JSON.stringify(failure)}\n`);
    process.exitCode = 1;
  }
}

await main();
