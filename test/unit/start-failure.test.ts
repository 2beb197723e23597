import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ProcessStartError } from '../../core/plugins/driver.js';
import { startCommand, startFailureExitCode, startFailureOf } from '../../core/engine/start-failure.js';

/** The isolator's process start failed (the runtime's error): its ProcessStartError. */
const runtime = (message: string, code = 125): ReturnType<typeof startFailureOf> => startFailureOf(new ProcessStartError(message, code));
/** Anything else failed: a driver on the daemon's side. */
const daemonSide = (message: string): ReturnType<typeof startFailureOf> => startFailureOf(new Error(message));

describe('start failure exit code (unit: moby 20.10 translateContainerdStartErr and start.go)', () => {
  it('the runtime names the command as not found: 127; permission denied: 126; not a directory: 127', () => {
    assert.equal(startFailureExitCode(runtime('exec: "nosuch": executable file not found in $PATH'), 'nosuch', 0), 127);
    assert.equal(startFailureExitCode(runtime('exec: "/bin/nosuch": stat /bin/nosuch: no such file or directory'), '/bin/nosuch', 0), 127);
    assert.equal(startFailureExitCode(runtime('exec: "/etc/passwd": permission denied'), '/etc/passwd', 5), 126);
    assert.equal(startFailureExitCode(runtime('chdir /etc/hostname: not a directory'), 'sh', 0), 127);
  });

  it('"no such file or directory" that does not name the command is not 127', () => {
    assert.equal(startFailureExitCode(runtime('mount /nowhere on /data: no such file or directory'), 'sh', 0), 128);
  });

  it('the isolator\'s 126/127 (a folder as command) count; its 125 does not', () => {
    assert.equal(startFailureExitCode(runtime('exec: "/etc": is a directory', 126), '/etc', 0), 126);
    assert.equal(startFailureExitCode(runtime('mount overlay on /x: No such device', 125), 'sh', 0), 128);
  });

  it('a failure on the daemon\'s side keeps the previous code whatever it says: a volume driver\'s EACCES is 128, not 126', () => {
    assert.equal(startFailureExitCode(daemonSide('mount volume data: open /srv/data: permission denied'), 'sh', 0), 128);
    assert.equal(startFailureExitCode(daemonSide('mkdir /srv/x: not a directory'), 'sh', 4), 4);
    assert.equal(startFailureExitCode(daemonSide('exec: "sh": executable file not found in $PATH'), 'sh', 0), 128);
  });

  it('any other failure keeps the exit code the container had, 128 when it was 0', () => {
    assert.equal(startFailureExitCode(daemonSide('network n not found'), 'sh', 0), 128);
    assert.equal(startFailureExitCode(daemonSide('network n not found'), 'sh', 3), 3);
  });

  it('startFailureOf keeps the isolator\'s code only for its ProcessStartError', () => {
    assert.deepEqual(startFailureOf(new ProcessStartError('x', 127)), { message: 'x', processStartCode: 127 });
    assert.deepEqual(startFailureOf(new Error('y')), { message: 'y', processStartCode: null });
  });

  it('the command is the entrypoint\'s first word, else the command\'s', () => {
    assert.equal(startCommand({ Entrypoint: ['/ep', 'a'], Cmd: ['c'] }), '/ep');
    assert.equal(startCommand({ Entrypoint: null, Cmd: ['c', 'd'] }), 'c');
    assert.equal(startCommand({ Entrypoint: null, Cmd: null }), '');
  });
});
