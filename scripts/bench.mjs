#!/usr/bin/env node
// `npm run bench`: runs every compiled benchmark (dist/bench/*.bench.js, after `npm run build`) one
// after the other and prints their JSON figures as one JSON object keyed by file name.
// `npm run bench -- lifecycle` runs only the benchmarks whose name contains "lifecycle".
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'dist', 'bench');
const only = process.argv.slice(2);
if (!existsSync(dir)) {
  console.error('bench: no dist/bench: run "npm run build" first');
  process.exit(1);
}
const files = readdirSync(dir).filter((f) => f.endsWith('.bench.js')).filter((f) => only.length === 0 || only.some((o) => f.includes(o))).sort();
const results = {};
let failed = false;
for (const file of files) {
  console.error(`bench: ${file}`);
  const r = spawnSync(process.execPath, [join(dir, file)], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
  const name = file.replace(/\.bench\.js$/, '');
  if (r.status !== 0) {
    failed = true;
    results[name] = { error: `exited with ${r.status ?? r.signal}`, output: r.stdout.slice(-2000) };
    continue;
  }
  try {
    results[name] = JSON.parse(r.stdout);
  } catch {
    results[name] = { output: r.stdout.trim() };
  }
}
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
process.exit(failed ? 1 : 0);
