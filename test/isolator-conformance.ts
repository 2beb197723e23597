/**
 * The conformance suite every isolator.v1 driver passes: call `isolatorConformance(name, factory)`
 * from a test file with a factory that makes the driver, its context and a root filesystem with a
 * busybox-like `sh`, `echo`, `cat` and `sleep` (what the suite runs). The suite starts containers
 * with fresh 64-hex ids, checks what the engine relies on (output in order with byte offsets and
 * then one exit, stdin, signals, Docker's 127, exec from the first byte, what `held` lists, the
 * recovery calls) and cleans every container up.
 *
 *   isolatorConformance('namespaces', async () => ({ driver: new NamespaceIsolator(), context, rootfs }));
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { ExitStatus } from '../events/index.js';
import { ProcessStartError, type DriverContext, type IsolatorDriver, type ProcessIO, type ProcessSink, type ProcessSpec } from '../core/plugins/driver.js';

export interface IsolatorUnderTest {
  readonly driver: IsolatorDriver;
  readonly context: DriverContext;
  /** A folder with /bin/sh, echo, cat and sleep (the suite's commands). */
  readonly rootfs: string;
  /** Runs once after the suite (remove the rootfs ...). */
  dispose?(): Promise<void>;
}

/** A guard against a hang, not a timing assertion: a case that waits longer has failed. */
const PATIENCE_MS = 60_000;

