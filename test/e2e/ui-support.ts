/**
 * What the tests and the bench of the web page share: `mini-docker ui` as a child process, headless
 * Chromium (Debian's, driven by playwright-core), and a large log written with the event log's API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { FileEventLog } from '../../core/eventlog/file-event-log.js';
import { containerStream, type EngineEvent } from '../../events/index.js';
import { CLI } from './harness.js';

export const CHROMIUM = '/usr/bin/chromium';

/** A running `mini-docker ui` and the address it printed. */
export interface UiProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** SIGTERM (by its PID) and wait for it to exit. */
  stop(): Promise<void>;
}

/** Starts `mini-docker ui --listen 127.0.0.1:0 ARGS` and waits for its address. */
export function startUi(env: NodeJS.ProcessEnv, args: readonly string[] = []): Promise<UiProcess> {
  const child = spawn(CLI, ['ui', '--listen', '127.0.0.1:0', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`mini-docker ui printed no address within 60 s: ${out} ${err}`));
    }, 60_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, child, stop });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mini-docker ui exited with ${code}: ${out} ${err}`));
    });
  });
}

/** Headless Chromium with a fresh profile in `profileDir` (removed with the test's folder). */
export function launchChromium(profileDir: string): Promise<BrowserContext> {
  mkdirSync(profileDir, { recursive: true });
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1280, height: 900 },
  });
}

/**
 * Where screenshots are kept: $TINY_DOCKER_UI_ARTEFACTS, else a new folder in the OS temp dir
 * (outside the test run's scratch folder, which `npm test` removes when nothing leaked).
 */
export function artefactsDir(name: string): string {
  const base = process.env.TINY_DOCKER_UI_ARTEFACTS ?? tmpdir();
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, `tiny-docker-ui-${name}-`));
}

const idOf = (n: number): string => createHash('sha256').update(`container ${n}`).digest('hex');

/**
 * Writes `containers` containers with `eventsPerContainer` events each (created, then started and
 * exited in turn, one exit in seven an OOM kill, the last start left running) into a new log at
 * `<dataRoot>/events`, interleaved as a busy engine would: round by round, every container's
 * append of a round sent together (the log commits them as groups). Returns the events written.
 */
export async function writeBusyLog(dataRoot: string, containers: number, eventsPerContainer: number): Promise<number> {
  const log = new FileEventLog(join(dataRoot, 'events'));
  await log.open();
  let written = 0;
  try {
    for (let round = 0; round < eventsPerContainer; round++) {
      const appends: Promise<unknown>[] = [];
      for (let n = 0; n < containers; n++) {
        const id = idOf(n + 1);
        let event: EngineEvent;
        if (round === 0) {
          event = {
            type: 'ContainerCreated',
            data: {
              id, name: `load-${n}`, image: { ref: 'busybox:latest', id: `sha256:${'3f'.repeat(32)}` },
              config: {
                Cmd: ['sh', '-c', `echo ${n}; sleep 1`], Entrypoint: null, Env: ['PATH=/usr/bin:/bin'], WorkingDir: '/', User: '',
                Hostname: id.slice(0, 12), Tty: false, OpenStdin: false, StdinOnce: false, AttachStdin: false, AttachStdout: true, AttachStderr: true, Labels: {},
              },
              hostConfig: { AutoRemove: false, LogConfig: { Type: 'json-file', Config: {} }, Memory: 67_108_864, NanoCpus: 500_000_000, PidsLimit: 100 },
            },
          };
        } else if (round % 2 === 1) {
          event = { type: 'ContainerStarted', data: { id, pid: 1000 + round, shimPid: 999 + round, drivers: ['storage.v1.overlayfs', 'isolator.v1.namespaces'] } };
        } else {
          const oom = (n + round) % 7 === 0;
          event = { type: 'ContainerExited', data: { id, name: `load-${n}`, exitCode: oom ? 137 : round % 3, signal: oom ? 9 : null, oomKilled: oom, finishedAt: new Date().toISOString() } };
        }
        appends.push(log.append(containerStream(id), [event], round === 0 ? 'no-stream' : round));
        written++;
      }
      await Promise.all(appends);
    }
  } finally {
    await log.close();
  }
  return written;
}
