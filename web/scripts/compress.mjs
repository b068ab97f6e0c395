// Writes a gzip copy (name.gz) beside every built script, stylesheet and SVG
// over 1 KB, so the Go server can send compressed bytes without compressing
// per request. web.go serves the .gz when the client accepts gzip.
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const dist = new URL('../dist/', import.meta.url).pathname;
let n = 0;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.(js|css|svg|html)$/.test(name) && statSync(p).size > 1024) {
      writeFileSync(`${p}.gz`, gzipSync(readFileSync(p), { level: 9 }));
      n++;
    }
  }
}
walk(dist);
console.log(`compressed ${n} files`);
