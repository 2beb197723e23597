// Unit: docker top's reading of ps output (moby's parsePSOutput).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePsOutput } from '../../core/engine/ps-output.js';

describe('parsePsOutput', () => {
  const aux = [
    'USER         PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND',
    'root           1  0.0  0.0   1000   500 ?        Ss   17:00   0:00 /sbin/init splash',
    'root        4242  0.0  0.0   2000   600 ?        S    17:01   0:00 sh -c while true; do sleep 1; done',
    'nobody      4243  0.0  0.0   2000   600 pts/0    S+   17:01   0:00 sleep 1',
    '',
  ].join('\n');

  it('keeps the container\'s rows by the PID column; the command keeps its spaces', () => {
    const t = parsePsOutput(aux, [4242, 4243]);
    assert.deepEqual(t.titles, ['USER', 'PID', '%CPU', '%MEM', 'VSZ', 'RSS', 'TTY', 'STAT', 'START', 'TIME', 'COMMAND']);
    assert.deepEqual(t.processes.map((p) => [p[1], p.at(-1)]), [['4242', 'sh -c while true; do sleep 1; done'], ['4243', 'sleep 1']]);
    assert.equal(t.processes[0]!.length, t.titles.length);
  });

  it('works with the PID anywhere, and fails clearly without one', () => {
    assert.deepEqual(parsePsOutput('CMD   PID\nsleep 7\n', [7]).processes, [['sleep', '7']]);
    assert.throws(() => parsePsOutput('COMMAND\nsleep\n', [7]), /Couldn't find PID field in ps output/);
  });
});
