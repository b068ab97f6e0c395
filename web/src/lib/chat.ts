// The room client (docs/REALTIME.md): one WebSocket per channel room, the
// server's JSON-array frames applied in order to an immutable state, the
// last seq kept so a reconnect (exponential backoff) resumes with ?since=,
// and commands that carry a ref and resolve on their ack or error.
import type { MoneyView } from './types';

export type ConnState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface ChatUser { id: string; name: string; badges?: string[] }

export interface RoomSettings {
  anonymous_can_post: boolean;
  slow_seconds: number;
  followers_only_minutes: number | null;
  subscribers_only: boolean;
  emote_only: boolean;
  links: string;
  vips?: string[];
}

export interface Poll {
  id: string;
  question: string;
  options: string[];
  counts: number[];
  total: number;
  opened_at: number;
  closes_at: number;
  closed: boolean;
}

export interface Question {
  id: string;
  user?: ChatUser;
  text?: string;
  state: 'pending' | 'approved' | 'answered' | 'dismissed';
  pinned: boolean;
  votes: number;
  media_ms: number;
  redacted?: boolean;
}

/** A line of the chat list: a message, or a notice of a moderation event. */
export type ChatItem =
  | { kind: 'chat'; seq: number; id: string; user: ChatUser; text: string; reply_to?: number; mentions: string[]; at: number }
  | { kind: 'notice'; seq: number; text: string; at: number }
  | MoneyItem;

/**
 * A gift, tip or subscription in the chat list. A gift combo (same combo_id)
 * stays one line whose count and coins grow; it keeps its first seq.
 */
export interface MoneyItem {
  kind: 'money';
  seq: number;
  type: 'gift' | 'tip' | 'sub';
  user: ChatUser;
  text: string;
  money: MoneyView;
  count: number;
  coins: number;
  at: number;
}

export const MONEY_EVENTS = ['gift', 'tip', 'sub'];

const whole = new Intl.NumberFormat('en-US');

/** coins formats a coin amount: "1,200 coins". */
export function coins(n: number): string {
  return `${whole.format(n)} ${Math.abs(n) === 1 ? 'coin' : 'coins'}`;
}

/** isImageURL tells a gift image that is a URL from one that is an emoji or text. */
export function isImageURL(s: string | undefined): boolean {
  return !!s && /^(\/(?!\/)|data:image\/|https?:\/\/)/.test(s);
}

/** moneyText says what a gift, tip or sub was, as plain text (always rendered as text). */
export function moneyText(type: MoneyItem['type'], user: { name: string } | undefined, money: MoneyView, count: number): string {
  const who = user?.name || 'Someone';
  switch (type) {
    case 'gift': return `${who} sent ${money.gift?.name ?? 'a gift'}${count > 1 ? ` ×${count}` : ''}`;
    case 'tip': return `${who} tipped ${coins(money.coins ?? 0)}`;
    case 'sub': {
      const by = money.gifted_by?.name;
      const months = money.months ?? 1;
      const tier = money.tier ?? 1;
      if (by) return `${by} gifted ${who} a Tier ${tier} sub`;
      return months > 1 ? `${who} subscribed for ${months} months (Tier ${tier})` : `${who} subscribed at Tier ${tier}`;
    }
  }
}

/** addMoney adds a gift, tip or sub event to the list, folding a gift combo into its line. */
export function addMoney(list: ChatItem[], ev: RoomEvent): ChatItem[] {
  const seq = Number(ev.seq ?? 0);
  if (seq && list.some((m) => m.kind === 'money' && m.seq === seq)) return list;
  const money = (ev.money ?? { coins: 0 }) as MoneyView;
  const type = ev.type as MoneyItem['type'];
  const count = type === 'gift' ? Math.max(1, Number(money.count ?? 1)) : 1;
  if (type === 'gift' && money.combo_id) {
    const i = list.findIndex((m) => m.kind === 'money' && m.type === 'gift' && m.money.combo_id === money.combo_id);
    if (i >= 0) {
      const old = list[i] as MoneyItem;
      const next = list.slice();
      next[i] = { ...old, money, count: Math.max(old.count + count, Number(money.combo_count ?? 0)), coins: old.coins + Number(money.coins ?? 0) };
      return next;
    }
  }
  return push(list, {
    kind: 'money', seq, type, user: (ev.user as ChatUser | undefined) ?? { id: '', name: 'Someone' }, text: String(ev.text ?? ''),
    money, count: Math.max(count, Number(money.combo_count ?? 0)), coins: Number(money.coins ?? 0), at: Number(ev.at ?? 0),
  });
}

