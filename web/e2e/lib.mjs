// Shared helpers for the browser tests and the web benchmark: Debian's
// chromium driven by playwright-core, with a fresh profile per context.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const BASE = process.env.LIVEHOUSE_URL ?? 'http://127.0.0.1:8080';
export const RTMP = process.env.LIVEHOUSE_RTMP ?? 'rtmp://127.0.0.1:1935';
export const ARTIFACTS = process.env.ARTIFACTS ?? new URL('../../test-artifacts/', import.meta.url).pathname;

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage', '--mute-audio', '--autoplay-policy=no-user-gesture-required',
];

export function chromiumPath() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('chromium is not installed: apt-get install -y chromium');
  }
}

/**
 * launch starts a persistent context on a fresh profile directory: a cold
 * browser with empty caches. close() removes the profile.
 */
export async function launch({ viewport = { width: 1440, height: 900 }, permissions = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'lh-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: chromiumPath(),
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    permissions,
  });
  // Record Content-Security-Policy violations: the UI must work under the strict policy.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window.__cspViolations ??= []).push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const close = async () => {
    await context.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  return { context, close };
}

export function artifact(name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}

/** publish starts ffmpeg sending a 720p30 test pattern with a tone to the channel's key. */
export function publish(rtmpBase, key) {
  const url = `${rtmpBase.replace(/\/$/, '')}/${key}`;
  const args = [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-re', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30',
    '-f', 'lavfi', '-i', 'sine',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '30', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-f', 'flv', url,
  ];
  const p = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  p.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const exited = new Promise((resolve) => p.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    process: p,
    stderr: () => stderr,
    exited,
    /** stop ends the stream cleanly (SIGINT makes ffmpeg unpublish), then kills it if it lingers. */
    async stop() {
      if (p.exitCode !== null || p.signalCode !== null) return;
      p.kill('SIGINT');
      const t = setTimeout(() => p.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

export async function until(what, fn, { timeout = 20000, interval = 250 } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

export function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

/** noCSPViolations fails when the page recorded a Content-Security-Policy violation. */
export async function noCSPViolations(page) {
  const v = await page.evaluate(() => window.__cspViolations ?? []);
  if (v.length) throw new Error(`CSP violations on ${page.url()}: ${v.join('; ')}`);
}
