import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import type { Timeline } from '../../core/api/ui-types.js';
import { TestDaemon, until } from './harness.js';
import { artefactsDir, launchChromium, startUi, type UiProcess } from './ui-support.js';

// Issue 18 end to end: the web page of the event log (mini-docker ui) in headless Chromium against
// a real daemon. A container under -m 32m with --restart on-failure:1 waits for the test's go, is
// OOM-killed, restarted by its policy, killed again, and removed; the page follows it live, and
// moved back in the log it shows what `replay --until` prints at the same positions.

interface Row {
  readonly id: string;
  readonly name: string;
  readonly image: string;
  readonly status: string;
}

/** The rows of a `replay` (ps) table, cut at the header's column starts. */
function parsePsTable(text: string): Row[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines[0] ?? '';
  const cols = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'NAMES'].map((c) => header.indexOf(c));
  assert.ok(cols.every((c) => c >= 0), `a ps header: ${header}`);
  const cell = (line: string, i: number): string => line.slice(cols[i]!, i + 1 < cols.length ? cols[i + 1]! : undefined).trim();
  return lines.slice(1).map((l) => ({ id: cell(l, 0), image: cell(l, 1), status: cell(l, 4), name: cell(l, 5) }));
}

async function pageRows(page: Page): Promise<Row[]> {
  const table = page.locator('#containers tbody');
  const [ids, names, images, statuses] = await Promise.all(['id', 'name', 'image', 'status'].map((c) => table.locator(`td.${c}`).allInnerTexts()));
  return ids!.map((id, i) => ({ id: id.trim(), name: names![i]!.trim(), image: images![i]!.trim(), status: statuses![i]!.trim() }));
}

/** Types a position into the page's box and waits until the page shows the state as of it. */
async function showPosition(page: Page, position: number): Promise<void> {
  await page.locator('#position-input').fill(String(position));
  await page.locator('#position-input').press('Enter');
  await until(`the page at position ${position}`, async () => ((await page.locator('#as-of-position').innerText()) === `#${position}` ? true : undefined));
}

