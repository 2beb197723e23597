// Unit: hijacked and streamed endpoints (attach, exec, logs, events) over a real unix socket, with
// the real engine on in-memory drivers behind the API server.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseUntil } from '../../core/api/event-routes.js';
import { parseFrames } from '../../core/api/stdcopy.js';
import type { ContainerEngine } from '../../core/engine/container-engine.js';
import { refusingExecExits } from '../fixtures/refusing-event-log.js';
import { serveSeededRig, startHarness, type Harness, type RawClient } from './api-harness.js';
import { engineRig, type EngineRig, type Seeded } from './engine-rig.js';

const HEAD_END = '\r\n\r\n';

function headOf(data: Buffer): { head: string; rest: Buffer } | undefined {
  const i = data.indexOf(HEAD_END);
  return i < 0 ? undefined : { head: data.subarray(0, i).toString('latin1'), rest: data.subarray(i + HEAD_END.length) };
}

function upgradeRequest(path: string, body = ''): string {
  return `POST ${path} HTTP/1.1\r\nHost: api\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: ${body ? 'application/json' : 'text/plain'}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

describe('API streams: attach (hijack)', () => {
  let rig: EngineRig & { readonly ids: Seeded };
  let h: Harness<ContainerEngine>;
  serveSeededRig((s) => { ({ rig, h } = s); });

  it('replies 101 UPGRADED at once, frames output with stdcopy, and closes when the process exits', async () => {
    await h.request('POST', '/containers/create?name=echo1', { body: JSON.stringify({ Image: 'busybox', Cmd: ['echo', 'hi'], AttachStdout: true, AttachStderr: true }) });
    const client: RawClient = await h.connect();
    client.socket.write(upgradeRequest('/v1.50/containers/echo1/attach?stderr=1&stdout=1&stream=1'));
    const data = await client.waitFor((d) => headOf(d) !== undefined);
    const { head } = headOf(data)!;
    assert.match(head, /^HTTP\/1\.1 101 UPGRADED\r\n/);
    assert.match(head, /\r\nContent-Type: application\/vnd\.docker\.multiplexed-stream\r\n/);
    assert.match(head, /\r\nConnection: Upgrade\r\n/);
    assert.match(head, /\r\nUpgrade: tcp/);
    assert.match(head, /\r\nApi-Version: 1\.50/);
    assert.equal(h.engine.container('echo1').status, 'created');
    assert.equal((await h.request('POST', '/v1.50/containers/echo1/start')).status, 204);
    const all = await client.waitEnd();
    const { frames, rest } = parseFrames(headOf(all)!.rest);
    assert.deepEqual(frames.map((f) => [f.stream, f.payload.toString()]), [[1, 'hi\n']]);
    assert.equal(rest.length, 0);
  });

  it('TTY: raw bytes and the raw-stream content type; stdin goes to the process; a client that leaves detaches', async () => {
    const id = await rig.run('tty-cat', ['cat'], { config: { Tty: true, OpenStdin: true } });
    const client = await h.connect();
    client.socket.write(upgradeRequest('/v1.50/containers/tty-cat/attach?stdin=1&stdout=1&stderr=1&stream=1'));
    const { head } = headOf(await client.waitFor((d) => headOf(d) !== undefined))!;
    assert.match(head, /Content-Type: application\/vnd\.docker\.raw-stream/);
    client.socket.write('ls\r');
    const got = await client.waitFor((d) => headOf(d)!.rest.toString() === 'ls\r');
    assert.ok(got, 'cat gave back what the client typed, unframed');
    // The client leaving detaches (noticed at the next write, as a FIN alone looks like a half-close).
    client.socket.destroy();
    await new Promise((r) => setTimeout(r, 20));
    rig.isolator.print(id, 'stdout', 'anyone there?\r\n');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(h.engine.container('tty-cat').status, 'running', 'the process goes on without its client');
  });

  it('half-close: stdin EOF reaches the process and output still flows until it exits', async () => {
    await h.request('POST', '/containers/create?name=cat1', { body: JSON.stringify({ Image: 'busybox', Cmd: ['cat'], OpenStdin: true, StdinOnce: true }) });
    const client = await h.connect();
    client.socket.write(upgradeRequest('/v1.50/containers/cat1/attach?stdin=1&stdout=1&stream=1') + 'early');
    await client.waitFor((d) => headOf(d) !== undefined);
    assert.equal((await h.request('POST', '/v1.50/containers/cat1/start')).status, 204);
    await client.waitFor((d) => parseFrames(headOf(d)!.rest).frames.length === 1);
    client.socket.end(); // shutdown(SHUT_WR): cat's stdin ends, so it exits
    const all = await client.waitEnd();
    assert.deepEqual(parseFrames(headOf(all)!.rest).frames.map((f) => f.payload.toString()), ['early']);
    await rig.untilStatus(h.engine.container('cat1').id, 'exited');
    assert.equal(h.engine.container('cat1').exitCode, 0);
  });

  it('API < 1.42 gets the raw-stream content type even without TTY', async () => {
    const client = await h.connect();
    client.socket.write(upgradeRequest('/v1.41/containers/web/attach?stdout=1&stream=1'));
    const { head } = headOf(await client.waitFor((d) => headOf(d) !== undefined))!;
    assert.match(head, /Content-Type: application\/vnd\.docker\.raw-stream/);
    client.socket.destroy();
  });

  it('an unknown container is a plain 404 on the upgraded connection, not a 101', async () => {
    const client = await h.connect();
    client.socket.write(upgradeRequest('/v1.50/containers/nosuch/attach?stdout=1&stream=1'));
    const all = await client.waitEnd();
    const { head, rest } = headOf(all)!;
    assert.match(head, /^HTTP\/1\.1 404 Not Found\r\n/);
    assert.match(head, /\r\nContent-Type: application\/json\r\n/);
    assert.deepEqual(JSON.parse(rest.toString()), { message: 'No such container: nosuch' });
  });

  it('without Upgrade (dockerode), attach is a 200 stream with the same framing', async () => {
    await h.request('POST', '/containers/create?name=echo2', { body: JSON.stringify({ Image: 'busybox', Cmd: ['echo', 'plain'] }) });
    const { res } = await h.open('POST', '/containers/echo2/attach?stream=true&stdout=true&stderr=true', { headers: { 'Content-Type': 'application/json' }, body: '{"stream":true,"stdout":true}' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/vnd.docker.multiplexed-stream');
    await h.request('POST', '/containers/echo2/start');
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    assert.deepEqual(parseFrames(Buffer.concat(chunks)).frames.map((f) => f.payload.toString()), ['plain\n']);
  });
});

describe('API streams: exec', () => {
  let rig: EngineRig & { readonly ids: Seeded };
  let h: Harness<ContainerEngine>;
  serveSeededRig((s) => { ({ rig, h } = s); });

  async function createExec(body: Record<string, unknown>): Promise<string> {
    const r = await h.request('POST', '/v1.50/containers/web/exec', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(r.status, 201, r.body.toString());
    return (JSON.parse(r.body.toString()) as { Id: string }).Id;
  }

  it('exec start reads exactly Content-Length bytes of JSON, then stdin; half-close keeps output flowing; ExitCode is set before the close', async () => {
    const id = await createExec({ AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: false, Cmd: ['cat'] });
    const client = await h.connect();
    // Body and stdin in one write, as a fast client sends them.
    client.socket.write(upgradeRequest(`/v1.50/exec/${id}/start`, '{"Detach":false,"Tty":false}\n') + 'data\n');
    const { head } = headOf(await client.waitFor((d) => headOf(d) !== undefined))!;
    assert.match(head, /^HTTP\/1\.1 101 UPGRADED/);
    assert.match(head, /Content-Type: application\/vnd\.docker\.multiplexed-stream/);
    await client.waitFor((d) => parseFrames(headOf(d)!.rest).frames.length >= 1);
    client.socket.end();
    const all = await client.waitEnd();
    assert.deepEqual(parseFrames(headOf(all)!.rest).frames.map((f) => [f.stream, f.payload.toString()]), [[1, 'data\n']]);
    // The CLI asks right after the stream closed.
    const inspect = JSON.parse((await h.request('GET', `/v1.50/exec/${id}/json`)).body.toString()) as Record<string, unknown>;
    assert.equal(inspect.ExitCode, 0);
    assert.equal(inspect.Running, false);
    assert.equal(inspect.ContainerID, rig.ids.web);
    assert.deepEqual(inspect.ProcessConfig, { tty: false, entrypoint: 'cat', arguments: [], privileged: false, user: '' });
  });

  it('the start body Tty decides the framing; exit codes come through exec json', async () => {
    const id = await createExec({ AttachStdout: true, Tty: true, Cmd: ['sh', '-c', 'exit 5'] });
    const client = await h.connect();
    client.socket.write(upgradeRequest(`/v1.50/exec/${id}/start`, JSON.stringify({ Detach: false, Tty: true, ConsoleSize: [40, 120] })));
    const all = await client.waitEnd();
    assert.match(headOf(all)!.head, /Content-Type: application\/vnd\.docker\.raw-stream/);
    assert.equal(h.engine.exec(id).tty, true);
    const inspect = JSON.parse((await h.request('GET', `/v1.50/exec/${id}/json`)).body.toString()) as { ExitCode: number };
    assert.equal(inspect.ExitCode, 5);
    assert.equal((await h.request('POST', `/v1.50/exec/${id}/resize?h=40&w=120`)).status, 200);
  });

  it('Detach:true without Upgrade is 200 with an empty body; starting twice is 409', async () => {
    const id = await createExec({ Detach: true, Cmd: ['touch', '/x'] });
    const r = await h.request('POST', `/v1.50/exec/${id}/start`, { headers: { 'Content-Type': 'application/json' }, body: '{"Detach":true,"Tty":false}' });
    assert.equal(r.status, 200);
    assert.equal(r.body.length, 0);
    const again = await h.request('POST', `/v1.50/exec/${id}/start`, { body: '{"Detach":true}' });
    assert.equal(again.status, 409);
  });

  it('dockerode: exec start without Upgrade streams a 200 with frames', async () => {
    const id = await createExec({ AttachStdout: true, AttachStderr: true, Cmd: ['echo', 'from', 'exec'] });
    const r = await h.request('POST', `/exec/${id}/start`, { headers: { 'Content-Type': 'application/json' }, body: '{"hijack":false,"stdin":false}' });
    assert.equal(r.status, 200);
    assert.deepEqual(parseFrames(r.body).frames.map((f) => f.payload.toString()), ['from exec\n']);
  });

  it('errors: exec on an unknown container 404, no command 400, unknown exec 404', async () => {
    assert.equal((await h.request('POST', '/v1.50/containers/nosuch/exec', { body: '{"Cmd":["ls"]}' })).status, 404);
    assert.equal((await h.request('POST', '/v1.50/containers/web/exec', { body: '{"Cmd":[]}' })).status, 400);
    const r = await h.request('GET', '/v1.50/exec/nope/json');
    assert.equal(r.status, 404);
    assert.deepEqual(JSON.parse(r.body.toString()), { message: 'No such exec instance: nope' });
  });
});

describe('API streams: an exec whose exit the log refused', () => {
  it('ends the stream with the reason, as a system-error frame after the output, instead of closing as if the exit were recorded', async () => {
    const rig = await engineRig({ log: refusingExecExits() });
    const h = await startHarness(rig.engine);
    try {
      await rig.run('c', ['sleep', '1000']);
      const created = await h.request('POST', '/v1.50/containers/c/exec', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ AttachStdout: true, AttachStderr: true, Cmd: ['sh', '-c', 'exit 3'] }) });
      const id = (JSON.parse(created.body.toString()) as { Id: string }).Id;
      const client = await h.connect();
      client.socket.write(upgradeRequest(`/v1.50/exec/${id}/start`, '{"Detach":false,"Tty":false}'));
      const frames = parseFrames(headOf(await client.waitEnd())!.rest).frames;
      assert.deepEqual(frames.map((f) => [f.stream, f.payload.toString()]), [[3, `recording the exit (3) of exec ${id.slice(0, 12)} failed: EIO: i/o error, write`]]);
      const inspect = JSON.parse((await h.request('GET', `/v1.50/exec/${id}/json`)).body.toString()) as { Running: boolean; ExitCode: number | null };
      assert.deepEqual([inspect.Running, inspect.ExitCode], [true, null], 'the log has no exit: the stream said why');
    } finally {
      await h.close();
      await rig.dispose();
    }
  });
});

describe('API streams: logs', () => {
  let rig: EngineRig & { readonly ids: Seeded };
  let h: Harness<ContainerEngine>;
  serveSeededRig((s) => { ({ rig, h } = s); });

  it('non-TTY logs are stdcopy frames with the multiplexed content type', async () => {
    const r = await h.request('GET', `/v1.50/containers/${rig.ids.web}/logs?stderr=1&stdout=1&tail=all`);
    assert.equal(r.headers['content-type'], 'application/vnd.docker.multiplexed-stream');
    assert.deepEqual(parseFrames(r.body).frames.map((f) => [f.stream, f.payload.toString()]), [[1, 'line 1\n'], [2, 'oops 1\n'], [1, 'line 2\nline 3\n']]);
  });

  it('tail, stream selection and timestamps (RFC 3339 with nanoseconds, on every line)', async () => {
    const tail = await h.request('GET', '/v1.50/containers/web/logs?stdout=1&stderr=1&tail=2&timestamps=1');
    // The last two lines of output, both of the chunk `line 2\nline 3\n`: its time on each.
    const lines = parseFrames(tail.body).frames.map((f) => f.payload.toString()).join('');
    assert.match(lines, /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) line 2\n\1 line 3\n$/);
    const last = await h.request('GET', '/v1.50/containers/web/logs?stdout=1&stderr=1&tail=1');
    assert.deepEqual(parseFrames(last.body).frames.map((f) => f.payload.toString()), ['line 3\n'], 'tail counts lines, not chunks');
    const stderrOnly = await h.request('GET', '/v1.50/containers/web/logs?stderr=1');
    assert.deepEqual(parseFrames(stderrOnly.body).frames.map((f) => f.payload.toString()), ['oops 1\n']);
    const none = await h.request('GET', '/v1.50/containers/web/logs?stdout=0&stderr=0');
    assert.equal(none.status, 400);
    assert.equal((await h.request('GET', '/v1.50/containers/nosuch/logs?stdout=1')).status, 404);
  });

  it('TTY logs are raw bytes; timestamps have nine fraction digits', async () => {
    const logged = rig.store.state().position;
    rig.isolator.print(rig.ids.term, 'stdout', '$ ls\r\n');
    for (let i = 0; i < 200 && (await h.request('GET', '/v1.50/containers/term/logs?stdout=1')).body.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    const r = await h.request('GET', '/v1.50/containers/term/logs?stdout=1&stderr=1&timestamps=1');
    assert.equal(r.headers['content-type'], 'application/vnd.docker.raw-stream');
    assert.match(r.body.toString(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z \$ ls\r\n$/);
    assert.equal(rig.store.state().position, logged, 'output is not an event');
  });

  it('follow streams new output until the client leaves', async () => {
    const { res, req } = await h.open('GET', '/v1.50/containers/web/logs?stdout=1&follow=1&tail=0');
    assert.equal(res.statusCode, 200);
    const got = new Promise<string>((resolve) => {
      let buf = Buffer.alloc(0);
      res.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        const frames = parseFrames(buf).frames;
        if (frames.length > 0) resolve(frames[0]!.payload.toString());
      });
    });
    rig.isolator.print(rig.ids.web, 'stdout', 'live\n');
    assert.equal(await got, 'live\n');
    req.destroy();
  });
});

describe('API streams: events', () => {
  let rig: EngineRig & { readonly ids: Seeded };
  let h: Harness<ContainerEngine>;
  serveSeededRig((s) => { ({ rig, h } = s); });

  it('until in the past: the backlog as Docker messages, then the stream ends', async () => {
    const until = Math.floor(Date.now() / 1000) + 1;
    const r = await h.request('GET', `/v1.50/events?since=1700000000&until=${until}`);
    assert.equal(r.headers['content-type'], 'application/json');
    // until one second ahead: ended by the timer, well within the test's patience.
    const events = r.body.toString().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    const actions = events.map((e) => `${String(e.Type)} ${String(e.Action)}`);
    assert.deepEqual(actions, [
      'image import', 'image tag',
      'container create', 'container start', 'container oom', 'container die',
      'container create', 'container start', 'container create', 'container start',
    ]);
    const die = events[5] as { status: string; id: string; from: string; Actor: { ID: string; Attributes: Record<string, string> }; scope: string; time: number; timeNano: number };
    assert.equal(die.status, 'die');
    assert.equal(die.from, 'busybox');
    assert.equal(die.Actor.Attributes.exitCode, '137');
    assert.equal(die.Actor.Attributes.name, 'old');
    assert.equal(die.scope, 'local');
    assert.equal(Math.floor(die.timeNano / 1e9), die.time);
  });

  it('until already past ends at once; filters apply', async () => {
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5)); // the seeded events are in a past second now
    const started = Date.now();
    const nowSeconds = Math.floor(Date.now() / 1000) - 1;
    const filters = encodeURIComponent('{"type":{"container":true},"container":{"web":true},"event":{"start":true}}');
    const r = await h.request('GET', `/v1.50/events?since=1700000000&until=${nowSeconds}&filters=${filters}`);
    const events = r.body.toString().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { Action: string; Actor: { ID: string } });
    assert.deepEqual(events.map((e) => [e.Action, e.Actor.ID]), [['start', rig.ids.web]]);
    assert.ok(Date.now() - started < 1000);
  });

  it('without until the stream follows live events', async () => {
    const { res, req } = await h.open('GET', '/v1.50/events?filters=' + encodeURIComponent('{"container":["web"]}'));
    assert.equal(res.statusCode, 200);
    const line = new Promise<string>((resolve) => {
      let text = '';
      res.on('data', (c: Buffer) => {
        text += c.toString();
        if (text.includes('\n')) resolve(text.split('\n')[0]!);
      });
    });
    await h.request('POST', '/containers/term/kill?signal=SIGKILL');
    await h.request('POST', '/containers/web/kill?signal=15');
    const ev = JSON.parse(await line) as { Action: string; Actor: { Attributes: Record<string, string> } };
    assert.equal(ev.Action, 'kill');
    assert.equal(ev.Actor.Attributes.signal, '15');
    assert.equal(ev.Actor.Attributes.name, 'web');
    req.destroy();
  });

  it('bad filters and times are 400', async () => {
    assert.equal((await h.request('GET', '/v1.50/events?filters=' + encodeURIComponent('{"bogus":{"x":true}}'))).status, 400);
    assert.equal((await h.request('GET', '/v1.50/events?since=soon')).status, 400);
  });

  it('a container created before since and removed since then still has its name', async () => {
    assert.equal((await h.request('DELETE', '/v1.50/containers/old')).status, 204);
    const since = Math.floor(Date.now() / 1000) - 60; // old was created before, and is removed now
    const until = Math.floor(Date.now() / 1000); // the current second, as `--until 0s` sends it
    const r = await h.request('GET', `/v1.50/events?since=${since}&until=${until}&filters=${encodeURIComponent('{"event":{"destroy":true}}')}`);
    const events = r.body.toString().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { Action: string; from: string; Actor: { ID: string; Attributes: Record<string, string> } });
    assert.deepEqual(events.map((e) => [e.Action, e.Actor.ID, e.Actor.Attributes.name, e.from]), [['destroy', rig.ids.old, 'old', 'busybox']]);
  });

  it('until in whole seconds runs to the end of that second (the CLI rounds --until 0s down)', () => {
    assert.equal(parseUntil('1700000000'), 1_700_000_000_999_999_999n);
    assert.equal(parseUntil('1700000000.5'), 1_700_000_000_500_000_000n);
    assert.equal(parseUntil('2023-11-14T22:13:20Z'), 1_700_000_000_000_000_000n);
  });
});
