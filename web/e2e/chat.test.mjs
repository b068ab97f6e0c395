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
import { BASE, artifact, assert, launch, noCSPViolations, until } from './lib.mjs';

const run = Math.random().toString(36).slice(2, 8);
const PASSWORD = 'correct horse battery staple';

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
