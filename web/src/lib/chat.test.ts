import { describe, expect, it } from 'vitest';
import { applyEvent, applyWelcome, backoff, chars, chatURL, currentPoll, emoteParts, initialState, sortQuestions, type Question } from './chat';

const welcome = (over: Record<string, unknown> = {}) => ({
  type: 'welcome', last_seq: 3, resumed: false, you: { id: 'u1', name: 'Ann' }, signed_in: true, can_moderate: false,
  settings: { anonymous_can_post: false, slow_seconds: 0, followers_only_minutes: null, subscribers_only: false, emote_only: false, links: 'allow' },
  polls: [], history: [
    { type: 'chat', seq: 2, id: 'm2', user: { id: 'u2', name: 'Bob' }, text: 'hi', mentions: [], at: 1 },
    { type: 'chat', seq: 3, id: 'm3', user: { id: 'u1', name: 'Ann' }, text: '@bob yo', reply_to: 2, mentions: ['bob'], at: 2 },
  ], ...over,
});

describe('room state', () => {
  it('starts from the welcome history and keeps the last seq', () => {
    const s = applyWelcome(initialState(), welcome() as never);
    expect(s.messages.map((m) => m.seq)).toEqual([2, 3]);
    expect(s.lastSeq).toBe(3);
    expect(s.conn).toBe('open');
  });
  it('removes deleted messages and notes timeouts of the signed-in user', () => {
    let s = applyWelcome(initialState(), welcome() as never);
    s = applyEvent(s, { type: 'chat.delete', seq: 4, target: 2 });
    expect(s.messages.map((m) => m.seq)).toEqual([3]);
    expect(s.removed[2]).toBe(true);
    s = applyEvent(s, { type: 'user.timeout', seq: 5, user_id: 'u1', until: 600_000 + 10, at: 10, actor: 'Mod' });
    expect(s.timedOutUntil).toBe(600_010);
    const last = s.messages[s.messages.length - 1];
    expect(last.kind === 'notice' && last.text).toBe('You were timed out for 10 min by Mod.');
  });
  it('notes moderator changes, follows settings and counts moderation activity', () => {
    let s = applyWelcome(initialState(), welcome() as never);
    expect(s.modActivity).toBe(0);
    s = applyEvent(s, { type: 'room.moderator', seq: 4, user_id: 'u2', added: true, mod_name: 'Bob' });
    let last = s.messages[s.messages.length - 1];
    expect(last.kind === 'notice' && last.text).toBe('Bob is now a moderator.');
    expect(s.canModerate).toBe(false);
    s = applyEvent(s, { type: 'room.moderator', seq: 5, user_id: 'u1', added: true });
    last = s.messages[s.messages.length - 1];
    expect(last.kind === 'notice' && last.text).toBe('You are now a moderator.');
    expect(s.canModerate).toBe(true);
    s = applyEvent(s, { type: 'room.settings', seq: 6, settings: { ...welcome().settings, slow_seconds: 30 } });
    expect(s.settings?.slow_seconds).toBe(30);
    s = applyEvent(s, { type: 'user.ban', seq: 7, user_id: 'u2' });
    expect(s.modActivity).toBe(4);
  });
  it('resumes with only the missed events', () => {
    let s = applyWelcome(initialState(), welcome() as never);
    s = applyWelcome(s, welcome({ resumed: true, last_seq: 4, history: [{ type: 'chat', seq: 4, id: 'm4', user: { id: 'u2', name: 'Bob' }, text: 'back', mentions: [] }] }) as never);
    expect(s.messages.map((m) => m.seq)).toEqual([2, 3, 4]);
    expect(s.lastSeq).toBe(4);
  });
  it('tallies polls and never reopens a closed one', () => {
    const poll = { id: 'p1', question: 'Q', options: ['a', 'b'], counts: [0, 0], total: 0, opened_at: 0, closes_at: 1, closed: false };
    let s = applyEvent(initialState(), { type: 'poll.open', seq: 1, poll });
    s = applyEvent(s, { type: 'poll.tally', poll: { ...poll, counts: [2, 1], total: 3 } });
    expect(currentPoll(s.polls)?.total).toBe(3);
    s = applyEvent(s, { type: 'poll.close', seq: 2, poll: { ...poll, counts: [2, 2], total: 4, closed: true } });
    s = applyEvent(s, { type: 'poll.tally', poll: { ...poll, counts: [2, 1], total: 3 } });
    expect(currentPoll(s.polls)).toMatchObject({ closed: true, total: 4 });
  });
  it('keeps a question author when an update omits the name, and sorts pinned then votes', () => {
    let s = applyEvent(initialState(), { type: 'qa.question', seq: 1, question: { id: 'q1', user: { id: 'u2', name: 'Bob' }, text: 'why', state: 'approved', pinned: false, votes: 0, media_ms: -1 } });
    s = applyEvent(s, { type: 'qa.question', seq: 2, question: { id: 'q1', user: { id: 'u2', name: '' }, text: 'why', state: 'approved', pinned: false, votes: 1, media_ms: -1 } });
    expect(s.questions[0]).toMatchObject({ votes: 1, user: { name: 'Bob' } });
    const q = (id: string, votes: number, pinned = false): Question => ({ id, votes, pinned, state: 'approved', media_ms: -1 });
    expect(sortQuestions([q('a', 5), q('b', 1, true), q('c', 9)]).map((x) => x.id)).toEqual(['b', 'c', 'a']);
  });
});

