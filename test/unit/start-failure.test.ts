import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ProcessStartError } from '../../core/plugins/driver.js';
import { startCommand, startFailureExitCode } from '../../core/engine/start-failure.js';

describe('start failure exit code (unit: moby 20.10 translateContainerdStartErr and start.go)', () => {
  it('names the command as not found: 127; permission denied: 126; not a directory: 127', () => {
    assert.equal(startFailureExitCode(new Error('x'), 'exec: "nosuch": executable file not found in $PATH', 'nosuch', 0), 127);
    assert.equal(startFailureExitCode(new Error('x'), 'exec: "/bin/nosuch": stat /bin/nosuch: no such file or directory', '/bin/nosuch', 0), 127);
    assert.equal(startFailureExitCode(new Error('x'), 'exec: "/etc/passwd": permission denied', '/etc/passwd', 5), 126);
    assert.equal(startFailureExitCode(new Error('x'), 'chdir /etc/hostname: not a directory', 'sh', 0), 127);
  });

  it('"no such file or directory" that does not name the command is not 127', () => {
    assert.equal(startFailureExitCode(new Error('x'), 'mount /nowhere on /data: no such file or directory', 'sh', 0), 128);
  });

  it('the isolator\'s 126/127 (a folder as command) count; its 125 does not', () => {
    assert.equal(startFailureExitCode(new ProcessStartError('exec: "/etc": is a directory', 126), 'exec: "/etc": is a directory', '/etc', 0), 126);
    assert.equal(startFailureExitCode(new ProcessStartError('mount overlay on /x: No such device', 125), 'mount overlay on /x: No such device', 'sh', 0), 128);
  });

  it('any other failure keeps the exit code the container had, 128 when it was 0', () => {
    assert.equal(startFailureExitCode(new Error('network n not found'), 'network n not found', 'sh', 0), 128);
    assert.equal(startFailureExitCode(new Error('network n not found'), 'network n not found', 'sh', 3), 3);
  });

  it('the command is the entrypoint\'s first word, else the command\'s', () => {
    assert.equal(startCommand({ Entrypoint: ['/ep', 'a'], Cmd: ['c'] }), '/ep');
    assert.equal(startCommand({ Entrypoint: null, Cmd: ['c', 'd'] }), 'c');
    assert.equal(startCommand({ Entrypoint: null, Cmd: null }), '');
  });
});
