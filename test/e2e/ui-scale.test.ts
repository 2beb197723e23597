import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import type { UiState } from '../../core/api/ui-types.js';
import { runCommand, CLI, until } from './harness.js';
import { artefactsDir, launchChromium, startUi, writeBusyLog, type UiProcess } from './ui-support.js';

// Issue 18 at scale: a copied log of 1,000 containers and 100,000 events (written with the event
// log's API into a temporary data root), shown offline by `mini-docker ui --log`. The page renders
// every container, and a position half way shows what `replay --log --until` prints there. How
// long the load takes is measured by bench/ui.bench.ts, not here.

const CONTAINERS = 1000;
const EVENTS_PER_CONTAINER = 100;

describe('e2e: mini-docker ui --log with 1,000 containers and 100,000 events', () => {
  const root = mkdtempSync(join(process.env.TINY_DOCKER_TEST_SCRATCH ?? tmpdir(), 'e2e-ui-scale-'));
  const dataRoot = join(root, 'data');
  const env = { ...process.env, MINI_DOCKER_NO_AUTOSTART: '1', MINI_DOCKER_DATA_ROOT: join(root, 'no-daemon-data'), MINI_DOCKER_EXEC_ROOT: join(root, 'no-daemon-run') };
  let ui: UiProcess | undefined;
  let browser: BrowserContext | undefined;

  before(async () => {
    const written = await writeBusyLog(dataRoot, CONTAINERS, EVENTS_PER_CONTAINER);
    assert.equal(written, CONTAINERS * EVENTS_PER_CONTAINER);
    ui = await startUi(env, ['--log', dataRoot]);
    browser = await launchChromium(join(root, 'chromium-profile'));
  });
  after(async () => {
    await browser?.close();
    await ui?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('renders every container of the copied log, and the state half way equals replay --log --until', async (t) => {
    const shots = artefactsDir('scale');
    t.diagnostic(`screenshots in ${shots}`);
    const page = await browser!.newPage();
    await page.goto(ui!.url);
    const rows = page.locator('#containers tbody tr');
    await until('1,000 rows', async () => ((await rows.count()) === CONTAINERS ? true : undefined), 60_000);
    assert.equal(await page.locator('#last-position').innerText(), String(CONTAINERS * EVENTS_PER_CONTAINER));
    assert.equal(await page.locator('#mode').innerText(), 'copied log');
    // The page asks for the last 200 events only; the server says how many there are.
    await until('the last 200 events', async () => ((await page.locator('#events li').count()) === 200 ? true : undefined), 60_000);
    // Every event, and an `oom` message before each OOM kill's `die`, as `events` prints them.
    const count = /^last 200 of (\d+)$/.exec(await page.locator('#events-title .count').innerText());
    assert.ok(count && Number(count[1]) > CONTAINERS * EVENTS_PER_CONTAINER, `the count of all events: ${count?.[0]}`);
    await page.screenshot({ path: join(shots, 'now.png') });

    const half = (CONTAINERS * EVENTS_PER_CONTAINER) / 2 + 7;
    await page.locator('#slider').fill(String(half));
    await until(`the page at ${half}`, async () => ((await page.locator('#as-of-position').innerText()) === `#${half}` ? true : undefined), 60_000);
    const state = await (await fetch(`${ui!.url}api/tiny/ui/state?until=${half}`)).json() as UiState;
    const replay = await runCommand(CLI, ['replay', '--log', dataRoot, '--until', String(half), '--json'], { env });
    assert.equal(replay.code, 0, replay.stderr);
    const replayed = JSON.parse(replay.stdout) as { position: number; containers: { Id: string; State: { Status: string; ExitCode: number; OOMKilled: boolean } }[] };
    assert.equal(replayed.position, half);
    const byId = new Map(state.containers.map((c) => [c.id, c]));
    assert.equal(byId.size, replayed.containers.length);
    for (const c of replayed.containers) {
      const shown = byId.get(c.Id);
      assert.ok(shown, `container ${c.Id} on the page`);
      assert.deepEqual([shown.state, shown.exitCode, shown.oomKilled], [c.State.Status, c.State.ExitCode, c.State.OOMKilled], c.Id);
    }
    const statuses = await rows.locator('td.status').allInnerTexts();
    assert.equal(statuses.length, CONTAINERS);
    assert.deepEqual(statuses.map((s) => s.trim()), state.containers.map((c) => c.status));
    await page.screenshot({ path: join(shots, `at-${half}.png`) });
    await page.close();
  });
});
