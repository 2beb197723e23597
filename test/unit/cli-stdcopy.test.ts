// Unit: the stdcopy demuxer (8-byte headers → stdout/stderr), fed in pieces of every size.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StdcopyDemuxer, encodeFrame, type OutputStream } from '../../cli/lib/stdcopy.js';

function collect(): { sink: (s: OutputStream, p: Buffer) => void; out: Record<OutputStream, string>; frames: [OutputStream, string][] } {
  const out = { stdout: '', stderr: '' };
  const frames: [OutputStream, string][] = [];
  return { out, frames, sink: (s, p) => { out[s] += p.toString(); frames.push([s, p.toString()]); } };
}

describe('stdcopy demuxer', () => {
  const stream = Buffer.concat([encodeFrame('stdout', 'hi\n'), encodeFrame('stderr', 'oops\n'), encodeFrame('stdout', ''), encodeFrame('stdout', 'x'.repeat(70_000))]);

  it('matches the stdcopy frame of docs/docker-api-compat.md wire rule 6', () => {
    assert.deepEqual([...encodeFrame('stdout', 'hi\n')], [1, 0, 0, 0, 0, 0, 0, 3, 0x68, 0x69, 0x0a]);
  });

  it('splits a whole stream into runs of one stream, in order', () => {
    const c = collect();
    new StdcopyDemuxer(c.sink).push(stream);
    assert.equal(c.out.stdout, `hi\n${'x'.repeat(70_000)}`);
    assert.equal(c.out.stderr, 'oops\n');
    assert.deepEqual(c.frames.map(([s, p]) => [s, p.length]), [['stdout', 3], ['stderr', 5], ['stdout', 70_000]]);
  });

  it('joins consecutive frames of one stream in a chunk into one write', () => {
    const c = collect();
    const lines = Array.from({ length: 1000 }, (_, i) => encodeFrame(i === 500 ? 'stderr' : 'stdout', `line ${i}\n`));
    new StdcopyDemuxer(c.sink).push(Buffer.concat(lines));
    assert.equal(c.frames.length, 3);
    assert.deepEqual(c.frames.map(([s]) => s), ['stdout', 'stderr', 'stdout']);
    assert.equal(c.out.stderr, 'line 500\n');
    assert.equal(c.out.stdout, Array.from({ length: 1000 }, (_, i) => (i === 500 ? '' : `line ${i}\n`)).join(''));
  });

  for (const size of [1, 3, 7, 8, 9, 13, 4096]) {
    it(`gives the same result when fed ${size}-byte chunks (headers and payloads split anywhere)`, () => {
      const c = collect();
      const d = new StdcopyDemuxer(c.sink);
      for (let i = 0; i < stream.length; i += size) d.push(stream.subarray(i, i + size));
      assert.equal(c.out.stdout, `hi\n${'x'.repeat(70_000)}`);
      assert.equal(c.out.stderr, 'oops\n');
      assert.equal(d.buffered, 0);
    });
  }

  it('holds back an incomplete frame', () => {
    const c = collect();
    const d = new StdcopyDemuxer(c.sink);
    const frame = encodeFrame('stderr', 'abc');
    d.push(frame.subarray(0, 9));
    assert.equal(c.out.stderr, '');
    assert.equal(d.buffered, 9);
    d.push(frame.subarray(9));
    assert.equal(c.out.stderr, 'abc');
  });

  it('raises a system-error frame (type 3) as an error with its text, after the output before it', () => {
    const c = collect();
    const d = new StdcopyDemuxer(c.sink);
    assert.throws(() => d.push(Buffer.concat([encodeFrame('stdout', 'before\n'), encodeFrame('system', 'boom')])), /error from daemon in stream: boom/);
    assert.equal(c.out.stdout, 'before\n');
  });

  it('rejects an unknown stream type', () => {
    const bad = encodeFrame('stdout', 'x');
    bad[0] = 7;
    assert.throws(() => new StdcopyDemuxer(() => {}).push(bad), /Unrecognized input header: 7/);
  });
});
