// The channel room in real browsers against a real server (no video needed:
// the room works while the channel is offline). A creator and two signed-in
// viewers, each in its own browser profile:
//  1. messages flow both ways, with a reply and an @mention;
//  2. the creator deletes a viewer's message and it disappears for everyone;
//  3. the creator opens a poll from the dashboard, both viewers vote, and
//     everyone sees the result;
//  4. a question is asked, approved, upvoted and answered;
//  5. reactions float over the video area;
//  6. a timeout stops a viewer: their next message shows the timed-out error;
//  7. the pop-out chat and the OBS overlays render without the app chrome;
//  8. an anonymous visitor reads and is asked to sign in to chat.
// All of it under the server's strict Content-Security-Policy.
import { deflateSync } from 'node:zlib';
import { BASE, artifact, assert, launch, noCSPViolations, until } from './lib.mjs';

const run = Math.random().toString(36).slice(2, 8);
const PASSWORD = 'correct horse battery staple';
const EMOTE = `wave_${run}`;

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
/** png makes a valid RGBA PNG: a yellow disc with a dark ring on a transparent ground. */
function png(size = 28) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const rows = [];
  const r = size / 2;
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4); // filter byte 0
    for (let x = 0; x < size; x++) {
      const d = Math.hypot(x + 0.5 - r, y + 0.5 - r);
      const px = d < r - 3 ? [255, 204, 51, 255] : d < r ? [90, 60, 10, 255] : [0, 0, 0, 0];
      row.set(px, 1 + x * 4);
    }
    rows.push(row);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0)),
  ]);
}


