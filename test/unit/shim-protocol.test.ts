import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  FrameDecoder,
  FrameType,
  decodeShimMessage,
  encodeAck,
  encodeFrame,
  encodeResize,
  encodeSignal,
  escapeSpecValue,
  parseReportLine,
  serializeSpec,
  ShimStartError,
  unescapeSpecValue,
} from '../../plugins/isolator-namespaces/shim-protocol.js';

function outputFrame(stream: number, offset: number, data: string): Buffer {
  const p = Buffer.alloc(9);
  p.writeUInt8(stream, 0);
  p.writeBigUInt64BE(BigInt(offset), 1);
  return encodeFrame(FrameType.Output, Buffer.concat([p, Buffer.from(data)]));
}

describe('unit: shim frame protocol', () => {
  it('encodes the header as type + big-endian length', () => {
    const f = encodeFrame(FrameType.Stdin, Buffer.from('abc'));
    assert.deepEqual([...f], [16, 0, 0, 0, 3, 97, 98, 99]);
    assert.deepEqual([...encodeFrame(FrameType.StdinClose)], [17, 0, 0, 0, 0]);
  });

  it('round-trips frames through the decoder', () => {
    const d = new FrameDecoder();
    const frames = d.push(Buffer.concat([encodeFrame(1, Buffer.from('x')), encodeFrame(20, Buffer.alloc(8)), encodeFrame(17)]));
    assert.deepEqual(
      frames.map((f) => [f.type, f.payload.length]),
      [
        [1, 1],
        [20, 8],
        [17, 0],
      ],
    );
    assert.equal(d.buffered, 0);
  });

  it('keeps partial frames until complete, byte by byte', () => {
    const all = Buffer.concat([outputFrame(1, 0, 'hello'), outputFrame(2, 5, 'err')]);
    const d = new FrameDecoder();
    const got: string[] = [];
    for (const byte of all) {
      for (const f of d.push(Buffer.from([byte]))) {
        const m = decodeShimMessage(f);
        assert.ok(m && m.type === 'output');
        got.push(`${m.stream}@${m.offset}-${m.end}:${m.data.toString()}`);
      }
    }
    assert.deepEqual(got, ['stdout@0-5:hello', 'stderr@5-8:err']);
  });

  it('rejects oversized frames', () => {
    const h = Buffer.from([2, 0xff, 0xff, 0xff, 0xff]);
    assert.throws(() => new FrameDecoder().push(h), RangeError);
  });

  it('decodes hello, exit, error and started', () => {
    const hello = Buffer.alloc(10);
    hello.writeUInt16BE(1, 0);
    hello.writeUInt32BE(100, 2);
    hello.writeUInt32BE(101, 6);
    assert.deepEqual(decodeShimMessage({ type: FrameType.Hello, payload: hello }), { type: 'hello', version: 1, shimPid: 100, initPid: 101 });
    const exit = Buffer.alloc(8);
    exit.writeInt32BE(137, 0);
    exit.writeInt32BE(9, 4);
    const at = '2024-01-02T03:04:05.123456789Z';
    assert.deepEqual(decodeShimMessage({ type: FrameType.Exit, payload: Buffer.concat([exit, Buffer.from(at)]) }), {
      type: 'exit',
      exitCode: 137,
      signal: 9,
      finishedAt: at,
    });
    assert.deepEqual(decodeShimMessage({ type: FrameType.Error, payload: Buffer.from('boom') }), { type: 'error', message: 'boom' });
    const started = Buffer.alloc(4);
    started.writeUInt32BE(4242, 0);
    assert.deepEqual(decodeShimMessage({ type: FrameType.Started, payload: started }), { type: 'started', pid: 4242 });
    assert.equal(decodeShimMessage({ type: 99, payload: Buffer.alloc(0) }), null);
  });

  it('decodes STARTED with its start time (12 bytes: pid u32, start time u64, as shim/protocol.c writes it), and without one from a shorter payload', () => {
    const full = Buffer.alloc(12);
    full.writeUInt32BE(4242, 0);
    full.writeBigUInt64BE(2n ** 40n + 123_456n, 4); // beyond 32 bits: both halves are read
    assert.deepEqual(decodeShimMessage({ type: FrameType.Started, payload: full }), { type: 'started', pid: 4242, startTime: 2 ** 40 + 123_456 });
    const unreadable = Buffer.alloc(12);
    unreadable.writeUInt32BE(77, 0);
    assert.deepEqual(decodeShimMessage({ type: FrameType.Started, payload: unreadable }), { type: 'started', pid: 77, startTime: 0 }, 'the shim sends 0 when it could not read the start time');
    const short = Buffer.alloc(8);
    short.writeUInt32BE(4343, 0);
    short.writeUInt32BE(0xffffffff, 4);
    assert.deepEqual(decodeShimMessage({ type: FrameType.Started, payload: short }), { type: 'started', pid: 4343 }, 'an incomplete start time is no start time, and no error');
    assert.throws(() => decodeShimMessage({ type: FrameType.Started, payload: Buffer.alloc(3) }), /frame type 5: payload of 3 bytes, expected at least 4/);
  });

  it('encodes the daemon -> shim control frames', () => {
    assert.deepEqual([...encodeResize(40, 120)], [18, 0, 0, 0, 4, 0, 40, 0, 120]);
    assert.deepEqual([...encodeSignal(15)], [19, 0, 0, 0, 4, 0, 0, 0, 15]);
    const ack = encodeAck(2 ** 40 + 7);
    assert.equal(ack.readUInt8(0), 20);
    assert.equal(ack.readBigUInt64BE(5), BigInt(2 ** 40 + 7));
  });
});

