// Unit: raw mode is always restored (restore, exit, signals), resize forwarding and the detach keys.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { DetachKeys, RawTerminal, consoleSize, forwardResize, parseDetachKeys, type ProcessHooks } from '../../cli/lib/terminal.js';

class FakeTty {
  isTTY = true;
  isRaw = false;
  readonly calls: boolean[] = [];
  setRawMode(mode: boolean): this {
    this.isRaw = mode;
    this.calls.push(mode);
    return this;
  }
}

class FakeProcess extends EventEmitter implements ProcessHooks {
  exitCode: number | undefined;
  exit(code?: number): void {
    this.exitCode = code;
  }
}

describe('raw terminal guard', () => {
  it('enters raw mode and restores the previous mode once', () => {
    const tty = new FakeTty();
    const proc = new FakeProcess();
    const t = new RawTerminal(tty, proc);
    assert.equal(t.enter(), true);
    assert.equal(tty.isRaw, true);
    assert.equal(t.active, true);
    t.restore();
    t.restore();
    assert.equal(tty.isRaw, false);
    assert.deepEqual(tty.calls, [true, false]);
    assert.equal(proc.listenerCount('exit'), 0, 'no listener left behind');
    assert.equal(proc.listenerCount('SIGTERM'), 0);
  });

  it('restores on process exit, whatever made the process exit', () => {
    const tty = new FakeTty();
    const proc = new FakeProcess();
    new RawTerminal(tty, proc).enter();
    proc.emit('exit');
    assert.equal(tty.isRaw, false);
  });

  it('restores on a fatal signal and exits with 128 + the signal number', () => {
    for (const [signal, code] of [['SIGTERM', 143], ['SIGHUP', 129], ['SIGINT', 130]] as const) {
      const tty = new FakeTty();
      const proc = new FakeProcess();
      new RawTerminal(tty, proc).enter();
      proc.emit(signal, signal);
      assert.equal(tty.isRaw, false, signal);
      assert.equal(proc.exitCode, code, signal);
    }
  });

  it('puts back a terminal that was already raw as raw', () => {
    const tty = new FakeTty();
    tty.isRaw = true;
    const t = new RawTerminal(tty, new FakeProcess());
    t.enter();
    t.restore();
    assert.equal(tty.isRaw, true);
  });

  it('does nothing for an input that is not a terminal', () => {
    const tty = new FakeTty();
    tty.isTTY = false;
    const proc = new FakeProcess();
    const t = new RawTerminal(tty, proc);
    assert.equal(t.enter(), false);
    assert.equal(t.active, false);
    assert.deepEqual(tty.calls, []);
    assert.equal(proc.listenerCount('exit'), 0);
  });

  it('survives a terminal that is gone when restoring', () => {
    const tty = new FakeTty();
    const t = new RawTerminal(tty, new FakeProcess());
    t.enter();
    tty.setRawMode = () => {
      throw new Error('EIO');
    };
    assert.doesNotThrow(() => t.restore());
  });
});

describe('terminal size', () => {
  it('reads [rows, cols], [0, 0] without a terminal', () => {
    assert.deepEqual(consoleSize({ isTTY: true, rows: 40, columns: 120 }), [40, 120]);
    assert.deepEqual(consoleSize({ isTTY: false, rows: 40, columns: 120 }), [0, 0]);
  });

  it('sends the size at once and on every resize, until stopped', async () => {
    const out = Object.assign(new EventEmitter(), { isTTY: true, rows: 40, columns: 120 });
    const sent: [number, number][] = [];
    const stop = forwardResize(out, async (h, w) => { sent.push([h, w]); }, () => {});
    await new Promise((r) => setImmediate(r));
    out.rows = 50;
    out.emit('resize');
    stop();
    out.emit('resize');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sent, [[40, 120], [50, 120]]);
  });
});

describe('detach keys', () => {
  it('detaches on Ctrl-P Ctrl-Q and forwards what came before', () => {
    const d = new DetachKeys();
    const r = d.feed(Buffer.from([0x61, 0x10, 0x11, 0x62]));
    assert.equal(r.detach, true);
    assert.deepEqual([...r.forward], [0x61]);
  });

  it('spots the sequence across chunks and holds the first key back meanwhile', () => {
    const d = new DetachKeys();
    const first = d.feed(Buffer.from([0x61, 0x10]));
    assert.deepEqual([...first.forward], [0x61]);
    assert.equal(first.detach, false);
    assert.equal(d.feed(Buffer.from([0x11])).detach, true);
  });

  it('forwards the held key when the sequence does not complete', () => {
    const d = new DetachKeys();
    d.feed(Buffer.from([0x10]));
    const r = d.feed(Buffer.from([0x78]));
    assert.deepEqual([...r.forward], [0x10, 0x78]);
    const again = new DetachKeys().feed(Buffer.from([0x10, 0x10, 0x11]));
    assert.deepEqual([...again.forward], [0x10]);
    assert.equal(again.detach, true);
  });

  it('parses --detach-keys', () => {
    assert.deepEqual(parseDetachKeys('ctrl-p,ctrl-q'), [0x10, 0x11]);
    assert.deepEqual(parseDetachKeys('a,ctrl-x'), [0x61, 0x18]);
    assert.throws(() => parseDetachKeys('ctrl-pq'), /invalid detach keys/);
  });
});