/** signUp makes an account through the API the way the UI does, leaving the session cookie in the browser. */
async function signUp(page, name, email) {
  await page.goto(`${BASE}/`);
  const res = await page.evaluate(async ([display_name, email, password]) => {
    const r = await fetch('/api/v1/auth/signup', {
      method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ email, password, display_name }), credentials: 'same-origin',
    });
    return { status: r.status, body: await r.json().catch(() => null) };
  }, [name, email, PASSWORD]);
  assert(res.status === 200 || res.status === 201, `sign-up of ${email}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.user;
}

async function browser(ctx, who) {
  const b = await launch();
  const page = b.context.pages()[0] ?? await b.context.newPage();
  page.on('pageerror', (e) => console.log(`    [${who} page error] ${e.message}`));
  (ctx.browsers ??= []).push(b);
  return page;
}

async function openChannel(page, slug) {
  await page.goto(`${BASE}/c/${slug}`);
  await page.locator('[data-testid="chat-panel"][data-conn="open"]').waitFor({ timeout: 20000 });
}

const messages = (page) => page.getByTestId('chat-message');
// A message by its own text (a reply also quotes its parent's text).
const messageWith = (page, text) => page.getByTestId('chat-message').filter({ has: page.locator('.chat-text', { hasText: text }) });

/** loadedEmote waits for an emote image in the message and checks that it decoded (so the CSP let it load). */
async function loadedEmote(page, msg, name) {
  const img = msg.locator(`img.chat-emote[alt=":${name}:"]`);
  await img.first().waitFor({ timeout: 10000 });
  await until(`the :${name}: image to load`, () => img.first().evaluate((el) => el.complete && el.naturalWidth > 0), { timeout: 10000 });
  const attrs = await img.first().evaluate((el) => ({
    title: el.title, loading: el.loading, height: el.getBoundingClientRect().height, src: el.getAttribute('src'),
  }));
  assert(attrs.title === `:${name}:`, `the emote has a title: ${attrs.title}`);
  assert(attrs.loading === 'lazy', 'the emote loads lazily');
  assert(Math.round(attrs.height) === 28, `the emote is 28 px high: ${attrs.height}`);
  assert(attrs.src.startsWith('/emotes/'), `the emote is served by the server: ${attrs.src}`);
  return img;
}

async function send(page, text) {
  await page.getByTestId('chat-input').fill(text);
  await page.getByTestId('chat-send').click();
}

export const steps = [
  ['a creator and two viewers open the channel room', async (ctx) => {
    ctx.creatorPage = await browser(ctx, 'creator');
    ctx.creatorUser = await signUp(ctx.creatorPage, `Host${run}`, `chat-host-${run}@example.test`);
    ctx.slug = `room-${run}`;
    const created = await ctx.creatorPage.evaluate(async (slug) => {
      const me = await (await fetch('/api/v1/auth/me')).json();
      const r = await fetch('/api/v1/channels', {
        method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
        body: JSON.stringify({ slug, display_name: `Room ${slug}`, category: 'music' }),
      });
      return { status: r.status, body: await r.text() };
    }, ctx.slug);
    assert(created.status === 201 || created.status === 200, `channel created: ${created.status} ${created.body}`);
    ctx.annPage = await browser(ctx, 'ann');
    ctx.ann = await signUp(ctx.annPage, `Ann${run}`, `chat-ann-${run}@example.test`);
    ctx.benPage = await browser(ctx, 'ben');
    ctx.ben = await signUp(ctx.benPage, `Ben${run}`, `chat-ben-${run}@example.test`);
    for (const p of [ctx.creatorPage, ctx.annPage, ctx.benPage]) await openChannel(p, ctx.slug);
    await ctx.annPage.getByText('No messages yet — say hi').waitFor();
    // The socket opened under the page's CSP (connect-src 'self' covers same-origin ws:).
    for (const p of [ctx.creatorPage, ctx.annPage, ctx.benPage]) await noCSPViolations(p);
  }],

  ['messages flow both ways, with a reply and a highlighted @mention', async (ctx) => {
    const { annPage, benPage, creatorPage } = ctx;
    await send(annPage, `hello from ann <b>${run}</b>`);
    for (const p of [creatorPage, benPage, annPage]) await messageWith(p, `hello from ann <b>${run}</b>`).waitFor();
    assert(await annPage.getByTestId('chat-input').inputValue() === '', 'the input clears after the ack');
    await send(creatorPage, `@ann${run} welcome to the room`);
    const m = messageWith(annPage, 'welcome to the room');
    await m.waitFor();
    assert(await m.evaluate((el) => el.classList.contains('mentioned')), 'the mention of Ann is highlighted for Ann');
    assert(!(await messageWith(benPage, 'welcome to the room').evaluate((el) => el.classList.contains('mentioned'))), 'not highlighted for Ben');
    assert((await m.locator('[data-badge="broadcaster"]').count()) === 1, 'the creator has the broadcaster badge');
    // Ben replies to Ann's message.
    const annMsg = messageWith(benPage, `hello from ann`);
    await annMsg.hover();
    await annMsg.getByTestId('chat-reply-btn').click();
    await send(benPage, 'replying to ann');
    const reply = messageWith(annPage, 'replying to ann');
    await reply.waitFor();
    const quoted = await reply.getByTestId('chat-reply').textContent();
    assert(quoted.includes(`Ann${run}`), `the reply names its parent: ${quoted}`);
    assert(!(await annPage.evaluate(() => document.querySelector('.chat-list b'))), 'message markup is shown as text');
  }],

  ['the creator deletes a viewer message and it disappears for everyone', async (ctx) => {
    const { annPage, benPage, creatorPage } = ctx;
    const target = messageWith(creatorPage, `hello from ann`);
    await target.hover();
    await target.getByTestId('mod-delete').click();
    for (const p of [creatorPage, annPage, benPage]) {
      await until('the deleted message to disappear', async () => (await messageWith(p, 'hello from ann').count()) === 0, { timeout: 10000 });
    }
    assert((await annPage.getByTestId('mod-delete').count()) === 0, 'viewers have no moderator tools');
    await messageWith(benPage, 'replying to ann').getByText('Replying to a removed message').waitFor();
  }],

  ['a poll opened from the dashboard gets both votes and everyone sees the result', async (ctx) => {
    const { annPage, benPage, creatorPage } = ctx;
    const dash = ctx.dashPage = await creatorPage.context().newPage();
    await dash.goto(`${BASE}/dashboard/${ctx.slug}`);
    const panel = dash.getByTestId('dash-polls');
    await panel.waitFor();
    await dash.getByLabel('Poll question').fill('Which song next?');
    await dash.getByLabel('Option 1').fill('Blue in Green');
    await dash.getByLabel('Option 2').fill('So What');
    await dash.getByLabel('Duration').selectOption('120');
    await until('the dashboard room to connect', async () => dash.getByRole('button', { name: 'Open poll' }).isEnabled(), { timeout: 15000 });
    await dash.getByRole('button', { name: 'Open poll' }).click();
    await dash.locator('[data-testid="dash-poll"][data-state="open"]').waitFor();
    for (const [p, option] of [[annPage, 0], [benPage, 1]]) {
      const poll = p.locator('[data-testid="poll"][data-state="open"]');
      await poll.waitFor({ timeout: 10000 });
      await poll.locator(`[data-testid="poll-option"][data-index="${option}"]`).click();
      await poll.locator(`[data-testid="poll-result"][data-index="${option}"]`).waitFor();
    }
    await until('the dashboard to count two votes', async () => (await panel.textContent()).includes('2 votes'), { timeout: 10000 });
    await creatorPage.screenshot({ path: artifact('chat-poll.png') });
    await dash.getByRole('button', { name: 'End poll now' }).click();
    for (const p of [creatorPage, annPage, benPage]) {
      const closed = p.locator('[data-testid="poll"][data-state="closed"]');
      await closed.waitFor({ timeout: 10000 });
      const counts = await closed.locator('[data-testid="poll-result"]').evaluateAll((els) => els.map((e) => Number(e.dataset.count)));
      assert(JSON.stringify(counts) === '[1,1]', `final counts [1,1], got ${counts}`);
      assert((await closed.textContent()).includes('50%'), 'percentages are shown');
    }
  }],

  ['a question is asked, approved, upvoted and answered', async (ctx) => {
    const { annPage, benPage, creatorPage } = ctx;
    for (const p of [annPage, benPage, creatorPage]) await p.getByTestId('tab-qa').click();
    await annPage.getByTestId('qa-input').fill('What is the first tune?');
    await annPage.getByTestId('qa-send').click();
    await annPage.getByText('Your question was sent').waitFor();
    const q = creatorPage.getByTestId('question').filter({ hasText: 'What is the first tune?' });
    await q.waitFor({ timeout: 10000 });
    assert((await q.getAttribute('data-state')) === 'pending', 'the moderator sees it pending');
    assert((await benPage.getByTestId('question').count()) === 0, 'viewers do not see pending questions');
    await q.getByTestId('qa-approve').click();
    const bq = benPage.getByTestId('question').filter({ hasText: 'What is the first tune?' });
    await bq.waitFor({ timeout: 10000 });
    await bq.getByTestId('qa-upvote').click();
    for (const p of [annPage, creatorPage, benPage]) {
      await until('the upvote to show', async () => (await p.getByTestId('question').filter({ hasText: 'What is the first tune?' }).getByTestId('qa-votes').textContent()) === '1', { timeout: 10000 });
    }
    await q.getByTestId('qa-answered-btn').click();
    for (const p of [annPage, benPage]) await p.getByTestId('question').filter({ hasText: 'What is the first tune?' }).getByTestId('qa-answered').waitFor({ timeout: 10000 });
    for (const p of [annPage, benPage, creatorPage]) await p.getByTestId('tab-chat').click();
  }],

  ['reactions float over the video for everyone', async (ctx) => {
    const { annPage, creatorPage } = ctx;
    const seen = creatorPage.evaluate(() => new Promise((resolve) => {
      const layer = document.querySelector('[data-testid="reaction-layer"]');
      const done = () => resolve(layer.querySelector('.float-emoji')?.textContent ?? '');
      if (layer.querySelector('.float-emoji')) return done();
      new MutationObserver(done).observe(layer, { childList: true });
      setTimeout(() => resolve(''), 8000);
    }));
    await annPage.getByRole('button', { name: 'React 🔥' }).click();
    const emoji = await seen;
    assert(emoji === '🔥', `the creator saw a floating reaction: "${emoji}"`);
  }],

  ['a timeout stops the viewer: their next message shows the timed-out error', async (ctx) => {
    const { benPage, creatorPage, annPage } = ctx;
    await send(benPage, 'ben is about to be timed out');
    const target = messageWith(creatorPage, 'ben is about to be timed out');
    await target.waitFor();
    await target.hover();
    await target.getByTestId('mod-timeout').click();
    await benPage.getByTestId('chat-notice').filter({ hasText: 'You were timed out for 10 min' }).waitFor({ timeout: 10000 });
    await annPage.getByTestId('chat-notice').filter({ hasText: `Ben${run} was timed out` }).waitFor({ timeout: 10000 });
    await send(benPage, 'can I still talk?');
    const err = benPage.getByTestId('chat-error');
    await err.waitFor({ timeout: 10000 });
    const text = await err.textContent();
    assert(/timed out/i.test(text), `the error says so: ${text}`);
    assert((await err.getAttribute('data-code')) === 'timed_out', 'the error code is timed_out');
    assert(await benPage.getByTestId('chat-input').inputValue() === 'can I still talk?', 'the refused message stays in the input');
    await until('the refused message never to arrive', async () => (await messageWith(annPage, 'can I still talk?').count()) === 0, { timeout: 2000 });
    await creatorPage.waitForTimeout(300);
    await creatorPage.screenshot({ path: artifact('channel-chat.png') });
    await benPage.screenshot({ path: artifact('channel-chat-timed-out.png') });
    for (const p of [creatorPage, annPage, benPage, ctx.dashPage]) await noCSPViolations(p);
  }],

  ['the pop-out chat and the OBS overlays render without app chrome', async (ctx) => {
    const page = await ctx.annPage.context().newPage();
    ctx.extraPage = page;
    for (const path of [`/popout/${ctx.slug}/chat`, `/overlay/${ctx.slug}/chat`, `/overlay/${ctx.slug}/poll`]) {
      const res = await page.goto(`${BASE}${path}`);
      if (res.status() !== 200) console.log(`    note: ${path} answered HTTP ${res.status()} (web/web.go's spaRoutes has no /popout/ or /overlay/ prefix)`);
      await page.locator('[data-conn="open"]').waitFor({ timeout: 15000 });
      assert((await page.locator('.topbar').count()) === 0, `${path} has no app header`);
      if (path.includes('/chat')) await messageWith(page, 'welcome to the room').waitFor();
      if (path.startsWith('/overlay/')) {
        const bg = await page.evaluate(() => [getComputedStyle(document.documentElement).backgroundColor, getComputedStyle(document.body).backgroundColor]);
        assert(bg.every((c) => c === 'rgba(0, 0, 0, 0)' || c === 'transparent'), `${path} is transparent: ${bg}`);
      }
      await noCSPViolations(page);
    }
    await page.goto(`${BASE}/overlay/${ctx.slug}/chat`);
    await messageWith(page, 'welcome to the room').waitFor();
    await page.screenshot({ path: artifact('overlay-chat.png'), omitBackground: true });
  }],

  ['an anonymous visitor reads the chat and is asked to sign in', async (ctx) => {
    const page = await browser(ctx, 'anonymous');
    await openChannel(page, ctx.slug);
    await messageWith(page, 'welcome to the room').waitFor();
    await page.getByRole('link', { name: 'Sign in to chat' }).waitFor();
    assert((await page.getByTestId('chat-input').count()) === 0, 'no input for anonymous viewers');
    assert((await messages(page).count()) >= 2, 'history is shown');
    const phone = await launch({ viewport: { width: 390, height: 844 } });
    ctx.browsers.push(phone);
    const p = phone.context.pages()[0] ?? await phone.context.newPage();
    await openChannel(p, ctx.slug);
    const [player, chat] = await Promise.all([p.locator('.player-shell').boundingBox(), p.getByTestId('chat-panel').boundingBox()]);
    assert(chat.y >= player.y + player.height - 1, 'on a phone the chat is below the player');
    await p.screenshot({ path: artifact('channel-chat-phone.png'), fullPage: true });
    await noCSPViolations(page);
  }],

  ['emotes: on a second channel the dashboard panel starts empty and catches bad names, oversize files and non-images', async (ctx) => {
    // A channel no viewer has opened yet, so no browser holds its emote list (cacheable for 30 s).
    ctx.emoSlug = `emo-${run}`;
    const created = await ctx.creatorPage.evaluate(async (slug) => {
      const me = await (await fetch('/api/v1/auth/me')).json();
      const r = await fetch('/api/v1/channels', {
        method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
        body: JSON.stringify({ slug, display_name: `Emotes ${slug}`, category: 'music' }),
      });
      return { status: r.status, body: await r.text() };
    }, ctx.emoSlug);
    assert(created.status === 201 || created.status === 200, `channel created: ${created.status} ${created.body}`);
    const dash = ctx.dashPage;
    await dash.goto(`${BASE}/dashboard/${ctx.emoSlug}`);
    const panel = ctx.panel = dash.getByTestId('dash-emotes');
    await panel.getByText('No emotes yet').waitFor({ timeout: 15000 });
    const name = panel.getByLabel('Name');
    const file = panel.getByLabel('Image');
    const submit = panel.getByRole('button', { name: 'Upload emote' });
    // A bad name is refused before any upload.
    await file.setInputFiles({ name: 'ok.png', mimeType: 'image/png', buffer: png() });
    await name.fill('a-b');
    await submit.click();
    await panel.locator('#emote-name-error').filter({ hasText: '2 to 32 letters' }).waitFor();
    // Oversize: the client says so before uploading 300 KB.
    let puts = 0;
    const count = (req) => { if (req.method() === 'PUT' && req.url().includes('/emotes/')) puts++; };
    dash.on('request', count);
    await name.fill(EMOTE);
    await file.setInputFiles({ name: 'huge.png', mimeType: 'image/png', buffer: Buffer.concat([png(), Buffer.alloc(300 * 1024)]) });
    await panel.locator('#emote-file-error').filter({ hasText: 'at most 256 KB' }).waitFor();
    await submit.click();
    await panel.locator('#emote-file-error').filter({ hasText: 'at most 256 KB' }).waitFor();
    assert(puts === 0, `an oversize file is not uploaded (${puts} PUTs)`);
    // Not an image, though it claims to be: the server's message is shown.
    await file.setInputFiles({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('these are not the pixels you are looking for\n'.repeat(20)) });
    const answer = dash.waitForResponse((r) => r.request().method() === 'PUT' && r.url().includes(`/emotes/${EMOTE}`));
    await submit.click();
    const res = await answer;
    assert(res.status() === 415, `the server refuses a non-image with 415: ${res.status()}`);
    const serverMessage = (await res.json()).error.message;
    await panel.locator('#emote-file-error').filter({ hasText: serverMessage }).waitFor();
    dash.off('request', count);
    assert(/PNG, JPEG or WebP/.test(serverMessage), `the server's message names the formats: ${serverMessage}`);
    assert((await panel.getByTestId('dash-emote').count()) === 0, 'nothing was added');
  }],

  ['emotes: the creator uploads a PNG emote and it is listed with its image', async (ctx) => {
    const { dashPage: dash, panel } = ctx;
    await panel.getByLabel('Name').fill('');
    await panel.getByLabel('Image').setInputFiles({ name: `${EMOTE}.png`, mimeType: 'image/png', buffer: png() });
    assert(await panel.getByLabel('Name').inputValue() === EMOTE, 'the name is suggested from the file name');
    await panel.getByRole('button', { name: 'Upload emote' }).click();
    const item = panel.locator(`[data-testid="dash-emote"][data-emote="${EMOTE}"]`);
    await item.waitFor({ timeout: 10000 });
    await until('the listed image to load', () => item.locator('img').evaluate((el) => el.complete && el.naturalWidth === 28), { timeout: 10000 });
    assert(await panel.getByLabel('Name').inputValue() === '', 'the form clears after the upload');
    assert((await panel.locator('.field-error').count()) === 0, 'no error is left');
    // The public list has it, and the creator's browser no longer holds the empty list.
    const list = await dash.evaluate(async (slug) => (await fetch(`/api/v1/channels/${slug}/emotes`, { cache: 'no-store' })).json(), ctx.emoSlug);
    assert(list.emotes.some((e) => e.name === EMOTE), `GET /emotes lists it: ${JSON.stringify(list)}`);
    await panel.scrollIntoViewIfNeeded();
    await panel.screenshot({ path: artifact('dashboard-emotes.png') });
    await noCSPViolations(dash);
  }],

  ['emotes: a viewer picks the emote and sends it; both see the image in the message', async (ctx) => {
    const { annPage: viewer, creatorPage: creator } = ctx;
    await openChannel(viewer, ctx.emoSlug);
    await openChannel(creator, ctx.emoSlug);
    const picker = viewer.getByRole('button', { name: 'Insert an emote' });
    await picker.waitFor({ timeout: 10000 });
    assert(await picker.getAttribute('aria-expanded') === 'false', 'the picker starts closed');
    await viewer.getByTestId('chat-input').fill('hello');
    await picker.click();
    await viewer.getByRole('button', { name: `Insert :${EMOTE}:` }).click();
    assert(await viewer.getByTestId('chat-input').inputValue() === `hello :${EMOTE}: `, 'the token is inserted at the caret');
    assert((await viewer.getByTestId('emote-grid').count()) === 0, 'the picker closes after a pick');
    await viewer.getByTestId('chat-input').press('End');
    await viewer.getByTestId('chat-input').pressSequentially(`and :nope${run}: stays text`);
    await viewer.getByTestId('chat-send').click();
    for (const p of [viewer, creator]) {
      const msg = messageWith(p, `stays text`);
      await msg.waitFor({ timeout: 10000 });
      await loadedEmote(p, msg, EMOTE);
      const text = await msg.locator('.chat-text').textContent();
      assert(text.includes(`:nope${run}:`), `an unknown token stays text: ${text}`);
      assert(!text.includes(`:${EMOTE}:`), `the known token is an image, not text: ${text}`);
    }
    // Keyboard: Tab to the picker, open it with Enter, move with the arrows, pick with Enter, Escape closes.
    await viewer.getByTestId('chat-input').fill('');
    await viewer.getByTestId('chat-input').focus();
    await viewer.keyboard.press('Tab');
    assert(await picker.evaluate((el) => el === document.activeElement), 'Tab reaches the emote picker');
    await viewer.keyboard.press('Enter');
    const choice = viewer.getByRole('button', { name: `Insert :${EMOTE}:` });
    await until('focus in the picker', () => choice.evaluate((el) => el === document.activeElement), { timeout: 3000 });
    await viewer.keyboard.press('Escape');
    assert((await viewer.getByTestId('emote-grid').count()) === 0, 'Escape closes the picker');
    assert(await picker.evaluate((el) => el === document.activeElement), 'focus returns to the picker button');
    await viewer.keyboard.press('Enter');
    await until('focus in the picker', () => choice.evaluate((el) => el === document.activeElement), { timeout: 3000 });
    await viewer.keyboard.press('Enter');
    await until('the input to get the token', async () => (await viewer.getByTestId('chat-input').inputValue()) === `:${EMOTE}: `, { timeout: 3000 });
    assert(await viewer.getByTestId('chat-input').evaluate((el) => el === document.activeElement), 'focus returns to the input');
    await viewer.keyboard.press('Enter');
    await until('the emote-only message', async () => (await viewer.getByTestId('chat-message').count()) === 2, { timeout: 10000 });
    await loadedEmote(creator, creator.getByTestId('chat-message').last(), EMOTE);
    await viewer.waitForTimeout(200);
    await viewer.screenshot({ path: artifact('chat-emotes.png') });
    for (const p of [viewer, creator]) await noCSPViolations(p);
  }],

  ['emotes: the pop-out chat and the OBS overlay show the emote', async (ctx) => {
    const page = ctx.extraPage;
    for (const path of [`/popout/${ctx.emoSlug}/chat`, `/overlay/${ctx.emoSlug}/chat`]) {
      await page.goto(`${BASE}${path}`);
      await page.locator('[data-conn="open"]').waitFor({ timeout: 15000 });
      await loadedEmote(page, messageWith(page, 'stays text'), EMOTE);
      await noCSPViolations(page);
    }
    await page.screenshot({ path: artifact('overlay-chat-emotes.png'), omitBackground: true });
  }],

  ['emotes: the creator deletes the emote; another viewer then sees text and no picker', async (ctx) => {
    const { dashPage: dash, panel } = ctx;
    await dash.goto(`${BASE}/dashboard/${ctx.emoSlug}`);
    await panel.locator(`[data-testid="dash-emote"][data-emote="${EMOTE}"]`).waitFor({ timeout: 15000 });
    await panel.getByRole('button', { name: `Delete emote :${EMOTE}:` }).click();
    await panel.getByText('No emotes yet').waitFor({ timeout: 10000 });
    // Ben has not opened this channel yet (and is timed out only in the first one).
    const visitor = ctx.benPage;
    await openChannel(visitor, ctx.emoSlug);
    await visitor.getByTestId('chat-input').waitFor();
    const msg = messageWith(visitor, 'stays text');
    await msg.waitFor({ timeout: 10000 });
    assert((await msg.locator('img').count()) === 0, 'no image for a deleted emote');
    assert((await msg.locator('.chat-text').textContent()).includes(`:${EMOTE}:`), 'the token is text again');
    assert((await visitor.getByTestId('emote-picker').count()) === 0, 'no picker when the channel has no emotes');
    await noCSPViolations(visitor);
    await noCSPViolations(dash);
  }],

  ['moderation: on a new channel the dashboard shows the empty moderators, terms and audit log', async (ctx) => {
    // A channel nobody has chatted in yet, so the room reads its blocked terms on the first message.
    ctx.modSlug = `mod-${run}`;
    const created = await ctx.creatorPage.evaluate(async (slug) => {
      const me = await (await fetch('/api/v1/auth/me')).json();
      const r = await fetch('/api/v1/channels', {
        method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
        body: JSON.stringify({ slug, display_name: `Mods ${slug}`, category: 'music' }),
      });
      return { status: r.status, body: await r.text() };
    }, ctx.modSlug);
    assert(created.status === 201 || created.status === 200, `channel created: ${created.status} ${created.body}`);
    const dash = ctx.dashPage;
    await dash.goto(`${BASE}/dashboard/${ctx.modSlug}`);
    const panel = ctx.modPanel = dash.getByTestId('dash-moderation');
    await panel.getByTestId('mod-settings').waitFor({ timeout: 15000 });
    await panel.getByTestId('mod-moderators-empty').waitFor({ timeout: 10000 });
    await panel.getByTestId('mod-terms-empty').waitFor({ timeout: 10000 });
    await panel.getByText('No moderator actions yet').waitFor({ timeout: 10000 });
    assert(await panel.getByLabel('Slow mode (seconds)').inputValue() === '0', 'slow mode starts off');
    assert(await panel.getByLabel('Minimum follow age (minutes)').isDisabled(), 'the follow age waits for followers-only');
    assert(await panel.getByLabel('Links').inputValue() === 'allow', 'links start allowed');
  }],

  ['moderation: a blocked term set to hold keeps a viewer message until the creator allows it from the dashboard', async (ctx) => {
    const { dashPage: dash, modPanel: panel, annPage: viewer, creatorPage: creator } = ctx;
    const term = `spoiler${run}`;
    await panel.getByLabel('Word or phrase').fill(term.toUpperCase());
    await panel.getByLabel('Action').selectOption('hold');
    await panel.getByRole('button', { name: 'Add term' }).click();
    const row = panel.locator(`[data-testid="blocked-term"][data-term="${term}"]`);
    await row.waitFor({ timeout: 10000 });
    assert((await row.textContent()).includes('held for review'), 'the term is listed, lower-cased, as held for review');
    for (const p of [viewer, creator]) await openChannel(p, ctx.modSlug);
    await send(viewer, `big ${term} ahead`);
    const err = viewer.getByTestId('chat-error');
    await err.waitFor({ timeout: 10000 });
    assert((await err.getAttribute('data-code')) === 'held', `the viewer is told the message is held: ${await err.textContent()}`);
    const held = panel.getByTestId('held-message').filter({ hasText: `big ${term} ahead` });
    await held.waitFor({ timeout: 10000 });
    assert((await held.textContent()).includes(`Ann${run}`), 'the held message names its author');
    assert((await messageWith(creator, `big ${term} ahead`).count()) === 0, 'a held message is not in the chat');
    await panel.scrollIntoViewIfNeeded();
    await dash.screenshot({ path: artifact('dashboard-moderation-held.png'), fullPage: true });
    await held.getByRole('button', { name: /^Allow/ }).click();
    for (const p of [viewer, creator]) await messageWith(p, `big ${term} ahead`).waitFor({ timeout: 10000 });
    await until('the held list to empty', async () => (await panel.getByTestId('held-message').count()) === 0, { timeout: 5000 });
    // Remove the term again so the later steps are unaffected.
    await row.getByRole('button', { name: `Remove blocked term ${term}` }).click();
    await panel.getByTestId('mod-terms-empty').waitFor({ timeout: 10000 });
  }],

  ['moderation: slow mode from the dashboard stops a viewer\'s quick second message; a refused value shows the server\'s reason', async (ctx) => {
    const { modPanel: panel, annPage: viewer } = ctx;
    // A fresh page: the held message's "held" error frame carries no ref (see the report), so the
    // first page's send would still be waiting for its answer.
    await openChannel(viewer, ctx.modSlug);
    const slow = panel.getByLabel('Slow mode (seconds)');
    const save = panel.getByRole('button', { name: 'Save chat settings' });
    await slow.fill('4000');
    await save.click();
    const refused = panel.getByTestId('mod-settings-error');
    await refused.waitFor({ timeout: 10000 });
    assert(/0 to 3600/.test(await refused.textContent()), `the server's message is shown: ${await refused.textContent()}`);
    await slow.fill('30');
    await save.click();
    await panel.getByTestId('mod-settings-saved').waitFor({ timeout: 10000 });
    await viewer.waitForTimeout(300); // the room.settings event reaches the room
    await send(viewer, 'first under slow mode');
    await messageWith(viewer, 'first under slow mode').waitFor({ timeout: 10000 });
    await send(viewer, 'second too soon');
    const err = viewer.getByTestId('chat-error');
    await until('the slow-mode error', async () => (await err.getAttribute('data-code')) === 'slow_mode', { timeout: 10000 });
    assert(/slow mode/i.test(await err.textContent()), `the error says so: ${await err.textContent()}`);
    assert(await viewer.getByTestId('chat-input').inputValue() === 'second too soon', 'the refused message stays in the input');
    // Turn slow mode off again.
    await slow.fill('0');
    await save.click();
    await panel.getByTestId('mod-settings-saved').waitFor({ timeout: 10000 });
    assert(await slow.inputValue() === '0', 'the form shows slow mode off');
  }],

  ['moderation: the creator makes a viewer a moderator from the chat and the dashboard lists them', async (ctx) => {
    const { modPanel: panel, annPage: viewer, creatorPage: creator } = ctx;
    const mine = messageWith(creator, 'first under slow mode');
    assert((await viewer.getByTestId('mod-appoint').count()) === 0, 'viewers cannot appoint moderators');
    await send(creator, 'the host speaks');
    const own = messageWith(creator, 'the host speaks');
    await own.waitFor({ timeout: 10000 });
    assert((await own.getByTestId('mod-appoint').count()) === 0, 'no Make moderator on the owner\'s own message');
    await mine.hover();
    await mine.getByRole('button', { name: `Make Ann${run} a moderator` }).click();
    await viewer.getByTestId('chat-notice').filter({ hasText: 'You are now a moderator.' }).waitFor({ timeout: 10000 });
    await creator.getByTestId('chat-notice').filter({ hasText: `Ann${run} is now a moderator.` }).waitFor({ timeout: 10000 });
    await panel.locator(`[data-testid="moderator"][data-id="${ctx.ann.id}"]`).filter({ hasText: `Ann${run}` }).waitFor({ timeout: 10000 });
    await viewer.getByTestId('mod-delete').first().waitFor({ timeout: 10000 }); // the new moderator gets the tools
  }],

  ['moderation: the audit log lists the settings changes, the allowed message and the new moderator', async (ctx) => {
    const { dashPage: dash, modPanel: panel } = ctx;
    const audit = panel.getByTestId('mod-audit');
    const actions = () => audit.getByTestId('audit-entry').evaluateAll((els) => els.map((e) => e.dataset.action));
    await until('the audit log to list the actions', async () => {
      const a = await actions();
      return a.includes('mod.add') && a.includes('held.release') && a.filter((x) => x === 'settings').length >= 2;
    }, { timeout: 10000 });
    const a = await actions();
    assert(a[0] === 'mod.add', `newest first: ${a}`);
    const text = await audit.textContent();
    assert(text.includes(`Appointed moderator Ann${run}`), 'the new moderator is named');
    assert(text.includes(`Allowed a held message from Ann${run}`), 'the allowed message names its author');
    assert(text.includes('slow mode 30 s'), 'the settings change is described');
    assert((await audit.getByRole('button', { name: 'Load more' }).count()) === 0, 'one page: no Load more');
    await panel.scrollIntoViewIfNeeded();
    await panel.screenshot({ path: artifact('dashboard-moderation.png') });
    // Keyboard: the settings are reachable and labelled.
    await panel.getByLabel('Slow mode (seconds)').focus();
    await dash.keyboard.press('Tab');
    assert(await dash.evaluate(() => document.activeElement?.id) === 'mod-followers', 'Tab moves from slow mode to followers-only');
    // Remove the moderator again from the dashboard.
    await panel.getByRole('button', { name: `Remove Ann${run} as moderator` }).click();
    await panel.getByTestId('mod-moderators-empty').waitFor({ timeout: 10000 });
    await ctx.annPage.getByTestId('chat-notice').filter({ hasText: 'You are no longer a moderator.' }).waitFor({ timeout: 10000 });
    for (const p of [dash, ctx.annPage, ctx.creatorPage]) await noCSPViolations(p);
  }],
];

export async function onFailure(ctx, step) {
  const n = step.replace(/\W+/g, '-').slice(0, 40);
  for (const [who, page] of [['creator', ctx.creatorPage], ['ann', ctx.annPage], ['ben', ctx.benPage], ['dash', ctx.dashPage], ['extra', ctx.extraPage]]) {
    if (page && !page.isClosed()) await page.screenshot({ path: artifact(`failed-chat-${n}-${who}.png`) }).catch(() => undefined);
  }
}

export async function cleanup(ctx) {
  for (const b of ctx.browsers ?? []) await b.close();
}
