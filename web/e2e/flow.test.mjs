// The platform flow in a real browser against a real server and a real
// ffmpeg publisher (issue 3, "Tests"):
//  1. a creator signs up and creates a channel in the Music category;
//  2. ffmpeg publishes with the key copied from the dashboard;
//  3. the home page and the Music page show the channel live with a thumbnail;
//  4. a viewer in a second browser watches (time advances, frames render),
//     switches renditions through the menu and follows the channel;
//  5. the stream stops and the viewer's page shows the offline state.
import { BASE, artifact, assert, launch, noCSPViolations, publish, until } from './lib.mjs';

const run = Math.random().toString(36).slice(2, 8);
const XSS = '<img src=x onerror="window.__xss=1">';

async function signUp(page, name, email) {
  await page.goto(`${BASE}/signup`);
  await page.getByLabel('Display name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('correct horse battery staple');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/signup'), { timeout: 15000 });
}

/** videoStats samples the player's video for ms: time advanced, frames presented, and whether the picture has content. */
function videoStats(page, ms = 2000) {
  return page.evaluate(async (ms) => {
    const v = document.querySelector('.player video');
    if (!v) return null;
    const t0 = v.currentTime;
    let frames = 0;
    await new Promise((resolve) => {
      const end = performance.now() + ms;
      const tick = () => { frames++; if (performance.now() < end) v.requestVideoFrameCallback(tick); else resolve(); };
      v.requestVideoFrameCallback(tick);
      setTimeout(resolve, ms + 1000);
    });
    const c = document.createElement('canvas');
    c.width = 64; c.height = 36;
    const g = c.getContext('2d', { willReadFrequently: true });
    g.drawImage(v, 0, 0, c.width, c.height);
    const px = g.getImageData(0, 0, c.width, c.height).data;
    const colours = new Set();
    for (let i = 0; i < px.length; i += 4 * 7) colours.add(`${px[i] >> 5},${px[i + 1] >> 5},${px[i + 2] >> 5}`);
    return { advanced: v.currentTime - t0, frames, colours: colours.size, width: v.videoWidth, height: v.videoHeight, paused: v.paused };
  }, ms);
}

async function chooseRendition(page, name) {
  await page.locator('.player').hover();
  await page.getByRole('button', { name: /^Quality:/ }).click();
  const item = page.locator(`[role="menuitemradio"][data-rendition="${name}"]`);
  await item.click();
  await until(`rendition ${name} to play`, async () => {
    const s = await page.evaluate(() => {
      const p = document.querySelector('.player');
      const v = p.querySelector('video');
      return { level: p.dataset.level, manual: p.dataset.manual, h: v.videoHeight, t: v.currentTime };
    });
    return s.level === name && s.manual === name ? s : null;
  }, { timeout: 20000 });
}