export interface Held { id: string; user: ChatUser; text: string; term: string }

export interface ChatNotice { id: number; code: string; message: string }

/** A channel emote: `:name:` in a message shows the image at url. */
export interface Emote { name: string; url: string }

/** EMOTE_NAME is what the server accepts as an emote name. */
export const EMOTE_NAME = /^[A-Za-z0-9_]{2,32}$/;
const EMOTE_TOKEN = /:([A-Za-z0-9_]{2,32}):/g;

export type TextPart = string | Emote;

/**
 * emoteParts splits text into plain strings and the emotes its `:name:`
 * tokens name; tokens that name no emote of the channel stay text.
 */
export function emoteParts(text: string, emotes: Record<string, string>): TextPart[] {
  const out: TextPart[] = [];
  let last = 0;
  EMOTE_TOKEN.lastIndex = 0;
  for (let m = EMOTE_TOKEN.exec(text); m; m = EMOTE_TOKEN.exec(text)) {
    const url = Object.prototype.hasOwnProperty.call(emotes, m[1]) ? emotes[m[1]] : undefined;
    if (!url) {
      // Let the closing colon start the next token (":x:wave:" shows :wave:).
      EMOTE_TOKEN.lastIndex = m.index + m[0].length - 1;
      continue;
    }
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push({ name: m[1], url });
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export interface RoomState {
  conn: ConnState;
  /** When the next reconnect attempt runs (unix ms), while reconnecting. */
  retryAt: number;
  welcomed: boolean;
  you?: ChatUser;
  signedIn: boolean;
  canModerate: boolean;
  settings?: RoomSettings;
  messages: ChatItem[];
  /** seq → text of removed messages, so replies to them can say so. */
  removed: Record<number, true>;
  polls: Poll[];
  myVotes: Record<string, number>;
  questions: Question[];
  myUpvotes: Record<string, true>;
  held: Held[];
  error?: ChatNotice;
  timedOutUntil: number;
  banned: boolean;
  lastSeq: number;
  /** The channel's emotes, name → image URL (GET /channels/{slug}/emotes). */
  emotes: Record<string, string>;
  /** Counts moderation events seen (settings, moderators, bans, deletions), so views of the audit log can refresh. */
  modActivity: number;
}

export interface RoomEvent {
  type: string;
  seq?: number;
  at?: number;
  [k: string]: unknown;
}

export class ChatError extends Error {
  constructor(readonly code: string, message: string, readonly retryMs = 0) { super(message); }
}

export interface Ack { ref: string; seq?: number; id?: string }

export const REACTIONS = ['❤️', '🔥', '😂', '👏', '😮', '🎉', '👍', '💯'] as const;
export const MAX_MESSAGE = 500;
const MAX_ITEMS = 300;

export function initialState(): RoomState {
  return {
    conn: 'connecting', retryAt: 0, welcomed: false, signedIn: false, canModerate: false,
    messages: [], removed: {}, polls: [], myVotes: {}, questions: [], myUpvotes: {}, held: [],
    timedOutUntil: 0, banned: false, lastSeq: 0, emotes: {}, modActivity: 0,
  };
}

/** chars counts what the server counts: Unicode code points. */
export function chars(s: string): number {
  let n = 0;
  for (const _ of s) n++; // eslint-disable-line @typescript-eslint/no-unused-vars
  return n;
}

function nameOf(s: RoomState, userId: string): string {
  for (let i = s.messages.length - 1; i >= 0; i--) {
    const m = s.messages[i];
    if (m.kind === 'chat' && m.user.id === userId) return m.user.name;
  }
  for (const q of s.questions) if (q.user?.id === userId && q.user.name) return q.user.name;
  return 'A viewer';
}

function notice(s: RoomState, ev: RoomEvent, text: string): RoomState {
  if (ev.type === 'user.timeout' || ev.type === 'user.ban' || ev.type === 'user.unban') s = { ...s, modActivity: s.modActivity + 1 };
  return { ...s, messages: push(s.messages, { kind: 'notice', seq: ev.seq ?? 0, text, at: Number(ev.at ?? Date.now()) }) };
}

function push(list: ChatItem[], item: ChatItem): ChatItem[] {
  const next = list.length >= MAX_ITEMS ? list.slice(list.length - MAX_ITEMS + 1) : list.slice();
  next.push(item);
  return next;
}

export function upsertPoll(polls: Poll[], p: Poll): Poll[] {
  const i = polls.findIndex((x) => x.id === p.id);
  if (i < 0) return [...polls, p];
  // A tally that arrives after the close never reopens the poll.
  if (polls[i].closed && !p.closed) return polls;
  const next = polls.slice();
  next[i] = { ...polls[i], ...p };
  return next;
}

function upsertQuestion(qs: Question[], q: Question): Question[] {
  const i = qs.findIndex((x) => x.id === q.id);
  if (i < 0) return [...qs, q];
  const old = qs[i];
  const merged: Question = { ...old, ...q };
  // Updates may name the author without a display name, or come redacted.
  if (!q.user?.name && old.user) merged.user = old.user;
  if (q.redacted && old.text) { merged.text = old.text; merged.user = old.user; merged.redacted = old.redacted; }
  if (!q.redacted && old.redacted) merged.redacted = false;
  const next = qs.slice();
  next[i] = merged;
  return next;
}

function minutes(ms: number): string {
  const m = Math.round(ms / 60000);
  if (m >= 60 * 24) return `${Math.round(m / 1440)} d`;
  if (m >= 60) return `${Math.round(m / 60)} h`;
  return m <= 1 ? `${Math.max(1, Math.round(ms / 1000))} s` : `${m} min`;
}

/** applyEvent applies one server object to the state. */
export function applyEvent(s: RoomState, ev: RoomEvent): RoomState {
  const you = s.you?.id;
  switch (ev.type) {
    case 'chat': {
      const seq = Number(ev.seq ?? 0);
      if (seq && s.messages.some((m) => m.seq === seq && m.kind === 'chat')) return s;
      const user = (ev.user as ChatUser | undefined) ?? { id: '', name: 'unknown' };
      return {
        ...s,
        messages: push(s.messages, {
          kind: 'chat', seq, id: String(ev.id ?? seq), user, text: String(ev.text ?? ''),
          reply_to: ev.reply_to ? Number(ev.reply_to) : undefined,
          mentions: Array.isArray(ev.mentions) ? (ev.mentions as string[]) : [], at: Number(ev.at ?? 0),
        }),
      };
    }
    case 'chat.delete': {
      const target = Number(ev.target);
      return { ...s, messages: s.messages.filter((m) => !(m.kind === 'chat' && m.seq === target)), removed: { ...s.removed, [target]: true }, modActivity: s.modActivity + 1 };
    }
    case 'user.timeout': {
      const uid = String(ev.user_id ?? '');
      const until = Number(ev.until ?? 0);
      const len = minutes(until - Number(ev.at ?? Date.now()));
      const who = uid && uid === you ? 'You were' : `${nameOf(s, uid)} was`;
      const next = notice(s, ev, `${who} timed out for ${len}${ev.actor ? ` by ${String(ev.actor)}` : ''}.`);
      return uid && uid === you ? { ...next, timedOutUntil: until } : next;
    }
    case 'user.ban': {
      const uid = String(ev.user_id ?? '');
      const who = uid && uid === you ? 'You were' : `${nameOf(s, uid)} was`;
      const next = notice(s, ev, `${who} banned from the chat${ev.actor ? ` by ${String(ev.actor)}` : ''}.`);
      return uid && uid === you ? { ...next, banned: true } : next;
    }
    case 'user.unban': {
      const uid = String(ev.user_id ?? '');
      const next = notice(s, ev, `${uid && uid === you ? 'You may' : `${nameOf(s, uid)} may`} chat again.`);
      return uid && uid === you ? { ...next, banned: false, timedOutUntil: 0 } : next;
    }
    case 'room.settings':
      return ev.settings ? { ...s, settings: ev.settings as RoomSettings, modActivity: s.modActivity + 1 } : s;
    case 'room.moderator': {
      const uid = String(ev.user_id ?? '');
      const mine = !!you && uid === you;
      const name = mine ? 'You are' : `${typeof ev.mod_name === 'string' && ev.mod_name ? ev.mod_name : nameOf(s, uid)} is`;
      const next = { ...notice(s, ev, ev.added ? `${name} now a moderator.` : `${name} no longer a moderator.`), modActivity: s.modActivity + 1 };
      return mine ? { ...next, canModerate: Boolean(ev.added) } : next;
    }
    case 'poll.open':
    case 'poll.tally':
    case 'poll.close': {
      const p = ev.poll as Poll | undefined;
      if (!p) return s;
      return { ...s, polls: upsertPoll(s.polls, ev.type === 'poll.close' ? { ...p, closed: true } : p) };
    }
    case 'qa.question': {
      const q = ev.question as Question | undefined;
      return q ? { ...s, questions: upsertQuestion(s.questions, q) } : s;
    }
    case 'gift':
    case 'tip':
    case 'sub':
      return { ...s, messages: addMoney(s.messages, ev) };
    case 'chat.held': {
      const h: Held = { id: String(ev.id), user: ev.user as ChatUser, text: String(ev.text ?? ''), term: String(ev.term ?? '') };
      return { ...s, held: [...s.held.filter((x) => x.id !== h.id), h] };
    }
    default:
      return s;
  }
}

interface Welcome extends RoomEvent {
  last_seq: number;
  resumed: boolean;
  reset?: boolean;
  you: ChatUser;
  signed_in: boolean;
  can_moderate: boolean;
  settings: RoomSettings;
  polls: Poll[];
  history: RoomEvent[];
  /** The latest qa.question event of each question the room knows. */
  questions?: RoomEvent[];
}

/** applyWelcome starts (or resumes) the room from the server's first frame. */
export function applyWelcome(s: RoomState, w: Welcome): RoomState {
  let next: RoomState = {
    ...s, conn: 'open', retryAt: 0, welcomed: true, you: w.you, signedIn: Boolean(w.signed_in),
    canModerate: Boolean(w.can_moderate), settings: w.settings,
  };
  const history = Array.isArray(w.history) ? w.history : [];
  if (w.resumed) {
    for (const ev of history) {
      if (ev.seq !== undefined && ev.seq <= next.lastSeq) continue;
      next = applyEvent(next, ev);
      if (ev.seq !== undefined) next.lastSeq = Math.max(next.lastSeq, ev.seq);
    }
  } else {
    // Fresh history: the messages still standing. Keep closed polls we saw.
    next = { ...next, messages: [], removed: {}, polls: next.polls.filter((p) => p.closed) };
    for (const ev of history) next = applyEvent(next, ev);
  }
  for (const p of Array.isArray(w.polls) ? w.polls : []) next = { ...next, polls: upsertPoll(next.polls, p) };
  // The Q&A as the room knows it now: a joiner sees the questions asked before.
  if (!w.resumed) next = { ...next, questions: [] };
  for (const ev of Array.isArray(w.questions) ? w.questions : []) {
    const q = ev?.question as Question | undefined;
    if (q && typeof q.id === 'string') next = { ...next, questions: upsertQuestion(next.questions, q) };
  }
  next.lastSeq = Math.max(w.resumed ? next.lastSeq : 0, Number(w.last_seq ?? 0));
  return next;
}

/** sortQuestions orders the Q&A list: pinned first, then by votes, then oldest first. */
export function sortQuestions(qs: Question[]): Question[] {
  return qs.map((q, i) => [q, i] as const)
    .sort(([a, i], [b, j]) => Number(b.pinned) - Number(a.pinned) || b.votes - a.votes || i - j)
    .map(([q]) => q);
}

/** currentPoll is the poll to show: the newest open one, else the newest closed one. */
export function currentPoll(polls: Poll[]): Poll | undefined {
  const open = polls.filter((p) => !p.closed);
  if (open.length) return open[open.length - 1];
  return polls[polls.length - 1];
}

export function chatURL(origin: string, slug: string, since: number): string {
  const base = `${origin.replace(/^http/, 'ws')}/api/v1/channels/${encodeURIComponent(slug)}/chat`;
  return since > 0 ? `${base}?since=${since}` : base;
}

/** backoff is the delay before reconnect attempt n (0-based): 0.5 s doubling to 30 s, with jitter. */
export function backoff(n: number, rand = Math.random()): number {
  const base = Math.min(30_000, 500 * 2 ** n);
  return Math.round(base * (0.75 + 0.5 * rand));
}

type Listener = (s: RoomState) => void;
type ReactionListener = (counts: Record<string, number>) => void;
/** A live gift, tip, sub, ad.break or ad.end event (not history replayed by a welcome). */
type MoneyListener = (ev: RoomEvent) => void;
const LIVE_MONEY = new Set(['gift', 'tip', 'sub', 'ad.break', 'ad.end']);

export interface Command { type: string; [k: string]: unknown }

/** A playhead source: the program date-time (unix ms) of what the viewer sees now, or undefined when unknown. */
export type Playhead = () => number | undefined;

/** Commands the server stamps with the stream clock from the sender's playhead (`at`). */
const STAMPED = new Set(['send', 'poll.vote', 'qa.ask', 'react']);

/** ChatClient is one room connection; it lives until close(). */
export class ChatClient {
  state: RoomState = initialState();
  private ws?: WebSocket;
  private attempt = 0;
  private timer?: ReturnType<typeof setTimeout>;
  private pinger?: ReturnType<typeof setInterval>;
  private listeners = new Set<Listener>();
  private reactionListeners = new Set<ReactionListener>();
  private moneyListeners = new Set<MoneyListener>();
  private pending = new Map<string, { resolve: (a: Ack) => void; reject: (e: ChatError) => void; timer: ReturnType<typeof setTimeout> }>();
  private refs = 0;
  private stopped = false;
  private noticeId = 0;
  private readonly withEmotes: boolean;
  private playhead?: Playhead;

  constructor(readonly slug: string, opts: { emotes?: boolean } = {}) {
    this.withEmotes = opts.emotes ?? true;
    try {
      this.state.myVotes = JSON.parse(sessionStorage.getItem(`lh-votes-${slug}`) ?? '{}') as Record<string, number>;
    } catch { /* private mode */ }
    this.connect();
    if (this.withEmotes) void this.loadEmotes();
  }

  /** loadEmotes reads the channel's emotes; a failure leaves the ones it had (tokens then stay text). */
  async loadEmotes(): Promise<void> {
    try {
      const r = await fetch(`/api/v1/channels/${encodeURIComponent(this.slug)}/emotes`, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
      if (!r.ok) return;
      const d = (await r.json()) as { emotes?: Emote[] };
      const emotes: Record<string, string> = {};
      for (const e of Array.isArray(d.emotes) ? d.emotes : []) {
        if (e && typeof e.name === 'string' && typeof e.url === 'string' && EMOTE_NAME.test(e.name) && /^\/(?!\/)/.test(e.url)) emotes[e.name] = e.url;
      }
      if (!this.stopped) this.set({ ...this.state, emotes });
    } catch { /* offline: keep what we had */ }
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  onReactions(fn: ReactionListener): () => void {
    this.reactionListeners.add(fn);
    return () => this.reactionListeners.delete(fn);
  }

  /** onMoney tells fn about live money and ad events, as they arrive. */
  onMoney(fn: MoneyListener): () => void {
    this.moneyListeners.add(fn);
    return () => this.moneyListeners.delete(fn);
  }

  private set(next: RoomState) {
    this.state = next;
    this.listeners.forEach((l) => l(next));
  }

  private connect() {
    if (this.stopped) return;
    this.set({ ...this.state, conn: this.state.welcomed ? 'reconnecting' : 'connecting', retryAt: 0 });
    let ws: WebSocket;
    try {
      ws = new WebSocket(chatURL(location.origin, this.slug, this.state.lastSeq));
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onmessage = (e) => this.onFrame(String(e.data));
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      clearInterval(this.pinger);
      for (const [ref, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new ChatError('offline', 'The chat connection dropped before the server answered; try again once it reconnects.'));
        this.pending.delete(ref);
      }
      this.scheduleReconnect();
    };
    ws.onopen = () => {
      clearInterval(this.pinger);
      this.pinger = setInterval(() => { if (ws.readyState === WebSocket.OPEN) ws.send('{"type":"ping"}'); }, 25_000);
    };
  }

  private scheduleReconnect() {
    if (this.stopped) return;
    const delay = backoff(this.attempt++);
    this.set({ ...this.state, conn: 'reconnecting', retryAt: Date.now() + delay });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** reconnectNow skips the rest of the backoff wait. */
  reconnectNow() {
    if (this.ws || this.stopped) return;
    clearTimeout(this.timer);
    this.connect();
  }

  private onFrame(data: string) {
    let frame: unknown;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    const objs = (Array.isArray(frame) ? frame : [frame]) as RoomEvent[];
    let s = this.state;
    for (const ev of objs) {
      if (!ev || typeof ev !== 'object') continue;
      switch (ev.type) {
        case 'welcome':
          this.attempt = 0;
          // After a reconnect, pick up emotes added or removed meanwhile.
          if (s.welcomed && this.withEmotes) queueMicrotask(() => void this.loadEmotes());
          s = applyWelcome(s, ev as Welcome);
          continue;
        case 'ack': {
          const p = this.pending.get(String(ev.ref ?? ''));
          if (p) { clearTimeout(p.timer); this.pending.delete(String(ev.ref)); p.resolve(ev as unknown as Ack); }
          continue;
        }
        case 'error': {
          const err = new ChatError(String(ev.code ?? 'error'), String(ev.message ?? 'Something went wrong.'), Number(ev.retry_ms ?? 0));
          const p = this.pending.get(String(ev.ref ?? ''));
          if (p) { clearTimeout(p.timer); this.pending.delete(String(ev.ref)); p.reject(err); }
          s = { ...s, error: { id: ++this.noticeId, code: err.code, message: err.message } };
          continue;
        }
        case 'pong':
          continue;
      }
      if (typeof ev.seq === 'number') {
        if (ev.seq <= s.lastSeq) continue; // seen already
        s = { ...s, lastSeq: ev.seq };
      }
      if (ev.type === 'reactions' && ev.counts) {
        const counts = ev.counts as Record<string, number>;
        queueMicrotask(() => this.reactionListeners.forEach((l) => l(counts)));
        continue;
      }
      if (LIVE_MONEY.has(ev.type)) queueMicrotask(() => this.moneyListeners.forEach((l) => l(ev)));
      s = applyEvent(s, ev);
    }
    if (s !== this.state) this.set(s);
  }

  /** setPlayhead tells the client where the viewer's video is, so messages, votes, questions and reactions land on the stream clock where they were seen. */
  setPlayhead(fn: Playhead | undefined) {
    this.playhead = fn;
  }

  private stamp(cmd: Command): Command {
    if (cmd.at !== undefined || !STAMPED.has(cmd.type) || !this.playhead) return cmd;
    let at: number | undefined;
    try { at = this.playhead(); } catch { at = undefined; }
    return at !== undefined && Number.isFinite(at) && at > 0 ? { ...cmd, at: Math.round(at) } : cmd;
  }

  /** command sends one command with a fresh ref; it resolves on the ack and rejects on the error. */
  command(cmd: Command): Promise<Ack> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || !this.state.welcomed) {
      return Promise.reject(new ChatError('offline', 'Chat is not connected right now; it reconnects by itself.'));
    }
    const ref = `r${++this.refs}`;
    return new Promise<Ack>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        reject(new ChatError('timeout', 'The server did not answer; try again.'));
      }, 10_000);
      this.pending.set(ref, { resolve, reject, timer });
      ws.send(JSON.stringify({ ...this.stamp(cmd), ref }));
    });
  }

  /** fire sends a command whose answer nobody waits for (reactions); errors still reach state.error. */
  fire(cmd: Command) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(this.stamp(cmd)));
  }

  vote(pollId: string, option: number): Promise<Ack> {
    return this.command({ type: 'poll.vote', poll_id: pollId, option }).then((a) => {
      this.rememberVote(pollId, option);
      return a;
    }, (e: ChatError) => {
      if (e.code === 'already_voted') this.rememberVote(pollId, option);
      throw e;
    });
  }

  private rememberVote(pollId: string, option: number) {
    const myVotes = { ...this.state.myVotes, [pollId]: option };
    try { sessionStorage.setItem(`lh-votes-${this.slug}`, JSON.stringify(myVotes)); } catch { /* private mode */ }
    this.set({ ...this.state, myVotes });
  }

  upvote(id: string): Promise<Ack> {
    const mark = () => this.set({ ...this.state, myUpvotes: { ...this.state.myUpvotes, [id]: true } });
    return this.command({ type: 'qa.upvote', id }).then((a) => { mark(); return a; }, (e: ChatError) => {
      if (e.code === 'already_voted') mark();
      throw e;
    });
  }

  dismissError() {
    if (this.state.error) this.set({ ...this.state, error: undefined });
  }

  dismissHeld(id: string) {
    this.set({ ...this.state, held: this.state.held.filter((h) => h.id !== id) });
  }

  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    const ws = this.ws;
    this.ws = undefined;
    ws?.close(1000);
    this.set({ ...this.state, conn: 'closed' });
    this.listeners.clear();
    this.reactionListeners.clear();
    this.moneyListeners.clear();
  }
}
