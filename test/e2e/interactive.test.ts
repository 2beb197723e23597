import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, TestDaemon, runCommand } from './harness.js';
import { PtySession } from './pty.js';
import { alive } from '../fixtures/proc-stat.js';

/**
 * `mini-docker run -it` as a person uses it: a host shell on a real pty (see pty.ts), the CLI
 * started from it, typed input, what the terminal shows, a window resize, the detach keys.
 */
/** busybox sh's prompt; with line editing it then asks the terminal where the cursor is (ESC [6n). */
const ESC = String.fromCharCode(27);
const PROMPT = new RegExp(`/ # (${ESC}\\[6n)?$`);

describe('e2e: interactive containers on a real terminal', () => {
  const d = new TestDaemon('interactive');
  const md = CLI;
  let host: PtySession;
  let ttyPath = '';
  let modes = '';
  /** A marker the shell computes, so it never matches the echo of the line that prints it. */
  let markers = 0;

  /** Types a command line and returns what it printed, found between two markers the shell computes. */
  async function typed(line: string): Promise<string> {
    const n = 1000 + ++markers;
    host.send(`echo "@@$((${n - 1}+1))<"; ${line}; echo ">$((${n - 1}+1))@@"\r`);
    const m = await host.expect(new RegExp(`@@${n}<\\r*\\n([\\s\\S]*?)>${n}@@`));
    return m[1]!.replace(/\r/g, '').replace(new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]`, 'g'), '');
  }

  /** The host shell's $? (the exit code of the CLI that just returned). */
  async function lastExitCode(): Promise<number> {
    host.send('echo "RC=$?"\r');
    return Number((await host.expect(/RC=(\d+)/))[1]);
  }

  before(async () => {
    await d.start();
    host = new PtySession('sh', { ...d.env, PS1: 'HOST$ ', TERM: 'xterm' });
    host.send('PS1="HOST$ "; stty rows 24 cols 80; echo "TTY=$(tty)"; echo "MODES=$(stty -g)"\n');
    ttyPath = (await host.expect(/TTY=(\/dev\/pts\/\d+)/))[1]!;
    modes = (await host.expect(/MODES=([0-9a-f:]+)/))[1]!;
    await host.expect(/HOST\$ $/);
  });

  after(async () => {
    host.send('\nexit\n');
    await host.close();
    await d.cleanup();
  });

  it('run -it busybox sh: a prompt, own processes with sh as PID 1, own hostname, lo and its own eth0, resize, exit restores the terminal', async () => {
    host.send(`${md} run -it --name it-shell busybox sh\n`);
    await host.expect(PROMPT);
    const id = (await d.cli(['inspect', '-f', '{{.Id}}', 'it-shell'])).stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);

    const ps = await typed('ps -o pid,comm');
    const procs = ps.split('\n').map((l) => /^\s*(\d+)\s+(\S+)\s*$/.exec(l)).filter((m) => m !== null).map((m) => [Number(m[1]), m[2]!] as const);
    assert.deepEqual(procs.map(([, cmd]) => cmd).sort(), ['ps', 'sh'], ps);
    assert.deepEqual(procs.find(([pid]) => pid === 1), [1, 'sh'], ps);

    assert.match(await typed('echo "H=$(hostname)"'), new RegExp(`H=${id.slice(0, 12)}\\b`));
    assert.equal((await typed('ls /sys/class/net')).trim(), 'eth0  lo');
    const links = (await typed('ip -o link | cut -d: -f2')).split(/\s+/).filter(Boolean);
    assert.deepEqual(links.map((l) => l.replace(/@if\d+$/, '')), ['lo', 'eth0'], 'ip link shows lo and its own eth0 (the default bridge)');
    assert.match(await typed('test -e /work || echo "host-$((1+1))-hidden"'), /host-2-hidden/);
    assert.match(await typed('stty size'), /^24 80$/m, 'the container starts with the terminal\'s size');

    // Resize the window: the CLI hears SIGWINCH and tells the daemon, which sizes the container's pty.
    const resized = await runCommand('stty', ['-F', ttyPath, 'rows', '41', 'cols', '123']);
    assert.equal(resized.code, 0, resized.stderr);
    let size = '';
    for (let i = 0; i < 40 && !/^41 123$/m.test(size); i++) {
      size = await typed('stty size');
      if (!/^41 123$/m.test(size)) await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(size, /^41 123$/m);

    host.send('exit 7\r');
    await host.expect(/HOST\$ $/);
    assert.equal(await lastExitCode(), 7, 'run -it exits with the shell\'s code');
    assert.equal((await typed('stty -g')).trim(), modes, 'the terminal modes are back as they were');
    await runCommand('stty', ['-F', ttyPath, 'rows', '24', 'cols', '80']);
    assert.match((await d.cli(['ps', '-a', '--filter', 'name=it-shell'])).stdout, /Exited \(7\)/);
    assert.equal((await d.cli(['rm', 'it-shell'])).code, 0);
  });

  it('Ctrl-P Ctrl-Q detaches (the container keeps running, the terminal is restored), attach takes it back', async () => {
    host.send(`${md} run -it --name it-detach busybox sh\n`);
    await host.expect(PROMPT);
    await typed('echo "before $((2+3))"');
    host.send('\x10\x11');
    await host.expect(/HOST\$ $/);
    assert.equal(await lastExitCode(), 0);
    assert.equal((await typed('stty -g')).trim(), modes, 'the terminal modes are back after a detach');
    const inspect = await d.cli(['inspect', '-f', '{{.State.Running}}', 'it-detach']);
    assert.equal(inspect.stdout.trim(), 'true', 'the container keeps running after the detach');

    host.send(`${md} attach it-detach\n`);
    // An attach shows no new prompt until something is typed; the shell is still the same one.
    assert.match(await typed('echo "pid1=$(cat /proc/1/comm) attached-$((6*7))"'), /pid1=sh attached-42/);
    host.send('exit 3\r');
    await host.expect(/HOST\$ $/);
    assert.equal(await lastExitCode(), 3, 'attach exits with the container\'s code');
    assert.equal((await typed('stty -g')).trim(), modes);
    const state = await d.cli(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'it-detach']);
    assert.equal(state.stdout.trim(), 'exited 3');
    assert.equal((await d.cli(['rm', 'it-detach'])).code, 0);
  });

  it('exec -it into a container whose /dev/ptmx it replaced (a link to a host path, a FIFO): one clear error, no hang, the host untouched; put back, it works', async () => {
    // A host FIFO with a writer blocked in its open: a shim that followed the container's link on the host's side would release it.
    const fifo = join(d.dataRoot, 'host-fifo');
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', `echo touched > ${fifo}`], { stdio: 'ignore' });
    try {
      assert.equal((await d.cli(['run', '-d', '--name', 'ptmx', 'busybox', 'sleep', '1000'])).code, 0);
      for (const [how, reason] of [[`ln -s ${fifo} /dev/ptmx`, 'open the container\'s /dev/ptmx'], ['mkfifo /dev/ptmx', 'is a FIFO, not its devpts ptmx']] as const) {
        const made = await d.cli(['exec', 'ptmx', 'sh', '-c', `rm -f /dev/ptmx && ${how}`]);
        assert.equal(made.code, 0, made.stderr);
        // One line: the exec reads the terminal while it runs, so nothing is typed until it returned.
        const shown = await typed(`${md} exec -it ptmx tty; echo "EXEC-RC=$?"`);
        assert.ok(shown.includes(reason), `${how}: ${shown}`);
        assert.match(shown, /EXEC-RC=(?!0\b)\d+/);
      }
      // The kernel's word, not the child's exit event (which may not have been delivered yet).
      assert.equal(alive(writer.pid!), true, 'nothing opened the host\'s FIFO');
      assert.equal((await d.cli(['exec', 'ptmx', 'sh', '-c', 'rm -f /dev/ptmx && ln -s pts/ptmx /dev/ptmx'])).code, 0);
      assert.match(await typed(`${md} exec -it ptmx tty`), /^\/dev\/pts\/\d+$/m);
    } finally {
      writer.kill('SIGKILL');
      await d.cli(['rm', '-f', 'ptmx']);
    }
  });
});

