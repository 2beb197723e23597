// Log driver figures: write 10,000 lines through the driver, then time reading them all and the
// last 100 (plus the last 100 of a 1,000,000-line log, which must not read the whole file).
// Then end to end (as root; skipped with --no-e2e): a real daemon in a temporary root, a container
// that printed 10,000 lines, and the time of `mini-docker logs` (a whole CLI process), of the logs
// route alone (an HTTP client in this process) and of the real `docker logs` against our daemon.
// Prints one JSON object. Run: `npm run build && node dist/bench/logs.bench.js`.
// Reference: `docker logs` of 10,000 lines takes about 140 ms on the development machine.
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DriverContext, LogDriver, LogEntry } from '../core/plugins/driver.js';
import { JsonFileLogDriver } from '../plugins/log-json-file/json-file-log-driver.js';
import { encodeJsonLogLine } from '../plugins/log-json-file/json-log-line.js';
import { TextFileLogDriver } from '../plugins/log-text-file/text-file-log-driver.js';
import { CLI, TestDaemon } from '../test/e2e/harness.js';

const LINES = 10_000;
const BIG_LINES = 1_000_000;
const RUNS = 7;
const DOCKER_LOGS_10K_MS = 140;
const id = 'b'.repeat(64);

function entry(i: number): LogEntry {
  const time = new Date(Date.UTC(2026, 0, 2) + i).toISOString().replace('Z', '123456Z');
  return { stream: i % 10 === 9 ? 'stderr' : 'stdout', time, data: Buffer.from(`${i} the quick brown fox jumps over the lazy dog\n`) };
}

function context(stateDir: string): DriverContext {
  return { dataRoot: stateDir, execRoot: stateDir, stateDir, runDir: stateDir, logger: { info() {}, warn() {}, error() {} } };
}

async function timed(task: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await task();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Median and best of RUNS runs, in ms, rounded to 0.1. */
async function measure(task: () => Promise<unknown>): Promise<{ medianMs: number; bestMs: number }> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await timed(task));
  times.sort((a, b) => a - b);
  const round = (n: number): number => Math.round(n * 10) / 10;
  return { medianMs: round(times[Math.floor(RUNS / 2)]!), bestMs: round(times[0]!) };
}

async function drain(iterable: AsyncIterable<LogEntry>, expected: number): Promise<void> {
  let n = 0;
  for await (const _ of iterable) n++;
  if (n !== expected) throw new Error(`read ${n} entries, expected ${expected}`);
}

async function benchDriver(driver: LogDriver, stateDir: string): Promise<Record<string, unknown>> {
  await driver.init(context(stateDir));
  const writer = await driver.open(id, {});
  let offset = 0;
  const writeMs = await timed(async () => {
    for (let i = 0; i < LINES; i++) {
      const e = entry(i);
      offset += e.data.length;
      await writer.write(e, offset);
    }
  });
  await writer.close();
  return {
    write10kMs: Math.round(writeMs * 10) / 10,
    readAll10k: await measure(() => drain(driver.read(id, {}), LINES)),
    tail100of10k: await measure(() => drain(driver.read(id, { tail: 100 }), 100)),
  };
}

/** Runs a command to its end, draining its output; rejects on a non-zero exit; resolves with the stdout byte count. */
function runDrained(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let err = '';
    child.stdout.on('data', (b: Buffer) => { bytes += b.length; });
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(bytes) : reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}: ${err}`))));
  });
}

/** GET the logs route over the unix socket, as a client would, draining the framed body. */
function logsOverApi(socketPath: string, id: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: `/containers/${id}/logs?stdout=1&stderr=1`, method: 'GET' }, (res) => {
      let bytes = 0;
      res.on('data', (b: Buffer) => { bytes += b.length; });
      res.on('end', () => (res.statusCode === 200 ? resolve(bytes) : reject(new Error(`logs: HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** `mini-docker logs`, the logs route, `docker logs` of 10,000 lines from a real daemon. */
async function benchEndToEnd(): Promise<Record<string, unknown>> {
  const d = new TestDaemon('logs-bench');
  try {
    await d.start();
    const run = await d.cli(['run', '-d', 'busybox', 'sh', '-c',
      `i=0; while [ $i -lt ${LINES} ]; do echo "$i the quick brown fox jumps over the lazy dog"; i=$((i+1)); done`]);
    if (run.code !== 0) throw new Error(`run: ${run.stderr}`);
    const id = run.stdout.trim();
    await d.cli(['wait', id]);
    const expected = await logsOverApi(d.socketPath, id);
    const dockerInstalled = await runDrained('docker', ['--version'], process.env).then(() => true, () => false);
    const dockerEnv = { ...d.env, DOCKER_HOST: `unix://${d.socketPath}` };
    return {
      // the whole `mini-docker logs` process: node and oclif start-up, inspect, the logs route, demuxing, writing
      cliLogs10k: await measure(() => runDrained(CLI, ['logs', id], d.env)),
      // the same CLI doing one small request, to tell start-up from reading
      cliInspectBaseline: await measure(() => runDrained(CLI, ['inspect', '-f', '{{.Id}}', id], d.env)),
      // the logs route alone: what the daemon takes to read and frame the 10,000 lines
      apiLogs10k: await measure(async () => {
        const bytes = await logsOverApi(d.socketPath, id);
        if (bytes !== expected) throw new Error(`logs route: ${bytes} bytes, expected ${expected}`);
      }),
      // the real docker client (a Go binary, like the 140 ms reference) against this daemon
      ...(dockerInstalled ? { dockerClientLogs10k: await measure(() => runDrained('docker', ['logs', id], dockerEnv)) } : {}),
    };
  } finally {
    await d.cleanup();
  }
}

const scratch = await mkdtemp(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'logs-bench-'));
try {
  const jsonFile = await benchDriver(new JsonFileLogDriver(), join(scratch, 'json-file'));
  const textFile = await benchDriver(new TextFileLogDriver(), join(scratch, 'text-file'));

  // A 1,000,000-line json-file log, written directly (the driver would take a while), then tail 100.
  const bigDir = join(scratch, 'json-file-big');
  await mkdir(join(bigDir, id), { recursive: true });
  const lines: Buffer[] = [];
  let offset = 0;
  for (let i = 0; i < BIG_LINES; i++) {
    const e = entry(i);
    lines.push(encodeJsonLogLine(e, (offset += e.data.length)));
  }
  await writeFile(join(bigDir, id, `${id}-json.log`), Buffer.concat(lines));
  const big = new JsonFileLogDriver();
  await big.init(context(bigDir));
  const tail100of1M = await measure(() => drain(big.read(id, { tail: 100 }), 100));

  const readAllMs = (jsonFile.readAll10k as { medianMs: number }).medianMs;
  const endToEnd = process.argv.includes('--no-e2e') ? { skipped: '--no-e2e' }
    : process.getuid?.() !== 0 ? { skipped: 'needs root (a real daemon)' } : await benchEndToEnd();
  console.log(
    JSON.stringify(
      {
        lines: LINES,
        runs: RUNS,
        dockerLogs10kReferenceMs: DOCKER_LOGS_10K_MS,
        jsonFile: { ...jsonFile, tail100of1M },
        textFile,
        endToEnd,
        jsonFileReadAllFasterThanDocker: readAllMs < DOCKER_LOGS_10K_MS,
      },
      null,
      2,
    ),
  );
} finally {
  await rm(scratch, { recursive: true, force: true });
}