describe('e2e: mini-docker ui in headless Chromium (issue 18)', () => {
  // Stats kept four times a second, so the page has readings around the moments the test chooses.
  const d = new TestDaemon('ui', { MINI_DOCKER_STATS_HISTORY: '0.25' });
  const shots = artefactsDir('e2e');
  let ui: UiProcess | undefined;
  let browser: BrowserContext | undefined;

  before(async () => {
    await d.start();
    ui = await startUi(d.env);
    browser = await launchChromium(join(d.root, 'chromium-profile'));
    console.log(`# ui screenshots: ${shots}`);
  });
  after(async () => {
    await browser?.close();
    await ui?.stop();
    await d.cleanup();
  });

  it('follows an OOM kill and a restart live, and moved back shows what replay --until shows', async (t) => {
    t.diagnostic(`screenshots in ${shots}`);
    const page = await browser!.newPage();
    const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
    const go = join(d.root, 'go');
    mkdirSync(go);

    const run = await d.cli(['run', '-d', '--name', 'hog', '-m', '32m', '--restart', 'on-failure:1', '-v', `${go}:/go:ro`, 'busybox', 'sh', '-c',
      'echo waiting for go; while [ ! -e /go/now ]; do sleep 0.1; done; echo hogging; x=$(head -c 200000000 /dev/zero | tr "\\0" a)']);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    const short = id.slice(0, 12);

    // The page, following the daemon: the container the test started, running.
    await page.goto(ui!.url);
    const row = page.locator(`#containers tr[data-id="${id}"]`);
    await until('hog running on the page', async () => ((await row.count()) === 1 && (await row.locator('td.status').innerText()).startsWith('Up') ? true : undefined));
    assert.equal(await page.locator('#mode').innerText(), 'live daemon');
    assert.match(await row.locator('td.limits').innerText(), /memory 32 MiB/);
    await page.evaluate('window.__notReloaded = true');
    await row.locator('td.name button').click();
    await page.locator('#timeline li[data-kind="started"]').waitFor();
    await shot('1-running');

    // The OOM kill, the policy's restart and the second kill arrive live: no reload.
    writeFileSync(join(go, 'now'), '');
    await page.locator('#timeline li[data-kind="oom"]').first().waitFor({ timeout: 60_000 });
    await until('hog exited after its one restart', async () => ((await d.cli(['inspect', '-f', '{{.State.Status}} {{.RestartCount}} {{.State.OOMKilled}}', 'hog'])).stdout.trim() === 'exited 1 true' ? true : undefined), 60_000);
    await until('the page showing the final exit', async () => ((await row.locator('td.status').innerText()).startsWith('Exited (137)') ? true : undefined));
    await until('the whole life on the timeline', async () => ((await page.locator('#timeline li[data-kind="oom"]').count()) === 2 ? true : undefined));
    const items = page.locator('#timeline li');
    const kinds: (string | null)[] = [];
    for (let i = 0; i < (await items.count()); i++) kinds.push(await items.nth(i).getAttribute('data-kind'));
    assert.deepEqual(kinds, ['created', 'started', 'oom', 'died', 'restarting', 'restarted', 'oom', 'died']);
    assert.equal(await page.evaluate('window.__notReloaded === true'), true, 'updates came live, without a reload');
    assert.match(await row.locator('td.restarts').innerText(), /^1 \(on-failure:1\)/);

    // Logs around a moment: the output in the minute around the first start.
    await page.locator('#timeline li[data-kind="started"] button.link').click();
    await until('the logs around the start', async () => ((await page.locator('#logs').count()) === 1 && (await page.locator('#logs').innerText()).includes('waiting for go') ? true : undefined));
    // And the stats the daemon kept in the two minutes around it: the 32 MiB limit, and readings.
    await until('the stats kept around the start', async () => ((await page.locator('#kept-stats tbody tr').count()) >= 2 ? true : undefined));
    assert.match(await page.locator('#details').innerText(), /Peak memory \d+(\.\d+)? (B|KiB|MiB) of 32 MiB/);
    await shot('2-oom-live');

    // Filters as `events` has them: only the OOM kills.
    await page.locator('#filter-event').fill('oom');
    await page.locator('#filter-event').press('Enter');
    await until('the events filtered to oom', async () => {
      const texts = await page.locator('#events li').allInnerTexts();
      return texts.length === 2 && texts.every((x) => / oom hog/.test(x)) ? true : undefined;
    });
    await page.locator('#filter-event').fill('');
    await page.locator('#filter-event').press('Enter');

    const timeline = await (await fetch(`${ui!.url}api/tiny/ui/containers/${id}/timeline`)).json() as Timeline;
    const at = (kind: string, nth = 0): number => timeline.entries.filter((e) => e.kind === kind)[nth]!.position;
    const positions = { running: at('started'), restarting: at('restarting'), exited: at('died', 1) };

    // rm: the row goes away live.
    assert.equal((await d.cli(['rm', 'hog'])).code, 0);
    await until('hog gone from the page', async () => ((await row.count()) === 0 ? true : undefined));
    await shot('3-removed');

    // The slider moved back: running again.
    await page.locator('#slider').fill(String(positions.running));
    await until('the page moved back to the first start', async () => ((await page.locator('#as-of-position').innerText()) === `#${positions.running}` ? true : undefined));
    await until('hog running again on the page', async () => ((await row.count()) === 1 && (await row.locator('td.status').innerText()).startsWith('Up') ? true : undefined));
    await shot('4-slider-back');

    // Three positions: the page shows what `replay --until` prints.
    for (const [label, position] of Object.entries(positions)) {
      await showPosition(page, position);
      const replay = await d.cli(['replay', '--until', String(position)]);
      assert.equal(replay.code, 0, replay.stderr);
      const expected = parsePsTable(replay.stdout);
      assert.ok(expected.some((r) => r.id === short), `replay --until ${position} lists hog: ${replay.stdout}`);
      assert.deepEqual(await pageRows(page), expected, `position ${position} (${label})`);
      await shot(`5-at-${position}-${label}`);
    }
    const shownAt = async (position: number): Promise<string> => {
      await showPosition(page, position);
      return row.locator('td.status').innerText();
    };
    assert.match(await shownAt(positions.restarting), /^Restarting \(137\)/);
    assert.match(await shownAt(positions.exited), /^Exited \(137\)/);

    // A time instead of a position: the last event at or before it. The exit that made it restarting
    // was committed with the release of its address (one commit, one time), so that is the release,
    // the position after the exit's and before the restart's.
    const restartingAt = timeline.entries.find((e) => e.kind === 'restarting')!.time;
    await page.locator('#time-input').fill(restartingAt);
    await page.locator('#time-input').press('Enter');
    const restarted = at('restarted');
    await until('the page at the restarting time', async () => {
      const shown = Number((await page.locator('#as-of-position').innerText()).slice(1));
      return shown >= positions.restarting && shown < restarted ? true : undefined;
    });
    assert.match(await row.locator('td.status').innerText(), /^Restarting \(137\)/);

    // Keyboard: the slider steps back one event with the arrow key.
    await showPosition(page, positions.exited);
    await page.locator('#slider').focus();
    await page.keyboard.press('ArrowLeft');
    await until('one event back by keyboard', async () => ((await page.locator('#as-of-position').innerText()) === `#${positions.exited - 1}` ? true : undefined));

    // Following live again: hog is gone.
    await page.locator('#follow').click();
    await until('following live again', async () => ((await row.count()) === 0 && (await page.locator('#follow').innerText()) === 'Following live' ? true : undefined));

    // A narrow window: one column, nothing wider than the window (wide tables scroll inside).
    await page.setViewportSize({ width: 400, height: 900 });
    await showPosition(page, positions.running);
    await row.locator('td.name button').focus();
    await page.keyboard.press('Enter');
    await page.locator('#timeline li').first().waitFor();
    assert.ok(Number(await page.evaluate('document.documentElement.scrollWidth')) <= 400, 'no sideways scrolling of the page');
    await shot('6-narrow');
    await page.close();
  });

  it('the live stream goes on from the Last-Event-ID a reconnecting browser sends', async () => {
    const controller = new AbortController();
    const res = await fetch(`${ui!.url}api/tiny/ui/live`, { headers: { 'Last-Event-ID': '2' }, signal: controller.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    let text = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body! as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      if (text.includes('id: 4\n')) break;
    }
    controller.abort();
    assert.match(text, /^: live\n\nid: 3\nevent: logged\ndata: \{"position":3,/);
    assert.ok(!text.includes('id: 2\n'), text);
  });

  it('serves loopback only, read-only, and refuses other Host names', async () => {
    const res = await fetch(`${ui!.url}api/tiny/ui/state`, { method: 'POST' });
    assert.equal(res.status, 405);
    const bad = await d.cli(['ui', '--listen', '0.0.0.0:0']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /loopback only/);
    const page = await browser!.newPage();
    const port = new URL(ui!.url).port;
    // A name that is not loopback (as a DNS rebinding would send): refused, even though it reached us.
    const answer = await page.request.get(`http://127.0.0.1:${port}/api/tiny/ui/state`, { headers: { Host: `rebound.example:${port}` } });
    assert.equal(answer.status(), 403);
    await page.close();
  });
});
