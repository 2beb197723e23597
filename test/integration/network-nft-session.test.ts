// Integration (root, nftables): the driver's long-lived `nft -i` session. A script is one
// transaction: applied whole, or refused whole with nft's error; scripts one after another keep
// their own errors; a closed session refuses with no nft text, which is the driver's cue to fall
// back to `nft -f -`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { HostCommandError } from '../../plugins/network-bridge/host-commands.js';
import { NftSession } from '../../plugins/network-bridge/nft-session.js';

const exec = promisify(execFile);
const isRoot = process.getuid?.() === 0;

describe('nft session', { skip: isRoot ? false : 'needs root' }, () => {
  const table = `mini-docker-s${randomBytes(3).toString('hex')}`;
  const session = new NftSession();
  after(async () => {
    session.close();
    await exec('nft', ['delete', 'table', 'ip', table]).catch(() => undefined);
  });

  const elements = async (): Promise<string> => (await exec('nft', ['list', 'map', 'ip', table, 'm'])).stdout;

  it('applies a script as one transaction, and refuses a failing one whole with nft\'s error', async () => {
    await session.run([`add table ip ${table}`, `add map ip ${table} m { type inet_service : ipv4_addr . inet_service; }`]);
    await session.run([`add element ip ${table} m { 8080 comment "a" : 10.0.0.2 . 80 }`]);
    assert.match(await elements(), /8080 comment "a" : 10\.0\.0\.2 \. 80/);
    await assert.rejects(
      session.run([`add element ip ${table} m { 8081 : 10.0.0.3 . 80 }`, `add element ip ${table} m { 8080 : 10.0.0.9 . 80 }`]),
      (e: unknown) => e instanceof HostCommandError && /File exists/.test(e.stderr),
    );
    assert.doesNotMatch(await elements(), /8081/, 'nothing of the refused script was applied');
    await assert.rejects(session.run([`add element ip ${table} nosuchmap { 1 }`]), (e: unknown) => e instanceof HostCommandError && /No such file or directory/.test(e.stderr));
    // the session goes on after errors, each script with its own outcome
    await session.run([`add element ip ${table} m { 9090 : 10.0.0.4 . 90 }`, `delete element ip ${table} m { 8080 }`]);
    assert.match(await elements(), /9090/);
    assert.doesNotMatch(await elements(), /8080/);
  });

  it('refuses commands spanning lines, and after close refuses without nft text', async () => {
    await assert.rejects(session.run(['add table ip x\nadd table ip y']), /a command spans lines/);
    session.close();
    assert.equal(session.alive, false);
    await assert.rejects(session.run([`add element ip ${table} m { 1 : 10.0.0.5 . 1 }`]), (e: unknown) => e instanceof HostCommandError && e.stderr === '');
  });
});