describe('unit: shim spec file', () => {
  it('escapes backslash, newline and tab only, and round-trips', () => {
    const raw = 'a\\b\nc\td e=f';
    assert.equal(escapeSpecValue(raw), 'a\\\\b\\nc\\td e=f');
    assert.equal(unescapeSpecValue(escapeSpecValue(raw)), raw);
    assert.throws(() => unescapeSpecValue('bad\\x'), /invalid escape/);
  });

  it('writes a run spec in the documented order and shape', () => {
    const text = serializeSpec({
      id: 'c1',
      rootfs: '/r',
      mounts: [{ type: 'overlay', source: 'overlay', target: '/r', options: ['lowerdir=/l', 'upperdir=/u', 'workdir=/w'] }],
      args: ['sh', '-c', 'echo "a\nb"'],
      env: ['PATH=/bin', 'X=1\t2'],
      cwd: '/work',
      user: 'nobody',
      hostname: 'h',
      tty: true,
      stdin: false,
      rows: 24,
      cols: 80,
      cgroups: ['/sys/fs/cgroup/pids/x'],
      bufferBytes: 65536,
    });
    assert.equal(
      text,
      [
        'version 1',
        'id c1',
        'rootfs /r',
        'mount overlay overlay /r lowerdir=/l,upperdir=/u,workdir=/w',
        'hostname h',
        'buffer 65536',
        'arg sh',
        'arg -c',
        'arg echo "a\\nb"',
        'env PATH=/bin',
        'env X=1\\t2',
        'cwd /work',
        'user nobody',
        'tty 1',
        'stdin 0',
        'rows 24',
        'cols 80',
        'cgroup /sys/fs/cgroup/pids/x',
        '',
      ].join('\n'),
    );
  });

  it('writes "-" for empty mount options and refuses spaces in mount fields', () => {
    assert.match(serializeSpec({ id: 'c', rootfs: '/r', mounts: [{ type: 'tmpfs', source: 'tmpfs', target: '/r', options: '' }], args: ['x'] }), /^mount tmpfs tmpfs \/r -$/m);
    assert.throws(() => serializeSpec({ id: 'c', rootfs: '/r', mounts: [{ type: 'bind', source: '/a b', target: '/r', options: '' }], args: ['x'] }), /no space/);
    assert.throws(() => serializeSpec({ id: 'c', rootfs: '/r', args: [] }), /at least one/);
  });

  it('writes netns (host, or a namespace to join; nothing for a new one) and hold lines', () => {
    assert.match(serializeSpec({ id: 'c', rootfs: '/r', args: ['x'], netns: 'host', hold: true }), /^netns host\nhold 1$/m);
    assert.match(serializeSpec({ id: 'c', rootfs: '/r', args: ['x'], netns: '/proc/42/ns/net' }), /^netns \/proc\/42\/ns\/net$/m);
    assert.doesNotMatch(serializeSpec({ id: 'c', rootfs: '/r', args: ['x'], netns: 'new', hold: false }), /^(netns|hold) /m);
    assert.throws(() => serializeSpec({ id: 'c', rootfs: '/r', args: ['x'], netns: 'bridge' }), /expected new, host or an absolute path/);
  });

  it('writes bind lines with spaces as \\s, and reads such values back', () => {
    const text = serializeSpec({ id: 'c', rootfs: '/r', binds: [{ source: '/host dir/a\\b', target: '/data', readOnly: true }, { source: '/x', target: '/y z', readOnly: false }], args: ['x'] });
    assert.match(text, /^bind \/host\\sdir\/a\\\\b \/data ro$/m);
    assert.match(text, /^bind \/x \/y\\sz rw$/m);
    assert.equal(unescapeSpecValue('/host\\sdir/a\\\\b'), '/host dir/a\\b');
    assert.throws(() => serializeSpec({ id: 'c', rootfs: '/r', binds: [{ source: 'rel', target: '/y', readOnly: false }], args: ['x'] }), /must be an absolute path/);
  });

  it('writes an exec spec with its pid', () => {
    assert.equal(serializeSpec({ pid: 42, args: ['id'] }), 'version 1\npid 42\narg id\n');
  });

  it('parses the run report line', () => {
    assert.deepEqual(parseReportLine('ok 10 11'), { shimPid: 10, initPid: 11 });
    const err = parseReportLine('error 127 exec: "nope": executable file not found in $PATH');
    assert.ok(err instanceof ShimStartError);
    assert.equal(err.exitCode, 127);
    assert.match(err.message, /executable file not found/);
  });
});
