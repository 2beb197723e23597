// Unit: --since/--until values (relative durations, unix seconds, RFC 3339) and replay points.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiTimeParam, formatRfc3339Nano, formatUnixSeconds, parseGoDuration, parseReplayPoint, parseTimeValue } from '../../cli/lib/timestamps.js';

const NOW = Date.parse('2026-11-28T16:04:51.592Z');
const NOW_NS = BigInt(NOW) * 1_000_000n;
const S = 1_000_000_000n;

describe('Go durations', () => {
  it('reads units, fractions, compounds and signs', () => {
    assert.equal(parseGoDuration('10m'), 600n * S);
    assert.equal(parseGoDuration('1h30m'), 5400n * S);
    assert.equal(parseGoDuration('1.5h'), 5400n * S);
    assert.equal(parseGoDuration('250ms'), 250_000_000n);
    assert.equal(parseGoDuration('-5s'), -5n * S);
    assert.equal(parseGoDuration('0'), 0n);
    assert.equal(parseGoDuration('10'), null);
    assert.equal(parseGoDuration('10x'), null);
    assert.equal(parseGoDuration('2026-11-28'), null);
  });
});

describe('time values (docker GetTimestamp)', () => {
  it('reads durations relative to now', () => {
    assert.equal(parseTimeValue('10m', NOW), NOW_NS - 600n * S);
    assert.equal(parseTimeValue('0s', NOW), NOW_NS);
    assert.equal(parseTimeValue('-1h', NOW), NOW_NS + 3600n * S, 'a negative duration is in the future');
  });

  it('reads unix seconds with an optional fraction', () => {
    assert.equal(parseTimeValue('1700000000', NOW), 1_700_000_000n * S);
    assert.equal(parseTimeValue('1700000000.5', NOW), 1_700_000_000n * S + 500_000_000n);
    assert.equal(parseTimeValue('1700000000.000000001', NOW), 1_700_000_000n * S + 1n);
  });

  it('reads RFC 3339 times with zones and nanoseconds exactly', () => {
    assert.equal(parseTimeValue('2026-11-28T16:04:51.592270080Z', NOW), BigInt(Date.parse('2026-11-28T16:04:51Z')) * 1_000_000n + 592_270_080n);
    assert.equal(parseTimeValue('2026-11-28T17:04:51+01:00', NOW), BigInt(Date.parse('2026-11-28T16:04:51Z')) * 1_000_000n);
    assert.equal(parseTimeValue('2026-11-28T16:04Z', NOW), BigInt(Date.parse('2026-11-28T16:04:00Z')) * 1_000_000n);
  });

  it('reads dates without a zone as local time', () => {
    assert.equal(parseTimeValue('2026-11-28', NOW), BigInt(new Date(2026, 10, 28).getTime()) * 1_000_000n);
    assert.equal(parseTimeValue('2026-11-28T16:04:51', NOW), BigInt(new Date(2026, 10, 28, 16, 4, 51).getTime()) * 1_000_000n);
  });

  it('refuses anything else', () => {
    assert.throws(() => parseTimeValue('yesterday', NOW), /failed to parse value as time or duration: "yesterday"/);
    assert.throws(() => parseTimeValue('2026-13-45x', NOW), /failed to parse/);
  });

  it('sends the API what docker sends: whole seconds for durations, numbers as typed, sec.nanos for dates', () => {
    assert.equal(apiTimeParam('10m', NOW), String(Math.floor(NOW / 1000) - 600));
    assert.equal(apiTimeParam('1700000000.5', NOW), '1700000000.5');
    assert.equal(apiTimeParam('2026-11-28T16:04:51.5Z', NOW), `${Date.parse('2026-11-28T16:04:51Z') / 1000}.500000000`);
  });

  it('formats nanoseconds both ways', () => {
    const t = 1_795_881_891n * S + 592_270_080n;
    assert.equal(formatUnixSeconds(t), '1795881891.592270080');
    assert.equal(formatRfc3339Nano(t), '2026-11-28T16:04:51.592270080Z');
  });
});

describe('replay points', () => {
  it('reads an integer as a log position and anything else as a time', () => {
    assert.deepEqual(parseReplayPoint('42', NOW), { position: 42 });
    assert.deepEqual(parseReplayPoint('2026-11-28T03:12:00Z', NOW), { time: '2026-11-28T03:12:00.000000000Z' });
    assert.deepEqual(parseReplayPoint('10m', NOW), { time: '2026-11-28T15:54:51.592000000Z' });
    assert.deepEqual(parseReplayPoint('1700000000.0', NOW), { time: '2023-11-14T22:13:20.000000000Z' });
  });
});
