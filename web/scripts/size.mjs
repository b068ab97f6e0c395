// Measures the gzip size of the built UI (dist/): every asset, and what the
// viewer page (/c/<slug>) loads: the entry script and stylesheet that
// index.html names, plus the hls.js chunk it imports on demand.
// Usage: node scripts/size.mjs [--json] [--budget KB]
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const dist = new URL('../dist/', import.meta.url).pathname;
const args = process.argv.slice(2);
const budgetKB = Number(args[args.indexOf('--budget') + 1]) || 150;
const gz = (f) => gzipSync(readFileSync(join(dist, f)), { level: 9 }).length;
const raw = (f) => readFileSync(join(dist, f)).length;

const assets = readdirSync(join(dist, 'assets')).filter((f) => /\.(js|css)$/.test(f)).map((f) => `assets/${f}`);
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const named = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
const hls = assets.filter((f) => /hls/.test(f) && f.endsWith('.js'));
const viewer = [...new Set(['index.html', ...named, ...hls])];
const sum = (fs) => fs.reduce((n, f) => n + gz(f), 0);
const result = {
  assets: Object.fromEntries(assets.map((f) => [f, { raw: raw(f), gzip: gz(f) }])),
  home_page_gzip: sum(['index.html', ...named]),
  viewer_page_gzip: sum(viewer),
  viewer_page_files: viewer,
  budget_gzip: budgetKB * 1024,
};
if (args.includes('--json')) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  for (const [f, s] of Object.entries(result.assets)) console.log(`${f.padEnd(44)} ${kb(s.raw).padStart(10)} raw ${kb(s.gzip).padStart(10)} gzip`);
  console.log(`home page (html with css + entry js):      ${kb(result.home_page_gzip)} gzip`);
  console.log(`viewer page (home page + hls.js light):    ${kb(result.viewer_page_gzip)} gzip (budget ${budgetKB} KB)`);
}
if (result.viewer_page_gzip > result.budget_gzip) {
  console.error(`viewer page is over budget: ${result.viewer_page_gzip} > ${result.budget_gzip} bytes gzip`);
  process.exit(1);
}