export const steps = [
  ['a creator signs up and creates a channel in the Music category', async (ctx) => {
    ctx.creator = await launch({ permissions: ['clipboard-read', 'clipboard-write'] });
    const page = ctx.creatorPage = ctx.creator.context.pages()[0] ?? await ctx.creator.context.newPage();
    page.on('pageerror', (e) => console.log(`    [creator page error] ${e.message}`));
    await signUp(page, `Creator ${run}`, `creator-${run}@example.test`);
    if (!page.url().includes('/dashboard')) await page.goto(`${BASE}/dashboard`);
    await page.getByLabel('Channel name').fill(`Jazz Night ${run}`);
    ctx.slug = await page.getByLabel('Address').inputValue();
    assert(ctx.slug === `jazz-night-${run}`, `the address is proposed from the name, got ${ctx.slug}`);
    await page.getByLabel('Category').selectOption('music');
    await page.getByLabel('Stream title (optional)').fill(`Late jazz ${XSS}`);
    await page.getByLabel('Tags (optional)').fill('jazz, piano');
    await page.getByRole('button', { name: 'Create channel' }).click();
    await page.waitForURL(`**/dashboard/${ctx.slug}`);
    await page.getByTestId('stream-key').waitFor();
  }],

  ['ffmpeg publishes with the key copied from the dashboard', async (ctx) => {
    const page = ctx.creatorPage;
    await page.getByRole('button', { name: 'Copy Stream key' }).click();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    const shown = await page.getByTestId('stream-key').inputValue();
    assert(copied && copied === shown, 'the clipboard holds the key shown on the dashboard');
    await page.getByRole('button', { name: 'Copy Server' }).click();
    const server = await page.evaluate(() => navigator.clipboard.readText());
    assert(/^rtmp:\/\//.test(server), `the server URL is an RTMP URL: ${server}`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: artifact('dashboard-key.png'), fullPage: true });
    ctx.server = server;
    ctx.key = copied;
    ctx.ffmpeg = publish(server, copied);
    await page.getByText('Receiving').waitFor({ timeout: 30000 }).catch(async (e) => {
      throw new Error(`the dashboard never showed the stream as received: ${e.message}\nffmpeg: ${ctx.ffmpeg.stderr()}`);
    });
    await until('the live preview to play', async () => (await videoStats(page, 500))?.advanced > 0, { timeout: 20000 });
    await page.waitForTimeout(1500);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: artifact('dashboard.png'), fullPage: true });
    await noCSPViolations(page);
  }],

  ['the home page and the Music category page show the channel live with a thumbnail', async (ctx) => {
    const page = await ctx.creator.context.newPage();
    ctx.listPage = page;
    for (const [path, shot] of [['/', 'home.png'], ['/category/music', 'category-music.png']]) {
      await until(`${ctx.slug} live with a thumbnail on ${path}`, async () => {
        await page.goto(`${BASE}${path}`);
        const card = page.locator(`.card.is-live[data-slug="${ctx.slug}"]`).first();
        await card.waitFor({ timeout: 5000 });
        const ok = await card.locator('.thumb img').evaluate((img) => img.complete && img.naturalWidth > 0).catch(() => false);
        return ok && (await card.locator('.live-badge').isVisible());
      }, { timeout: 45000, interval: 1000 });
      const title = await page.locator(`.card[data-slug="${ctx.slug}"] .card-title`).first().textContent();
      assert(title.includes(XSS), `the title's markup is shown as text: ${title}`);
      assert(!(await page.evaluate(() => window.__xss)), 'the XSS payload in the title did not run');
      await page.screenshot({ path: artifact(shot) });
    }
    const phone = await launch({ viewport: { width: 390, height: 844 } });
    try {
      const p = phone.context.pages()[0] ?? await phone.context.newPage();
      await p.goto(`${BASE}/`);
      await p.locator(`.card[data-slug="${ctx.slug}"]`).first().waitFor();
      await p.waitForTimeout(500);
      await p.screenshot({ path: artifact('home-phone.png') });
    } finally {
      await phone.close();
    }
  }],

  ['a viewer in a second browser watches, switches renditions and follows', async (ctx) => {
    ctx.viewer = await launch();
    const page = ctx.viewerPage = ctx.viewer.context.pages()[0] ?? await ctx.viewer.context.newPage();
    page.on('pageerror', (e) => console.log(`    [viewer page error] ${e.message}`));
    await signUp(page, `Viewer ${run}`, `viewer-${run}@example.test`);
    await page.goto(`${BASE}/c/${ctx.slug}`);
    await page.locator('.player').waitFor();
    const s = await until('the video to play', async () => {
      const st = await videoStats(page, 2000);
      return st && st.advanced > 1 && st.frames > 20 && st.colours > 8 ? st : null;
    }, { timeout: 30000 });
    console.log(`    playing: +${s.advanced.toFixed(2)} s, ${s.frames} frames in 2 s, ${s.width}x${s.height}, ${s.colours} colours`);
    const levels = await page.evaluate(() => document.querySelector('.player').dataset.level);
    assert(levels, 'hls.js reports the playing rendition');

    await page.locator('.player').hover();
    await page.getByRole('button', { name: /^Quality:/ }).click();
    const names = await page.locator('[role="menuitemradio"][data-rendition]').evaluateAll((els) => els.map((e) => e.dataset.rendition));
    assert(names.length >= 2, `the menu lists the ladder: ${names}`);
    await page.keyboard.press('Escape');
    const lowest = names[names.length - 1];
    await chooseRendition(page, lowest);
    const low = await until('the low rendition to render', async () => { const st = await videoStats(page, 1000); return st?.advanced > 0.3 && st.height < 720 ? st : null; });
    await chooseRendition(page, 'source');
    const high = await until('the source rendition to render', async () => { const st = await videoStats(page, 1000); return st?.advanced > 0.3 && st.height === 720 ? st : null; });
    console.log(`    renditions: ${names.join(', ')}; ${lowest} rendered ${low.width}x${low.height}, source ${high.width}x${high.height}`);

    const follow = page.getByTestId('follow');
    await follow.click();
    await until('the follow button to show Following', async () => (await follow.getAttribute('aria-pressed')) === 'true');
    const followed = await page.evaluate(async (slug) => (await (await fetch(`/api/v1/channels/${slug}`)).json()).following, ctx.slug);
    assert(followed === true, 'the API reports the follow');

    const viewers = await until('the heartbeat to count the viewer', async () => {
      const n = await page.evaluate(async (slug) => (await (await fetch(`/api/v1/channels/${slug}`)).json()).viewers, ctx.slug);
      return n >= 1 ? n : null;
    }, { timeout: 20000, interval: 1000 });
    console.log(`    viewers counted: ${viewers}`);
    await noCSPViolations(page);
    await page.locator('.player').hover();
    await page.waitForTimeout(300);
    await page.screenshot({ path: artifact('channel.png') });
  }],

  ['the stream stops and the page shows the offline state', async (ctx) => {
    await ctx.ffmpeg.stop();
    const page = ctx.viewerPage;
    await page.getByTestId('offline').waitFor({ timeout: 30000 });
    await page.getByText(/is offline/).waitFor();
    await page.screenshot({ path: artifact('channel-offline.png') });
  }],

  ['going live again brings the player back and notifies the follower', async (ctx) => {
    ctx.ffmpeg = publish(ctx.server, ctx.key);
    const page = ctx.viewerPage;
    await page.locator('.player').waitFor({ timeout: 30000 });
    await until('the video to play again', async () => (await videoStats(page, 1000))?.advanced > 0.3, { timeout: 30000 });
    // A fresh page shows a toast for a go-live notification made in the last minutes.
    const other = await ctx.viewer.context.newPage();
    await other.goto(`${BASE}/browse`);
    const toast = other.locator('.toast-live');
    await toast.waitFor({ timeout: 25000 });
    assert((await toast.textContent()).includes(`Jazz Night ${run}`), 'the toast names the channel');
    await other.screenshot({ path: artifact('toast.png') });
    await other.goto(`${BASE}/notifications`);
    await other.locator('.notif').first().waitFor();
    assert((await other.locator('.notif').first().textContent()).includes('went live'), 'the notification list shows the go-live');
    await other.close();
    await ctx.ffmpeg.stop();
  }],

  ['an admin sees the users, the channels and the transcoding ladder', async (ctx) => {
    if (!process.env.LIVEHOUSE_BIN) throw new Error('LIVEHOUSE_BIN and LIVEHOUSE_DATA must name the server binary and data dir');
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync(process.env.LIVEHOUSE_BIN, ['admin', 'create', `admin-${run}@example.test`, '--data', process.env.LIVEHOUSE_DATA], { encoding: 'utf8' });
    const password = /Password:\s+(\S+)/.exec(out)?.[1];
    assert(password, `admin create printed a password: ${out}`);
    const page = ctx.creatorPage;
    await page.goto(`${BASE}/`);
    await page.getByRole('button', { name: /^Account:/ }).click();
    await page.getByRole('menuitem', { name: 'Sign out' }).click();
    await page.goto(`${BASE}/signin?next=/admin`);
    await page.getByLabel('Email').fill(`admin-${run}@example.test`);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/admin');
    await page.getByRole('cell', { name: `creator-${run}@example.test` }).waitFor();
    await page.screenshot({ path: artifact('admin-users.png') });
    await page.getByRole('link', { name: 'Channels', exact: true }).click();
    await page.getByRole('link', { name: `Jazz Night ${run}` }).waitFor();
    await page.getByRole('link', { name: 'Server settings' }).click();
    await page.getByLabel('Rendition 1 name').waitFor();
    const names = await page.locator('table.ladder input[aria-label$=" name"]').evaluateAll((els) => els.map((e) => e.value));
    assert(names.includes('source'), `the ladder lists the passthrough: ${names}`);
    await page.screenshot({ path: artifact('admin-settings.png') });
  }],
];

export async function onFailure(ctx, step) {
  const n = step.replace(/\W+/g, '-').slice(0, 40);
  for (const [who, page] of [['creator', ctx.creatorPage], ['viewer', ctx.viewerPage], ['list', ctx.listPage]]) {
    if (page && !page.isClosed()) await page.screenshot({ path: artifact(`failed-${n}-${who}.png`) }).catch(() => undefined);
  }
  if (ctx.ffmpeg) console.log(`    ffmpeg stderr: ${ctx.ffmpeg.stderr().slice(-800)}`);
}

export async function cleanup(ctx) {
  await ctx.ffmpeg?.stop();
  await ctx.viewer?.close();
  await ctx.creator?.close();
}
