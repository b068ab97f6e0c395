// A tiny runner for the browser tests: each test file exports `steps`, an
// ordered list of [name, fn(ctx)] that share one context (a flow). A failed
// step fails the file and skips its remaining steps; `cleanup(ctx)` always
// runs. Prints one line per step and a closing "N passed, N failed" line.
// Usage: node e2e/run.mjs [file ...]   (default: every e2e/*.test.mjs)
import { readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = new URL('./', import.meta.url).pathname;
const files = process.argv.slice(2).length
  ? process.argv.slice(2)
  : readdirSync(dir).filter((f) => f.endsWith('.test.mjs')).sort().map((f) => dir + f);

const STEP_TIMEOUT = Number(process.env.STEP_TIMEOUT_MS ?? 90_000);
let passed = 0;
let failed = 0;
let skipped = 0;

function withTimeout(p, ms, name) {
  let t;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise((_, reject) => { t = setTimeout(() => reject(new Error(`step "${name}" took longer than ${ms} ms`)), ms); }),
  ]);
}

for (const file of files) {
  const mod = await import(pathToFileURL(file).href);
  const ctx = {};
  console.log(`# ${basename(file)}`);
  let broken = false;
  try {
    for (const [name, fn] of mod.steps) {
      if (broken) {
        skipped++;
        console.log(`  - skip ${name}`);
        continue;
      }
      const t0 = Date.now();
      try {
        await withTimeout(Promise.resolve().then(() => fn(ctx)), STEP_TIMEOUT, name);
        passed++;
        console.log(`  ✓ ${name} (${Date.now() - t0} ms)`);
      } catch (e) {
        failed++;
        broken = true;
        console.log(`  ✗ ${name} (${Date.now() - t0} ms)\n    ${String(e?.stack ?? e).split('\n').join('\n    ')}`);
        await mod.onFailure?.(ctx, name).catch((err) => console.log(`    (failure screenshot: ${err.message})`));
      }
    }
  } finally {
    await mod.cleanup?.(ctx).catch((e) => console.log(`  cleanup: ${e.message}`));
  }
}

console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
