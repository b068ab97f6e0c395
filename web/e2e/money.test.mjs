// Money in real browsers against a real server and a real ffmpeg publisher
// (docs/MONEY.md). An admin made with the CLI, a creator and two viewers,
// each in its own browser profile (three sign-ups in all):
//  0. the admin sets up a coin pack, a gift and an image ad creative from
//     the admin screens; the creator goes live;
//  1. a viewer buys coins with sandbox cards (declined, needs confirmation,
//     4242…), sends a gift combo and a tip during the stream, and the
//     creator's dashboard shows the alerts and the earnings;
//  2. the viewer subscribes; in subscriber-only chat a non-subscriber is
//     refused with a clear message and the subscriber posts with the badge;
//  3. the creator starts an ad break from the dashboard: the non-subscriber
//     sees the ad over the player and posts one impression with the player's
//     viewer id; the subscriber keeps watching without an overlay;
//  4. during the break every rendition's media playlist carries
//     #EXT-X-DATERANGE with SCTE35-OUT; after it, SCTE35-IN, and the ledger
//     verifies.
// All of it under the server's strict Content-Security-Policy.
import { execFileSync } from 'node:child_process';
import { deflateSync } from 'node:zlib';
import { BASE, RTMP, artifact, assert, launch, noCSPViolations, publish, until } from './lib.mjs';

const run = Math.random().toString(36).slice(2, 8);
const PASSWORD = 'correct horse battery staple';
const XSS = '<img src=x onerror="window.__xss=1">';
const KEY = /^[A-Za-z0-9_-]{8,128}$/;

// A small PNG for the ad creative, sent as a data: URL (the CSP allows data: images).
const CRC = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
/** adPNG makes a 160×90 RGB banner: diagonal orange and purple stripes. */
function adPNG(w = 160, h = 90) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2; // RGB
  const rows = [];
  for (let y = 0; y < h; y++) {
    const row = Buffer.alloc(1 + w * 3);
    for (let x = 0; x < w; x++) row.set(((x + y) >> 4) % 2 ? [245, 165, 36] : [124, 58, 237], 1 + x * 3);
    rows.push(row);
  }
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0)),
  ]);
  return `data:image/png;base64,${png.toString('base64')}`;
}

async function browser(ctx, who) {
  const b = await launch();
  const page = b.context.pages()[0] ?? await b.context.newPage();
  page.on('pageerror', (e) => console.log(`    [${who} page error] ${e.message}`));
  (ctx.browsers ??= []).push(b);
  return page;
}

/** cli runs the server binary on the test's data directory. */
function cli(args) {
  if (!process.env.LIVEHOUSE_BIN || !process.env.LIVEHOUSE_DATA) throw new Error('LIVEHOUSE_BIN and LIVEHOUSE_DATA must name the server binary and data dir');
  return execFileSync(process.env.LIVEHOUSE_BIN, [...args, '--data', process.env.LIVEHOUSE_DATA], { encoding: 'utf8' });
}

