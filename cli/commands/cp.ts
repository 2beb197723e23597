import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { getRebaseName, prepareArchiveCopy, splitPathDirEntry, CopyRuleError, type CopyDestination } from '../../core/archive/copy-paths.js';
import { extractTar } from '../../core/archive/extract-tar.js';
import { decodePathStat, isGoDir, isGoRegular, isGoSymlink, PATH_STAT_HEADER, type ContainerPathStat } from '../../core/archive/path-stat.js';
import { rebaseTar } from '../../core/archive/rebase-tar.js';
import { writeTarOf } from '../../core/archive/write-tar.js';
import { arg, defineCommand, flag } from '../lib/command-declaration.js';
import type { CommandContext } from '../lib/command-runtime.js';
import { containerPath } from '../lib/container-ops.js';
import { copyInfoDestinationPath, copyInfoSourcePath, resolveLocalPath, splitCpArg } from '../lib/cp-local.js';
import { CliError } from '../lib/errors.js';
import { humanSize } from '../lib/human.js';

/** Counts the bytes that pass (what "Successfully copied 2.05kB" reports: the archive's size). */
class ByteCounter extends Transform {
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null, data?: Buffer) => void): void {
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

const DESCRIPTION = `CONTAINER:SRC_PATH DEST_PATH|-  or  SRC_PATH|- CONTAINER:DEST_PATH. Container paths are taken from the container's "/" (the leading "/" is optional); local ones from the current folder. Works on running and stopped containers, and through their bind mounts (a path under a bind is the bind's source). Folders are copied whole, with modes; a trailing "/" asks for a folder, "SRC/." copies a folder's content. "-" reads a tar from stdin (extracted into the folder DEST_PATH) or writes one to stdout.

Ownership: files copied into a container keep the uid/gid they have here, unless -a gives them the container's user (its User setting); files copied out are owned by whoever runs cp. A symlink is copied as a link unless -L follows it (the source's last element). A symlink inside the container never leads outside it.

On a terminal, prints "Successfully copied <size> to <dest>" on stderr (the size of the archive) unless -q.

Exit codes: 0, or 1 (no such container or path, not a directory, read-only mount, ...).`;

/** HEAD of a container path; undefined when the daemon says it is not there (or cannot say). */
async function statPath(ctx: CommandContext, container: string, path: string): Promise<ContainerPathStat | undefined> {
  try {
    const res = await ctx.client.request('HEAD', containerPath(container, '/archive'), { query: { path } });
    res.resume();
    const header = res.headers[PATH_STAT_HEADER.toLowerCase()];
    return header === undefined ? undefined : decodePathStat(header);
  } catch {
    return undefined;
  }
}

async function copyFromContainer(ctx: CommandContext, container: string, requested: string, destination: string, followLink: boolean, progress: boolean): Promise<void> {
  let srcPath = requested;
  let rebaseName = '';
  if (followLink) {
    const stat = await statPath(ctx, container, srcPath);
    // The daemon gives where the link leads, resolved inside the container (absolute).
    if (stat !== undefined && isGoSymlink(stat.mode)) ({ resolved: srcPath, rebaseName } = getRebaseName(srcPath, stat.linkTarget));
  }
  const res = await ctx.client.request('GET', containerPath(container, '/archive'), { query: { path: srcPath } });
  const header = res.headers[PATH_STAT_HEADER.toLowerCase()];
  if (header === undefined) throw new CliError(`the daemon sent no ${PATH_STAT_HEADER} header for ${container}:${srcPath}`);
  const stat = decodePathStat(header);
  const counter = new ByteCounter();
  if (destination === '-') {
    await pipeline(res, counter, process.stdout, { end: false });
    return;
  }
  const dstPath = resolveLocalPath(destination);
  const dstInfo = await copyInfoDestinationPath(dstPath);
  const prepared = prepareArchiveCopy({ path: srcPath, isDir: isGoDir(stat.mode), rebaseName }, dstInfo);
  const top = stat.name === '/' ? '.' : stat.name;
  const final = prepared.rebase?.to ?? (rebaseName !== '' ? rebaseName : top);
  const counted = res.pipe(counter);
  res.on('error', (err: Error) => counter.destroy(err));
  const archive: Readable = final === top ? counted : rebaseTar(counted, top, final);
  await extractTar(archive, prepared.dstDir, { preserveOwner: false, noOverwriteDirNonDir: true, onWarning: (m) => ctx.warn(m) });
  if (progress) ctx.err(`Successfully copied ${humanSize(counter.bytes)} to ${dstPath}`);
}

async function copyToContainer(ctx: CommandContext, source: string, container: string, requested: string, followLink: boolean, archive: boolean, progress: boolean): Promise<void> {
  let dstInfo: CopyDestination = { path: requested, exists: false, isDir: false };
  let stat = await statPath(ctx, container, requested);
  // A link at the destination is followed, inside the container.
  if (stat !== undefined && isGoSymlink(stat.mode)) {
    dstInfo = { ...dstInfo, path: stat.linkTarget };
    stat = await statPath(ctx, container, stat.linkTarget);
  }
  if (stat !== undefined && !isGoDir(stat.mode) && !isGoRegular(stat.mode)) {
    throw new CliError(`destination "${container}:${requested}" must be a directory or a regular file`);
  }
  if (stat !== undefined) dstInfo = { ...dstInfo, exists: true, isDir: isGoDir(stat.mode) };
  const counter = new ByteCounter();
  let body: Readable;
  let dstDir: string;
  if (source === '-') {
    if (!dstInfo.isDir) throw new CliError(`destination "${container}:${requested}" must be a directory`);
    if (process.stdin.isTTY) throw new CliError('cp - needs a tar archive on stdin (redirect or pipe one)');
    body = process.stdin.pipe(counter);
    dstDir = dstInfo.path;
  } else {
    const srcInfo = await copyInfoSourcePath(source, followLink);
    const prepared = prepareArchiveCopy(srcInfo, dstInfo);
    const { dir, base } = splitPathDirEntry(srcInfo.path);
    const top = prepared.rebase?.to ?? (srcInfo.rebaseName !== '' ? srcInfo.rebaseName : base);
    const tar = new PassThrough();
    writeTarOf(dir, base, top, tar, { onWarning: (m) => ctx.warn(m) }).catch((err: unknown) => tar.destroy(err instanceof Error ? err : new Error(String(err))));
    body = tar.pipe(counter);
    tar.on('error', (err: Error) => counter.destroy(err));
    dstDir = prepared.dstDir;
  }
  await ctx.client.call('PUT', containerPath(container, '/archive'), {
    query: { path: dstDir, noOverwriteDirNonDir: true, copyUIDGID: archive ? true : undefined },
    body,
    contentType: 'application/x-tar',
  });
  if (progress) ctx.err(`Successfully copied ${humanSize(counter.bytes)} to ${container}:${dstInfo.path}`);
}

/** `mini-docker cp`: files between a container (running or stopped) and the host, or a tar on stdin/stdout. */
export default defineCommand({
  summary: 'Copy files/folders between a container and the local filesystem.',

  description: DESCRIPTION,

  examples: [
    '<%= config.bin %> cp web:/etc/hosts ./hosts',
    '<%= config.bin %> cp ./site/. web:/usr/share/www',
    '<%= config.bin %> cp web:/var/log - | tar -t',
    'tar -c conf | <%= config.bin %> cp - web:/etc',
    '<%= config.bin %> cp -a ./data stopped:/srv/',
  ],

  flags: {
    archive: flag.boolean({ char: 'a', summary: 'Archive mode (copy all uid/gid information).' }),
    'follow-link': flag.boolean({ char: 'L', summary: 'Always follow symbol link in SRC_PATH.' }),
    quiet: flag.boolean({ char: 'q', summary: 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached.' }),
  },

  args: {
    source: arg({ required: true, description: 'CONTAINER:SRC_PATH, a local path, or - (a tar on stdin).' }),
    destination: arg({ required: true, description: 'CONTAINER:DEST_PATH, a local path, or - (a tar on stdout).' }),
  },

  async run(ctx, { flags, args }) {
    const src = splitCpArg(args.source);
    const dst = splitCpArg(args.destination);
    if (src.container !== null && dst.container !== null) throw new CliError('copying between containers is not supported');
    if (src.container === null && dst.container === null) throw new CliError('must specify at least one container source');
    if (src.path === '') throw new CliError('source can not be empty');
    if (dst.path === '') throw new CliError('destination can not be empty');
    const progress = !flags.quiet && process.stderr.isTTY === true;
    if (progress) ctx.err('Preparing to copy...');
    try {
      if (src.container !== null) await copyFromContainer(ctx, src.container, src.path, dst.path, flags['follow-link'], progress);
      else if (dst.container !== null) await copyToContainer(ctx, src.path, dst.container, dst.path, flags['follow-link'], flags.archive, progress);
    } catch (err) {
      if (err instanceof CopyRuleError) throw new CliError(err.message);
      throw err;
    }
  },
});
