/**
 * The web page's load time (not a test): a copied log of 1,000 containers and 100,000 events
 * (written with the event log's API in a temporary data root) shown by `mini-docker ui --log`,
 * opened in headless Chromium. Prints one JSON object: how long the server took to read the log,
 * a page load until all 1,000 rows are drawn (median of 5), a move of the slider to a position
 * half way until the page shows it (median of 5), and one container's timeline. Needs Debian's
 * chromium. Run: `node dist/bench/ui.bench.js` (scratch in TINY_DOCKER_BENCH_SCRATCH or the OS temp dir).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium, startUi, writeBusyLog } from '../test/e2e/ui-support.js';

const CONTAINERS = 1000;
const EVENTS_PER_CONTAINER = 100;
const RUNS = 5;

const since = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;
const median = (values: readonly number[]): number => Number([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!.toFixed(1));

async function main(): Promise<void> {
  const root = await mkdtemp(join(process.env.TINY_DOCKER_BENCH_SCRATCH ?? tmpdir(), 'ui-bench-'));
  const dataRoot = join(root, 'data');
  const env = { ...process.env, MINI_DOCKER_NO_AUTOSTART: '1', MINI_DOCKER_DATA_ROOT: join(root, 'none'), MINI_DOCKER_EXEC_ROOT: join(root, 'none-run') };
  try {
    const events = await writeBusyLog(dataRoot, CONTAINERS, EVENTS_PER_CONTAINER);
    let start = process.hrtime.bigint();
    const ui = await startUi(env, ['--log', dataRoot]);
    const serverReadyMs = since(start);
    const browser = await launchChromium(join(root, 'profile'));
    try {
      const loads: number[] = [];
      const moves: number[] = [];
      const timelines: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        const page = await browser.newPage();
        start = process.hrtime.bigint();
        await page.goto(ui.url);
        await page.locator(`#containers tbody tr:nth-child(${CONTAINERS})`).waitFor({ timeout: 60_000 });
        loads.push(since(start));
        const position = events / 2 + run;
        start = process.hrtime.bigint();
        await page.locator('#slider').fill(String(position));
        await page.locator(`#as-of-position:text-is("#${position}")`).waitFor({ timeout: 60_000 });
        moves.push(since(start));
        start = process.hrtime.bigint();
        await page.locator('#containers tbody tr').first().locator('td.name button').click();
        await page.locator('#timeline li').first().waitFor({ timeout: 60_000 });
        timelines.push(since(start));
        await page.close();
      }
      process.stdout.write(`${JSON.stringify({
        containers: CONTAINERS, events, serverReadyMs: Number(serverReadyMs.toFixed(1)),
        pageLoadMs: median(loads), sliderMoveMs: median(moves), timelineMs: median(timelines), runs: RUNS,
      })}\n`);
    } finally {
      await browser.close();
      await ui.stop();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