function within<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${PATIENCE_MS / 1000} s`)), PATIENCE_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** What a process said and how it ended, as the engine hears it. */
interface Heard {
  stdout: string;
  stderr: string;
  readonly offsets: number[];
  /** "output" and "exit" in the order they came. */
  readonly order: string[];
  readonly exit: Promise<ExitStatus>;
  /** Resolves once the output holds `text`. */
  until(text: string): Promise<void>;
}

function hearer(): { heard: Heard; sink: ProcessSink } {
  let resolveExit!: (s: ExitStatus) => void;
  const waiting: { text: string; resolve: () => void }[] = [];
  const heard: Heard = {
    stdout: '', stderr: '', offsets: [], order: [],
    exit: new Promise((resolve) => { resolveExit = resolve; }),
    until: (text) => (heard.stdout.includes(text) ? Promise.resolve() : within(`output "${text}"`, new Promise((resolve) => { waiting.push({ text, resolve }); }))),
  };
  const sink: ProcessSink = {
    output: (stream, data, endOffset) => {
      heard[stream] += data.toString();
      heard.offsets.push(endOffset);
      heard.order.push('output');
      for (const w of waiting.filter((x) => heard.stdout.includes(x.text))) w.resolve();
    },
    exit: (status) => {
      heard.order.push('exit');
      resolveExit(status);
    },
  };
  return { heard, sink };
}

/** Listens to a connected process the way the engine does: everything heard is acknowledged. */
function listen(io: ProcessIO, options: { ack?: boolean } = {}): Heard {
  const { heard, sink } = hearer();
  io.onOutput((stream, data, endOffset) => {
    sink.output(stream, data, endOffset);
    if (options.ack !== false) io.ack(endOffset);
  });
  io.onExit(sink.exit);
  return heard;
}

async function eventually(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + PATIENCE_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: still not so after ${PATIENCE_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function isolatorConformance(name: string, factory: () => Promise<IsolatorUnderTest>): void {
  describe(`isolator conformance: ${name}`, () => {
    let h: IsolatorUnderTest;
    let skipped: string | null = null;
    const started = new Map<string, number>();

    const ready = (t: TestContext): boolean => {
      if (skipped !== null) t.skip(skipped);
      return skipped === null;
    };
    const newId = (): string => randomBytes(32).toString('hex');
    const spec = (id: string, args: string[], extra: Partial<ProcessSpec> = {}): ProcessSpec => ({
      containerId: id, args, env: ['PATH=/bin'], cwd: '/', user: '', hostname: 'conformance', tty: false, stdin: false,
      mounts: [], rootfs: h.rootfs, cgroups: [], ...extra,
    });
    const start = async (id: string, args: string[], extra: Partial<ProcessSpec> = {}): Promise<{ pid: number; shimPid: number }> => {
      started.set(id, 0);
      const r = await within(`start ${args.join(' ')}`, h.driver.start(spec(id, args, extra)));
      started.set(id, r.shimPid);
      return r;
    };
    const end = async (id: string): Promise<void> => {
      await h.driver.cleanup(id, started.get(id) ?? 0);
      started.delete(id);
    };

    before(async () => {
      h = await factory();
      const status = await h.driver.init(h.context);
      if (status.status === 'skipped') skipped = `${h.driver.id} skipped on this host: ${status.reason}`;
    });

    after(async () => {
      if (h === undefined) return;
      for (const [id, shimPid] of started) await h.driver.cleanup(id, shimPid);
      await h.driver.close?.();
      await h.dispose?.();
    });

    it(`its id is isolator.v1.${name}`, () => {
      assert.equal(h.driver.id, `isolator.v1.${name}`);
    });

    it('start runs the command: its output in order with byte offsets, then one exit; exitStatus records it', async (t) => {
      if (!ready(t)) return;
      const id = newId();
      const { pid, shimPid } = await start(id, ['echo', 'a', 'b']);
      assert.ok(pid > 0 && shimPid > 0, 'pids of the process and of what runs it');
      const io = await h.driver.connect(id);
      const heard = listen(io);
      const status = await within('the exit', heard.exit);
      assert.equal(heard.stdout, 'a b\n');
      assert.equal(heard.offsets.at(-1), 4, 'the end offset counts every byte of output');
      assert.deepEqual(heard.order.slice(-1), ['exit'], 'the exit comes after all output');
      assert.equal(status.exitCode, 0);
      assert.equal(status.signal, null);
      assert.ok(Number.isFinite(Date.parse(status.finishedAt)), 'finishedAt is a time');
      io.close();
      assert.equal((await h.driver.exitStatus(id))?.exitCode, 0, 'the exit is recorded for a daemon that was not there');
      await eventually('the process and what ran it are gone', () => !h.driver.isAlive(id, shimPid));
      await end(id);
      assert.equal(await h.driver.exitStatus(id), null, 'cleanup removed the record');
    });

    it("sh -c 'exit 3' ends with exit code 3", async (t) => {
      if (!ready(t)) return;
      const id = newId();
      await start(id, ['sh', '-c', 'exit 3']);
      const io = await h.driver.connect(id);
      const status = await within('the exit', listen(io).exit);
      assert.equal(status.exitCode, 3);
      io.close();
      await end(id);
    });

    it("outputOffset continues the numbering (a restarted container's log goes on)", async (t) => {
      if (!ready(t)) return;
      const id = newId();
      await start(id, ['echo', 'hi'], { outputOffset: 100 });
      const io = await h.driver.connect(id);
      const heard = listen(io);
      await within('the exit', heard.exit);
      assert.equal(heard.stdout, 'hi\n');
      assert.equal(heard.offsets.at(-1), 103);
      io.close();
      await end(id);
    });

    it('stdin: cat gives back what it is written and exits 0 when stdin is closed', async (t) => {
      if (!ready(t)) return;
      const id = newId();
      await start(id, ['cat'], { stdin: true });
      const io = await h.driver.connect(id);
      const heard = listen(io);
      io.write(Buffer.from('one\n'));
      await heard.until('one\n');
      io.write(Buffer.from('two\n'));
      await heard.until('two\n');
      io.closeStdin();
      assert.equal((await within('the exit', heard.exit)).exitCode, 0);
      assert.equal(heard.stdout, 'one\ntwo\n');
      io.close();
      await end(id);
    });

    it('output that was not acknowledged is delivered again to the next connection', async (t) => {
      if (!ready(t)) return;
      const id = newId();
      await start(id, ['cat'], { stdin: true });
      const first = await h.driver.connect(id);
      const unacked = listen(first, { ack: false });
      first.write(Buffer.from('kept\n'));
      await unacked.until('kept\n');
      first.close(); // the daemon let go (a restart): the process goes on
      const second = await h.driver.connect(id);
      const again = listen(second);
      await again.until('kept\n');
      assert.equal(again.offsets[0], 5, 'the same bytes at the same offset');
      second.closeStdin();
      assert.equal((await within('the exit', again.exit)).exitCode, 0);
      assert.equal(again.stdout, 'kept\n', 'once on this connection');
      second.close();
      await end(id);
    });

    it('kill sends the signal; the exit is 128+signal with the signal; isAlive until then', async (t) => {
      if (!ready(t)) return;
      const id = newId();
      const { pid, shimPid } = await start(id, ['sleep', '1000']);
      const io = await h.driver.connect(id);
      const heard = listen(io);
      assert.equal(h.driver.isAlive(id, shimPid), true);
      await h.driver.kill(id, pid, 9);
      const status = await within('the exit', heard.exit);
      assert.equal(status.exitCode, 137);
      assert.equal(status.signal, 9);
      io.close();
      await h.driver.kill(id, pid, 9); // a process that is gone: no error
      await end(id);
    });

    it('a command that is not there fails to start with Docker\'s 127; cleanup removes what was kept', async (t) => {
      if (!ready(t)) return;
      const id = newId();
      await assert.rejects(start(id, ['nosuch']), (err: unknown) => err instanceof ProcessStartError && err.exitCode === 127 && /nosuch/.test(err.message));
      await end(id);
      assert.ok(!(await h.driver.held()).some((x) => x.containerId === id));
    });

    it('exec: the sink hears even a short process from its first byte, then its exit; exit codes; 127', async (t) => {
      if (!ready(t)) return;
      const id = newId();
      const { pid } = await start(id, ['sleep', '1000']);
      const io = await h.driver.connect(id);
      const main = listen(io);
      const execSpec = (args: string[]) => ({ containerId: id, execId: newId(), initPid: pid, args, env: ['PATH=/bin'], cwd: '/', user: '', tty: false, stdin: false, cgroups: [] });
      for (let i = 0; i < 5; i++) {
        const { heard, sink } = hearer();
        const x = await within('exec', h.driver.exec(execSpec(['echo', `hi ${i}`]), sink));
        assert.ok(x.pid > 0);
        assert.equal((await within('the exec\'s exit', heard.exit)).exitCode, 0);
        assert.equal(heard.stdout, `hi ${i}\n`, 'nothing of the output is lost, however early it came');
        assert.equal(heard.order.at(-1), 'exit', 'the exit after the output');
      }
      const coded = hearer();
      await h.driver.exec(execSpec(['sh', '-c', 'exit 5']), coded.sink);
      assert.equal((await within('the exec\'s exit', coded.heard.exit)).exitCode, 5);
      await assert.rejects(h.driver.exec(execSpec(['nosuch']), hearer().sink), (err: unknown) => err instanceof ProcessStartError && err.exitCode === 127);
      await h.driver.kill(id, pid, 9);
      await within('the exit', main.exit);
      io.close();
      await end(id);
    });

    it('held lists each container it keeps something for, with its live shim; cleanup removes it, twice is fine', async (t) => {
      if (!ready(t)) return;
      const id = newId();
      const { shimPid } = await start(id, ['sleep', '1000']);
      const held = (await h.driver.held()).find((x) => x.containerId === id);
      assert.deepEqual(held, { containerId: id, shimPid });
      await end(id);
      assert.equal(h.driver.isAlive(id, shimPid), false, 'cleanup ended what ran the process');
      assert.ok(!(await h.driver.held()).some((x) => x.containerId === id));
      await h.driver.cleanup(id, shimPid);
    });

    it('endExec of an exec that left nothing says gone, and again', async (t) => {
      if (!ready(t)) return;
      const id = newId();
      const { pid } = await start(id, ['sleep', '1000']);
      const x = newId();
      assert.deepEqual(await h.driver.endExec(id, x), { ended: 'gone' });
      assert.deepEqual(await h.driver.endExec(id, x), { ended: 'gone' });
      await h.driver.kill(id, pid, 9);
      await end(id);
    });
  });
}