describe('helpers', () => {
  it('builds the socket URL with since', () => {
    expect(chatURL('https://x.test', 'a b', 0)).toBe('wss://x.test/api/v1/channels/a%20b/chat');
    expect(chatURL('http://x.test', 'jazz', 7)).toBe('ws://x.test/api/v1/channels/jazz/chat?since=7');
  });
  it('backs off exponentially up to 30 s', () => {
    expect(backoff(0, 0.5)).toBe(500);
    expect(backoff(3, 0.5)).toBe(4000);
    expect(backoff(20, 0.5)).toBe(30000);
  });
  it('counts code points like the server', () => {
    expect(chars('héllo 👍')).toBe(7);
  });
});

describe('emotes', () => {
  const emotes = { wave: '/emotes/a.png', Party_Cat: '/emotes/b.webp' };
  it('turns tokens of known emotes into emotes and leaves the rest as text', () => {
    expect(emoteParts('hi :wave: there', emotes)).toEqual(['hi ', { name: 'wave', url: '/emotes/a.png' }, ' there']);
    expect(emoteParts(':wave::Party_Cat:', emotes)).toEqual([{ name: 'wave', url: '/emotes/a.png' }, { name: 'Party_Cat', url: '/emotes/b.webp' }]);
    expect(emoteParts('no :nope: here', emotes)).toEqual(['no :nope: here']);
    expect(emoteParts('plain', {})).toEqual(['plain']);
    expect(emoteParts('', emotes)).toEqual([]);
  });
  it('is case-sensitive, needs 2–32 name characters and ignores inherited names', () => {
    expect(emoteParts(':WAVE: :w: :constructor: :toString:', emotes)).toEqual([':WAVE: :w: :constructor: :toString:']);
    expect(emoteParts(`:${'a'.repeat(33)}:`, { ['a'.repeat(33)]: '/x' })).toEqual([`:${'a'.repeat(33)}:`]);
  });
  it('lets an unknown token share its colon with a known one', () => {
    expect(emoteParts('x:nope:wave: ok', emotes)).toEqual(['x:nope', { name: 'wave', url: '/emotes/a.png' }, ' ok']);
  });
  it('keeps markup as text', () => {
    expect(emoteParts('<img src=x onerror=alert(1)> :wave:', emotes)).toEqual(['<img src=x onerror=alert(1)> ', { name: 'wave', url: '/emotes/a.png' }]);
  });
});