async function apiCall(page, method, path, body, headers = {}) {
  return page.evaluate(async ([method, path, body, headers]) => {
    const me = await (await fetch('/api/v1/auth/me')).json().catch(() => ({}));
    const r = await fetch(`/api/v1${path}`, {
      method, credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': me.csrf_token ?? '', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, body: json, text };
  }, [method, path, body, headers]);
}

async function signIn(page, email, password) {
  await page.goto(`${BASE}/signin`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/signin'), { timeout: 15000 });
}

/**
 * account signs a new user up through the API. Sign-up allows 5 per client
 * address per 2 minutes, and the other test files spend them: when refused,
 * the account is made with `livehouse admin create` instead, then demoted
 * to a plain viewer from the admin's session, so it holds no admin rights
 * (admins moderate every chat, which would skip subscriber-only mode).
 */
async function account(ctx, page, name, email) {
  await page.goto(`${BASE}/`);
  const r = await apiCall(page, 'POST', '/auth/signup', { email, password: PASSWORD, display_name: name });
  if (r.status === 200 || r.status === 201) return r.body.user;
  assert(r.status === 429, `sign-up of ${email}: ${r.status} ${r.text}`);
  console.log(`    sign-up rate-limited (${r.body?.error?.message}); making ${email} with the CLI`);
  const out = cli(['admin', 'create', email]);
  const password = /Password:\s+(\S+)/.exec(out)?.[1];
  assert(password, `admin create printed a password: ${out}`);
  await signIn(page, email, password);
  const me = await apiCall(page, 'PATCH', '/me', { display_name: name });
  assert(me.status === 200, `rename ${email}: ${me.status} ${me.text}`);
  const demoted = await apiCall(ctx.adminPage, 'PATCH', `/admin/users/${me.body.id}`, { role: 'viewer' });
  assert(demoted.status === 200, `demote ${email}: ${demoted.status} ${demoted.text}`);
  return me.body;
}

/** videoStats samples the player's video: how far time advanced in ms. */
function videoStats(page, ms = 2000) {
  return page.evaluate(async (ms) => {
    const v = document.querySelector('.player video');
    if (!v) return null;
    const t0 = v.currentTime;
    await new Promise((r) => setTimeout(r, ms));
    return { advanced: v.currentTime - t0, paused: v.paused, width: v.videoWidth };
  }, ms);
}

async function watch(page, slug) {
  await page.goto(`${BASE}/c/${slug}`);
  await page.locator('[data-testid="chat-panel"][data-conn="open"]').waitFor({ timeout: 20000 });
  await until('the video to play', async () => (await videoStats(page, 1000))?.advanced > 0.3, { timeout: 30000 });
}

async function send(page, text) {
  await page.getByTestId('chat-input').fill(text);
  await page.getByTestId('chat-send').click();
}

const messageWith = (page, text) => page.getByTestId('chat-message').filter({ has: page.locator('.chat-text', { hasText: text }) });

/** recordMoneyPosts keeps every money POST's URL and headers, to check the Idempotency-Key and CSRF headers. */
function recordMoneyPosts(page, into) {
  page.on('request', (r) => {
    if (r.method() !== 'POST' && r.method() !== 'DELETE') return;
    const u = new URL(r.url());
    if (/\/api\/v1\/(payments\/orders|channels\/[^/]+\/(gifts|tips|subscription|ad-breaks|payouts)|ad-breaks\/)/.test(u.pathname)) {
      into.push({ path: u.pathname, method: r.method(), headers: r.headers(), body: r.postData() });
    }
  });
}

export const steps = [
  ['setup: an admin made with the CLI adds a coin pack, a gift and an image ad creative', async (ctx) => {
    ctx.adminEmail = `money-admin-${run}@example.test`;
    const out = cli(['admin', 'create', ctx.adminEmail]);
    const password = /Password:\s+(\S+)/.exec(out)?.[1];
    assert(password, `admin create printed a password: ${out}`);
    const page = ctx.adminPage = await browser(ctx, 'admin');
    await signIn(page, ctx.adminEmail, password);

    await page.goto(`${BASE}/admin/coin-packs`);
    const packs = page.getByTestId('admin-coin-packs');
    await packs.waitFor();
    await page.locator('#pack-name').fill(`Starter ${run}`);
    await page.locator('#pack-coins').fill('2000');
    await page.locator('#pack-price').fill('9.99');
    await page.getByRole('button', { name: 'Add pack' }).click();
    await packs.locator(`[data-testid="admin-pack"][data-name="Starter ${run}"][data-active="true"]`).waitFor({ timeout: 10000 });
    await page.screenshot({ path: artifact('admin-coin-packs.png'), fullPage: true });

    await page.getByRole('link', { name: 'Gifts', exact: true }).click();
    const gifts = page.getByTestId('admin-gifts');
    await gifts.waitFor();
    await page.locator('#gift-name').fill(`Rose${run}`);
    await page.locator('#gift-image').fill('/favicon.svg'); // a path on this server (the API takes URLs, not emoji)
    await page.locator('#gift-price').fill('10');
    await page.getByRole('button', { name: 'Add gift' }).click();
    await gifts.locator(`[data-testid="admin-gift"][data-name="Rose${run}"]`).waitFor({ timeout: 10000 });

    await page.getByRole('link', { name: 'Ads', exact: true }).click();
    const ads = page.getByTestId('admin-ads');
    await ads.waitFor();
    await page.locator('#ad-name').fill(`Banner ${run}`);
    await page.locator('#ad-kind').selectOption('image');
    const url = adPNG();
    assert(url.length <= 2048, `the creative fits the API's 2,048-character URL limit: ${url.length}`);
    await page.locator('#ad-url').fill(url);
    await page.locator('#ad-cpm').fill('2000');
    await page.getByRole('button', { name: 'Add creative' }).click();
    const ad = ads.getByTestId('admin-ad').filter({ hasText: `Banner ${run}` });
    await ad.waitFor({ timeout: 10000 });
    assert(await ad.getAttribute('data-active') === 'true', 'the new creative is active');
    await page.screenshot({ path: artifact('admin-ads.png'), fullPage: true });
    await noCSPViolations(page);
  }],

  ['setup: a creator signs up, creates a channel and goes live with ffmpeg', async (ctx) => {
    const page = ctx.creatorPage = await browser(ctx, 'creator');
    ctx.creator = await account(ctx, page, `Maker${run}`, `money-maker-${run}@example.test`);
    ctx.slug = `money-${run}`;
    const created = await apiCall(page, 'POST', '/channels', { slug: ctx.slug, display_name: `Money ${run}`, category: 'music', title: 'Tips welcome' });
    assert(created.status === 201 || created.status === 200, `channel created: ${created.status} ${created.text}`);
    ctx.ffmpeg = publish(RTMP, created.body.stream_key);
    await until('the channel to be live', async () => (await (await fetch(`${BASE}/api/v1/channels/${ctx.slug}`)).json()).live, { timeout: 30000, interval: 500 })
      .catch((e) => { throw new Error(`${e.message}\nffmpeg: ${ctx.ffmpeg.stderr()}`); });
    const dash = ctx.dashPage = await ctx.creatorPage.context().newPage();
    dash.on('pageerror', (e) => console.log(`    [dashboard page error] ${e.message}`));
    await dash.goto(`${BASE}/dashboard/${ctx.slug}`);
    await dash.getByText('Receiving').waitFor({ timeout: 30000 });
    await dash.getByTestId('dash-alerts-empty').waitFor({ timeout: 15000 });
  }],

  ['1. a viewer buys coins: a declined card, a card that needs confirmation, then 4242…', async (ctx) => {
    const page = ctx.vicPage = await browser(ctx, 'vic');
    ctx.vicPosts = [];
    recordMoneyPosts(page, ctx.vicPosts);
    ctx.vic = await account(ctx, page, `Vic${run}`, `money-vic-${run}@example.test`);
    await page.goto(`${BASE}/account/wallet?next=/c/${ctx.slug}`);
    const buy = page.getByTestId('buy-coins');
    const pack = buy.getByTestId('coin-pack').filter({ hasText: `Starter ${run}` });
    await pack.waitFor({ timeout: 15000 });
    await pack.click();
    await buy.getByTestId('test-cards').waitFor();
    assert((await buy.getByTestId('test-cards').textContent()).includes('4242 4242 4242 4242'), 'the sandbox test cards are listed');
    const chip = page.getByTestId('wallet-chip');
    await chip.waitFor();
    assert(await chip.getAttribute('data-balance') === '0', 'a new wallet is empty');

    await page.getByLabel('Card number').fill('4000000000000002');
    await page.getByTestId('buy-submit').click();
    const declined = page.getByTestId('order-declined');
    await declined.waitFor({ timeout: 10000 });
    assert(/declined/i.test(await declined.textContent()), `the decline is explained: ${await declined.textContent()}`);
    await page.screenshot({ path: artifact('wallet-declined.png'), fullPage: true });

    // A card that needs confirmation: a wrong code declines that order, so buy again and give the right one.
    await page.getByLabel('Card number').fill('4000002500003155');
    await page.getByTestId('buy-submit').click();
    const confirm = page.getByTestId('order-confirm');
    await confirm.waitFor({ timeout: 10000 });
    await page.getByLabel('Confirmation code').fill('000000');
    await page.getByTestId('confirm-submit').click();
    await page.getByTestId('order-declined').waitFor({ timeout: 10000 });
    assert(/code/i.test(await page.getByTestId('order-declined').textContent()), `the wrong code is named: ${await page.getByTestId('order-declined').textContent()}`);
    await page.getByTestId('buy-submit').click();
    await confirm.waitFor({ timeout: 10000 });
    await page.screenshot({ path: artifact('wallet-confirm.png'), fullPage: true });
    await page.getByLabel('Confirmation code').fill('123456');
    await page.getByTestId('confirm-submit').click();
    await page.getByTestId('order-paid').waitFor({ timeout: 10000 });
    await until('the balance to show 2,000 coins', async () => (await chip.getAttribute('data-balance')) === '2000', { timeout: 10000 });

    await page.getByLabel('Card number').fill('4242424242424242');
    await page.getByTestId('buy-submit').click();
    await until('the second purchase to pay', async () => (await chip.getAttribute('data-balance')) === '4000', { timeout: 10000 });
    assert(await page.getByTestId('wallet-balance').getAttribute('data-balance') === '4000', 'the wallet page shows 4,000 coins');
    await until('two purchases in the transactions', async () => (await page.getByTestId('wallet-txn').count()) >= 2, { timeout: 10000 });
    const orders = ctx.vicPosts.filter((p) => p.path.startsWith('/api/v1/payments/orders'));
    assert(orders.length >= 6, `every order and confirmation was a POST: ${orders.length}`);
    for (const p of orders) {
      assert(KEY.test(p.headers['idempotency-key'] ?? ''), `${p.path} carries an Idempotency-Key: ${p.headers['idempotency-key']}`);
      assert(p.headers['x-csrf-token'], `${p.path} carries the CSRF token`);
    }
    const keys = orders.map((p) => p.headers['idempotency-key']);
    assert(new Set(keys).size === keys.length, `each user action has its own key: ${keys}`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: artifact('wallet.png'), fullPage: true });
    await noCSPViolations(page);
  }],

  ['1. the viewer sends a gift combo and a tip: alerts over the player, in chat and in the OBS overlay', async (ctx) => {
    const page = ctx.vicPage;
    const overlay = ctx.overlayPage = await ctx.creatorPage.context().newPage();
    await overlay.goto(`${BASE}/overlay/${ctx.slug}/alerts`);
    await overlay.locator('[data-testid="overlay-alerts"][data-conn="open"]').waitFor({ timeout: 15000 });
    await watch(page, ctx.slug);

    await page.getByTestId('gift-open').click();
    const rose = page.getByTestId('gift-tray').getByTestId('gift-choice').filter({ hasText: `Rose${run}` });
    await rose.waitFor({ timeout: 10000 });
    for (let i = 0; i < 3; i++) await rose.click();
    const alert = page.locator('[data-testid="alert"][data-kind="gift"]');
    await until('one gift alert counting ×3', async () => (await alert.count()) === 1 && (await alert.getAttribute('data-count')) === '3', { timeout: 15000 });
    await alert.waitFor({ state: 'visible' });
    const box = await alert.boundingBox();
    assert(box && box.y > 60, `the alert is below the header, in view: ${JSON.stringify(box)}`);
    await page.screenshot({ path: artifact('channel-gift-alert.png') });
    await page.getByTestId('chat-money').filter({ hasText: `Rose${run}` }).first().waitFor({ timeout: 10000 });
    await until('the chat line to count the combo', async () =>
      (await page.locator('[data-testid="chat-money"][data-type="gift"]').count()) === 1
      && (await page.locator('[data-testid="chat-money"][data-type="gift"]').getAttribute('data-count')) === '3', { timeout: 10000 });
    await until('the balance to drop by 30', async () => (await page.getByTestId('wallet-chip').getAttribute('data-balance')) === '3970', { timeout: 10000 });
    // The seeded catalog's images are served by the UI (web/public/gifts).
    const seeded = page.getByTestId('gift-tray').locator('[data-testid="gift-choice"] img.gift-img');
    await until('the gift images to load', async () => {
      const ok = await seeded.evaluateAll((els) => els.map((el) => el.complete && el.naturalWidth > 0));
      return ok.length >= 2 && ok.every(Boolean);
    }, { timeout: 10000 });
    const overlayGift = overlay.locator('[data-testid="alert"][data-kind="gift"]');
    await overlayGift.waitFor({ timeout: 10000 });
    await overlay.screenshot({ path: artifact('overlay-alerts.png'), omitBackground: true });

    await page.getByTestId('tip-open').click();
    const dialog = page.getByTestId('tip-dialog');
    await dialog.waitFor();
    await dialog.getByLabel('Amount (coins)').fill('150');
    await dialog.getByLabel('Message (optional)').fill(`thanks for the music ${XSS}`);
    await dialog.getByTestId('tip-send').click();
    await page.locator('[data-testid="alert"][data-kind="tip"]').waitFor({ timeout: 10000 });
    const tipLine = page.locator('[data-testid="chat-money"][data-type="tip"]');
    await tipLine.waitFor({ timeout: 10000 });
    assert((await tipLine.textContent()).includes(XSS), 'the tip message is shown as text');
    assert(!(await page.evaluate(() => window.__xss)), 'the markup in the tip did not run');
    assert(await page.getByTestId('wallet-chip').getAttribute('data-balance') === '3820', 'the tip left the wallet');

    // More than the wallet holds: the server's reason, with a way to buy coins.
    await page.getByTestId('tip-open').click();
    await dialog.getByLabel('Amount (coins)').fill('99999');
    await dialog.getByTestId('tip-send').click();
    const err = dialog.getByTestId('tip-error');
    await err.waitFor({ timeout: 10000 });
    console.log(`    refused tip: ${await err.getAttribute('data-code')}: ${await err.textContent()}`);
    assert(await err.getAttribute('data-code') === 'insufficient_coins', `insufficient_coins: ${await err.textContent()}`);
    assert(await dialog.getByTestId('buy-coins-link').getAttribute('href') === `/account/wallet?next=${encodeURIComponent(`/c/${ctx.slug}`)}`, 'the Buy coins link returns here');
    await page.screenshot({ path: artifact('channel-tip-refused.png') });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached', timeout: 5000 });
    for (const p of ctx.vicPosts.filter((x) => /\/(gifts|tips)$/.test(x.path))) assert(KEY.test(p.headers['idempotency-key'] ?? ''), `${p.path} has an Idempotency-Key`);
    const giftKeys = ctx.vicPosts.filter((x) => x.path.endsWith('/gifts')).map((x) => x.headers['idempotency-key']);
    assert(new Set(giftKeys).size === 3, `three clicks, three actions: ${giftKeys}`);
    for (const p of [page, overlay]) await noCSPViolations(p);
  }],

  ['1. the creator\'s dashboard shows the alerts and the earnings', async (ctx) => {
    const dash = ctx.dashPage;
    const feed = dash.getByTestId('dash-alerts');
    await feed.locator('[data-testid="dash-alert"][data-type="gift"][data-count="3"]').waitFor({ timeout: 10000 });
    await feed.locator('[data-testid="dash-alert"][data-type="tip"]').waitFor({ timeout: 10000 });
    const earn = dash.getByTestId('dash-earnings');
    const amount = async (k) => Number(await earn.getByTestId(`earnings-${k}`).getAttribute('data-coins'));
    await until('the earnings to count the gift and the tip', async () => (await amount('gift')) > 0 && (await amount('tip')) > 0, { timeout: 15000 });
    console.log(`    creator earned: gift ${await amount('gift')} of 30, tip ${await amount('tip')} of 150`);
    assert((await amount('gift')) <= 30 && (await amount('tip')) <= 150, 'the creator earns at most what was spent');
    await earn.getByTestId('bar-chart').waitFor();
    const csv = await dash.evaluate(async (href) => (await fetch(href)).text(), await earn.getByTestId('earnings-csv').getAttribute('href'));
    assert(csv.startsWith('date,gift,tip,subscription,ad,total'), `the CSV export has its header: ${csv.slice(0, 80)}`);
    await earn.scrollIntoViewIfNeeded();
    await dash.screenshot({ path: artifact('dashboard-money.png'), fullPage: true });
    await earn.screenshot({ path: artifact('dashboard-earnings.png') });
    await noCSPViolations(dash);
  }],

  ['2. the viewer subscribes; in subscriber-only chat a non-subscriber is refused and the subscriber posts', async (ctx) => {
    const vic = ctx.vicPage;
    await vic.getByTestId('subscribe-open').click();
    const dialog = vic.getByTestId('sub-dialog');
    await dialog.getByTestId('sub-confirm').waitFor({ timeout: 10000 });
    await dialog.getByTestId('sub-confirm').click();
    await dialog.getByTestId('sub-status').waitFor({ timeout: 10000 });
    await vic.screenshot({ path: artifact('channel-subscribed.png') });
    await vic.keyboard.press('Escape');
    await until('the Subscribe button to show the subscription', async () => (await vic.getByTestId('subscribe-open').getAttribute('data-subscribed')) === 'true', { timeout: 5000 });
    const sub = ctx.vicPosts.find((p) => p.path.endsWith('/subscription') && p.method === 'POST');
    assert(sub && KEY.test(sub.headers['idempotency-key'] ?? ''), 'the subscription POST has an Idempotency-Key');
    await vic.locator('[data-testid="chat-money"][data-type="sub"]').waitFor({ timeout: 10000 });

    const dash = ctx.dashPage;
    const mod = dash.getByTestId('dash-moderation');
    await mod.getByLabel('Subscribers only').check();
    await mod.getByRole('button', { name: 'Save chat settings' }).click();
    await mod.getByTestId('mod-settings-saved').waitFor({ timeout: 10000 });

    const nat = ctx.natPage = await browser(ctx, 'nat');
    ctx.natPosts = [];
    recordMoneyPosts(nat, ctx.natPosts);
    nat.on('request', (r) => {
      if (r.method() === 'POST' && r.url().includes(`/channels/${ctx.slug}/heartbeat`)) ctx.natViewerId = JSON.parse(r.postData() ?? '{}').viewer_id;
    });
    ctx.nat = await account(ctx, nat, `Nat${run}`, `money-nat-${run}@example.test`);
    await watch(nat, ctx.slug);
    await nat.getByTestId('chat-subs-only').waitFor({ timeout: 10000 });
    await send(nat, 'can non-subscribers talk?');
    const err = nat.getByTestId('chat-error');
    await err.waitFor({ timeout: 10000 });
    console.log(`    refused: ${await err.getAttribute('data-code')}: ${await err.textContent()}`);
    assert(await err.getAttribute('data-code') === 'subscribers_only', `subscribers_only: ${await err.textContent()}`);
    assert(/subscri/i.test(await err.textContent()), 'the message says the chat is for subscribers');
    await nat.screenshot({ path: artifact('chat-subscribers-only-refused.png') });

    await send(vic, `a subscriber says hi ${run}`);
    const msg = messageWith(nat, `a subscriber says hi ${run}`);
    await msg.waitFor({ timeout: 10000 });
    assert((await msg.locator('[data-badge="subscriber"]').count()) === 1, 'the subscriber has the badge');
    assert((await messageWith(vic, 'can non-subscribers talk?').count()) === 0, 'the refused message never arrived');
    await vic.screenshot({ path: artifact('chat-subscriber-badge.png') });
    for (const p of [vic, nat, dash]) await noCSPViolations(p);
  }],

  ['3. during an ad break the non-subscriber sees the ad and the subscriber keeps playing', async (ctx) => {
    const { dashPage: dash, natPage: nat, vicPage: vic } = ctx;
    await until('the non-subscriber\'s heartbeat', () => ctx.natViewerId, { timeout: 20000 });
    const impression = nat.waitForResponse((r) => /\/api\/v1\/ad-breaks\/[^/]+\/impressions$/.test(new URL(r.url()).pathname), { timeout: 20000 });
    impression.catch(() => undefined); // awaited below; a failed step must not leave it unhandled
    const ads = dash.getByTestId('dash-ads');
    await ads.getByLabel('Break length (seconds)', { exact: true }).fill('45');
    await ads.getByTestId('ad-start').click();
    await ads.getByTestId('ad-running').waitFor({ timeout: 10000 });
    ctx.breakStarted = Date.now();

    const overlay = nat.getByTestId('ad-overlay');
    await overlay.waitFor({ state: 'visible', timeout: 10000 });
    const img = overlay.getByTestId('ad-image');
    await until('the ad image to load', () => img.evaluate((el) => el.complete && el.naturalWidth === 160), { timeout: 10000 });
    assert(/resumes in \d+ s/.test(await overlay.getByTestId('ad-countdown').textContent()), 'the overlay counts down');
    const res = await impression;
    const body = JSON.parse(res.request().postData() ?? '{}');
    assert(res.status() === 204, `the impression is accepted: ${res.status()} ${await res.text().catch(() => '')}`);
    assert(body.viewer_id === ctx.natViewerId, `the impression carries the heartbeat's viewer id: ${body.viewer_id} vs ${ctx.natViewerId}`);
    await nat.waitForTimeout(1500);
    const imps = ctx.natPosts.filter((p) => p.path.endsWith('/impressions'));
    assert(imps.length === 1, `one impression per break: ${imps.length}`);
    await nat.screenshot({ path: artifact('channel-ad-break.png') });

    await vic.getByTestId('ad-free').waitFor({ timeout: 10000 });
    assert((await vic.getByTestId('ad-overlay').count()) === 0, 'no ad over the subscriber\'s player');
    const s = await videoStats(vic, 2500);
    assert(s && s.advanced > 1.5 && !s.paused, `the subscriber's video keeps playing: ${JSON.stringify(s)}`);
    assert((await vic.getByTestId('ad-overlay').count()) === 0, 'still no ad for the subscriber');
    assert(!ctx.vicPosts.some((p) => p.path.endsWith('/impressions')), 'the subscriber posted no impression');
    await vic.screenshot({ path: artifact('channel-ad-free.png') });
    for (const p of [nat, vic, dash]) await noCSPViolations(p);
  }],

  ['4. every rendition\'s media playlist carries #EXT-X-DATERANGE with SCTE35-OUT during the break', async (ctx) => {
    const master = `${BASE}/hls/${ctx.slug}/index.m3u8`;
    const text = await (await fetch(master)).text();
    const uris = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((u) => new URL(u, master).href);
    assert(uris.length >= 2, `the multivariant playlist lists the ladder: ${uris}`);
    ctx.renditions = uris;
    for (const uri of uris) {
      const tag = await until(`DATERANGE in ${uri}`, async () => {
        const pl = await (await fetch(uri)).text();
        return pl.split('\n').find((l) => l.startsWith('#EXT-X-DATERANGE') && l.includes('SCTE35-OUT='));
      }, { timeout: 15000, interval: 500 });
      assert(tag.includes('CLASS="com.livehouse.ad"') && /ID="ad-[^"]+"/.test(tag) && tag.includes('PLANNED-DURATION='), `the tag is complete: ${tag}`);
      console.log(`    ${new URL(uri).pathname.split('/').slice(-2, -1)[0]}: ${tag.slice(0, 140)}`);
    }
  }],

  ['after the break: the overlay goes, the playlists mark SCTE35-IN, impressions are counted and the ledger verifies', async (ctx) => {
    const { natPage: nat, dashPage: dash, adminPage: admin } = ctx;
    await nat.getByTestId('ad-overlay').waitFor({ state: 'detached', timeout: 60000 });
    const took = (Date.now() - ctx.breakStarted) / 1000;
    console.log(`    the overlay left after ${took.toFixed(1)} s of a 45 s break`);
    assert(took > 40, `the ad stayed for its break: ${took} s`);
    for (const uri of ctx.renditions) {
      await until(`SCTE35-IN in ${uri}`, async () => (await (await fetch(uri)).text()).includes('SCTE35-IN='), { timeout: 15000, interval: 500 });
    }
    const ads = dash.getByTestId('dash-ads');
    await until('the break in the history with its impression', async () => {
      await ads.getByTestId('ad-running').waitFor({ state: 'detached', timeout: 1000 }).catch(() => undefined);
      const cells = await ads.getByTestId('ad-break-row').first().locator('td').allTextContents().catch(() => []);
      return cells.length > 3 && Number(cells[3].replace(/\D/g, '')) >= 1 ? cells : null;
    }, { timeout: 20000, interval: 1000 });

    await admin.goto(`${BASE}/admin/ledger`);
    await admin.getByTestId('verify-ledger').click();
    const result = admin.getByTestId('verify-result');
    await result.waitFor({ timeout: 15000 });
    assert(await result.getAttribute('data-ok') === 'true', `the ledger verifies: ${await result.textContent()}`);
    await admin.getByTestId('ledger-txn').first().waitFor({ timeout: 10000 });
    await admin.screenshot({ path: artifact('admin-ledger.png'), fullPage: true });
    await admin.getByRole('link', { name: 'Revenue', exact: true }).click();
    await admin.getByTestId('revenue-sales').waitFor({ timeout: 10000 });
    await admin.screenshot({ path: artifact('admin-revenue.png'), fullPage: true });
    await admin.getByRole('link', { name: 'Orders', exact: true }).click();
    await admin.getByTestId('admin-order').first().waitFor({ timeout: 10000 });
    await admin.screenshot({ path: artifact('admin-orders.png'), fullPage: true });
    for (const p of [nat, dash, admin]) await noCSPViolations(p);
  }],
];

export async function onFailure(ctx, step) {
  const n = step.replace(/\W+/g, '-').slice(0, 40);
  for (const [who, page] of [['admin', ctx.adminPage], ['creator', ctx.creatorPage], ['dash', ctx.dashPage], ['vic', ctx.vicPage], ['nat', ctx.natPage], ['overlay', ctx.overlayPage]]) {
    if (page && !page.isClosed()) await page.screenshot({ path: artifact(`failed-money-${n}-${who}.png`), fullPage: true }).catch(() => undefined);
  }
  if (ctx.ffmpeg) console.log(`    ffmpeg stderr: ${ctx.ffmpeg.stderr().slice(-800)}`);
}

export async function cleanup(ctx) {
  await ctx.ffmpeg?.stop();
  for (const b of ctx.browsers ?? []) await b.close();
}
