/**
 * Commit benchmark (not a test): a container's upper dir with 20,000 small files (plus deleted
 * lower files and a replaced folder when run as root, made through a real overlay mount) is
 * streamed as an OCI layer by the overlayfs driver's diff (diffStream), through the exporter
 * (exportDiff), into the content store (importLayerTar), piped as `commit` does. Prints one JSON object with the median of a few runs. Run:
 * `node dist/bench/commit.bench.js` (scratch space in TINY_DOCKER_BENCH_SCRATCH or the OS temp
 * dir, about 200 MB, removed afterwards).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { promisify } from 'node:util';
import { ContentStore } from '../core/images/content-store.js';
import { CommitExporter } from '../plugins/exporter-commit/commit-exporter.js';
import { diffStream } from '../plugins/storage-overlayfs/upper-dir.js';

const run = promisify(execFile);
const FILES = 20_000;
const PER_DIR = 100;
const RUNS = 3;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** 20,000 files of 100 to 2,000 bytes in 200 folders, written under `root`. */
async function writeSmallFiles(root: string): Promise<number> {
  let bytes = 0;
  for (let i = 0; i < FILES; i++) {
    const dir = join(root, 'data', `d${Math.floor(i / PER_DIR)}`);
    if (i % PER_DIR === 0) await mkdir(dir, { recursive: true });
    const content = Buffer.alloc(100 + ((i * 7919) % 1900), i % 251);
    bytes += content.length;
    await writeFile(join(dir, `f${i}`), content);
  }
  return bytes;
}

async function main(): Promise<void> {
  const base = process.env.TINY_DOCKER_BENCH_SCRATCH ?? tmpdir();
  await mkdir(base, { recursive: true });
  const scratch = await mkdtemp(join(base, 'tiny-docker-bench-commit-'));
  const upper = join(scratch, 'upper');
  const merged = join(scratch, 'merged');
  let mounted = false;
  try {
    const exporter = new CommitExporter();
    await exporter.init({ dataRoot: scratch, execRoot: scratch, stateDir: scratch, runDir: scratch, logger: { info: () => undefined, warn: () => undefined, error: () => undefined } });
    let dataBytes: number;
    let whiteouts = 0;
    if (isRoot) {
      // A real container's upper dir: changes made through an overlay mount.
      const [lower, work] = [join(scratch, 'lower'), join(scratch, 'work')];
      for (const d of [upper, work, merged, join(lower, 'gone'), join(lower, 'replaced')]) await mkdir(d, { recursive: true });
      for (let i = 0; i < 200; i++) await writeFile(join(lower, 'gone', `g${i}`), 'x');
      for (let i = 0; i < 100; i++) await writeFile(join(lower, 'replaced', `r${i}`), 'x');
      await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged]);
      mounted = true;
      dataBytes = await writeSmallFiles(merged);
      for (let i = 0; i < 200; i += 2) await rm(join(merged, 'gone', `g${i}`));
      whiteouts = 100;
      await rm(join(merged, 'replaced'), { recursive: true });
      await mkdir(join(merged, 'replaced'));
      await run('umount', [merged]);
      mounted = false;
    } else {
      dataBytes = await writeSmallFiles(upper);
    }

    // The diff through the exporter alone, into a counting sink.
    const exportMs: number[] = [];
    let layerBytes = 0;
    for (let r = 0; r < RUNS; r++) {
      const sink = new Writable({ write: (_chunk, _e, done) => done() });
      const start = performance.now();
      layerBytes = await exporter.exportDiff(diffStream(upper, () => undefined), sink);
      exportMs.push(performance.now() - start);
    }

    // The diff piped into the content store, as commit does.
    const store = new ContentStore(join(scratch, 'store'));
    const commitMs: number[] = [];
    let diffId = '';
    for (let r = 0; r < RUNS; r++) {
      const pipe = new PassThrough({ highWaterMark: 1 << 20 });
      const start = performance.now();
      const [, blob] = await Promise.all([exporter.exportDiff(diffStream(upper, () => undefined), pipe), store.importLayerTar(pipe)]);
      commitMs.push(performance.now() - start);
      diffId = blob.diffId;
      await store.removeBlob(blob.diffId);
    }

    const ms = median(commitMs);
    console.log(JSON.stringify({
      benchmark: 'commit',
      overlay: isRoot,
      files: FILES,
      whiteouts,
      opaqueDirs: isRoot ? 1 : 0,
      dataBytes,
      layerBytes,
      diffId,
      runs: RUNS,
      exportDiffMs: Math.round(median(exportMs)),
      exportAndImportMs: Math.round(ms),
      filesPerSecond: Math.round(FILES / (ms / 1000)),
      megabytesPerSecond: Number((layerBytes / (1 << 20) / (ms / 1000)).toFixed(1)),
      node: process.version,
    }, null, 2));
  } finally {
    if (mounted) await run('umount', ['-l', merged]).catch(() => undefined);
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
