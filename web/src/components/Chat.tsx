// The channel room in the browser: the chat panel (messages, moderator
// tools, replies, mentions), Q&A, the poll card, reactions and the floating
// emoji over the video, plus the pop-out and OBS overlay pages. Loaded on
// demand by the viewer page, so the player's first frame never waits for it.
// Every user-written string is rendered as text.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  ChatClient, ChatError, MAX_MESSAGE, REACTIONS, chars, coins, currentPoll, emoteParts, isImageURL, moneyText, sortQuestions,
  type ChatItem, type ChatUser, type MoneyItem, type Poll, type Question, type RoomState,
} from '../lib/chat';
import { api } from '../lib/api';
import { useRoom } from '../lib/hooks';
import { useSession } from '../lib/session';
import { Spinner, errorText } from './ui';
import * as I from './icons';
import './chat.css';

export { ChatClient };

/** useClient opens a room connection for the component's lifetime. */
export function useClient(slug: string): ChatClient {
  const client = useMemo(() => new ChatClient(slug), [slug]);
  useEffect(() => () => client.close(), [client]);
  return client;
}

function useNow(ms: number, on = true): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!on) return;
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms, on]);
  return now;
}

const BADGE_LABEL: Record<string, [string, string]> = {
  broadcaster: ['Broadcaster', 'Host'],
  moderator: ['Moderator', 'Mod'],
  vip: ['VIP', 'VIP'],
  subscriber: ['Subscriber', 'Sub'],
  guest: ['Guest', 'Guest'],
};

function Badges({ badges }: { badges?: string[] }) {
  if (!badges?.length) return null;
  return (
    <>
      {badges.map((b) => {
        const [title, short] = BADGE_LABEL[b] ?? [b, b];
        return <span key={b} class={`chat-badge badge-${b.replace(/[^a-z]/g, '')}`} title={title} data-badge={b}>{short}</span>;
      })}
    </>
  );
}

const MENTION = /(@[A-Za-z0-9_.-]{1,32})/;

/** Emote is one channel emote in a message: an image whose text alternative is its token. */
function EmoteImg({ name, url }: { name: string; url: string }) {
  const token = `:${name}:`;
  return <img class="chat-emote" src={url} alt={token} title={token} height={28} loading="lazy" decoding="async" data-emote={name} />;
}

/** WithEmotes shows `:name:` tokens of the channel's emotes as images and the rest as text. */
function WithEmotes({ text, emotes }: { text: string; emotes: Record<string, string> }) {
  const parts = emoteParts(text, emotes);
  return <>{parts.map((p, i) => (typeof p === 'string' ? p : <EmoteImg key={i} name={p.name} url={p.url} />))}</>;
}

/** MessageText highlights @mentions and shows emotes; it returns text nodes, spans and images only. */
function MessageText({ text, me, emotes }: { text: string; me?: string; emotes: Record<string, string> }) {
  const parts = text.split(MENTION);
  return (
    <>
      {parts.map((p, i) => (i % 2 === 1
        ? <span key={i} class={me && p.slice(1).toLowerCase() === me ? 'mention me' : 'mention'}>{p}</span>
        : <WithEmotes key={i} text={p} emotes={emotes} />))}
    </>
  );
}

/** mentionsMe reports whether a message names the signed-in user (mentions are lower-cased names). */
export function mentionsMe(m: { mentions: string[]; text: string }, you?: ChatUser): boolean {
  if (!you?.name) return false;
  const name = you.name.toLowerCase();
  const first = name.split(/\s+/)[0];
  return m.mentions.some((x) => x === name || x === first || x === name.replace(/\s+/g, ''));
}

function ModTools({ client, m, onError }: { client: ChatClient; m: Extract<ChatItem, { kind: 'chat' }>; onError: (e: ChatError) => void }) {
  const act = (cmd: Record<string, unknown> & { type: string }) => void client.command(cmd).catch(onError);
  const who = m.user.name;
  const canTarget = m.user.id !== '' && m.user.id !== client.state.you?.id && !m.user.badges?.includes('broadcaster');
  // Only the channel's owner appoints moderators (PUT /channels/{slug}/moderators/{user_id}); guests have no account.
  const owner = !!client.state.you?.badges?.includes('broadcaster');
  const canAppoint = owner && canTarget && !m.user.badges?.includes('guest') && !m.user.badges?.includes('moderator');
  return (
    <span class="mod-tools" role="group" aria-label={`Moderate ${who}'s message`}>
      <button type="button" class="icon-btn tiny" data-testid="mod-delete" title="Delete message" aria-label={`Delete message from ${who}`}
        onClick={() => act({ type: 'delete', seq: m.seq })}><I.Close size={14} /></button>
      {canTarget && (
        <>
          <button type="button" class="mod-btn" data-testid="mod-timeout" title="Time out for 10 minutes" aria-label={`Time out ${who} for 10 minutes`}
            onClick={() => act({ type: 'timeout', user_id: m.user.id, seconds: 600, reason: 'timed out from chat' })}>10m</button>
          <button type="button" class="mod-btn danger" data-testid="mod-ban" title="Ban from chat" aria-label={`Ban ${who}`}
            onClick={() => { if (confirm(`Ban ${who} from this chat?`)) act({ type: 'ban', user_id: m.user.id, reason: 'banned from chat' }); }}>Ban</button>
        </>
      )}
      {canAppoint && <AppointButton client={client} user={m.user} onError={onError} />}
    </span>
  );
}

/** AppointButton makes a message's author a moderator; the room.moderator event then tells everyone. */
function AppointButton({ client, user, onError }: { client: ChatClient; user: ChatUser; onError: (e: ChatError) => void }) {
  const [busy, setBusy] = useState(false);
  const appoint = async () => {
    setBusy(true);
    try {
      await api.addModerator(client.slug, user.id);
    } catch (e) {
      onError(new ChatError('api', errorText(e)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <button type="button" class="mod-btn" data-testid="mod-appoint" title="Make moderator" aria-label={`Make ${user.name} a moderator`}
      disabled={busy} onClick={() => void appoint()}>Make moderator</button>
  );
}

function Message({ m, s, client, onReply, onError, compact }: {
  m: ChatItem; s: RoomState; client: ChatClient; onReply?: (m: Extract<ChatItem, { kind: 'chat' }>) => void;
  onError: (e: ChatError) => void; compact?: boolean;
}) {
  if (m.kind === 'notice') return <li class="chat-notice" data-testid="chat-notice">{m.text}</li>;
  if (m.kind === 'money') return <MoneyLine m={m} />;
  const mine = !!s.you && m.user.id !== '' && m.user.id === s.you.id;
  const mentioned = !mine && mentionsMe(m, s.signedIn ? s.you : undefined);
  const parent = m.reply_to ? s.messages.find((x) => x.kind === 'chat' && x.seq === m.reply_to) : undefined;
  const me = s.signedIn ? s.you?.name.toLowerCase().split(/\s+/)[0] : undefined;
  return (
    <li class={`chat-msg${mentioned ? ' mentioned' : ''}${mine ? ' mine' : ''}`} data-testid="chat-message" data-seq={m.seq}
      data-user={m.user.name} tabIndex={compact ? undefined : 0}>
      {m.reply_to !== undefined && (
        <div class="chat-reply" data-testid="chat-reply">
          <span aria-hidden="true">↪ </span>
          {parent && parent.kind === 'chat'
            ? <>Replying to <strong>{parent.user.name}</strong>: <span class="chat-reply-text">{parent.text}</span></>
            : s.removed[m.reply_to] ? 'Replying to a removed message' : 'Replying to an earlier message'}
        </div>
      )}
      <span class="chat-line">
        <Badges badges={m.user.badges} />
        <strong class="chat-author" data-hue={[...m.user.name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 12, 3)}>{m.user.name}</strong>
        <span class="chat-colon">: </span>
        <span class="chat-text"><MessageText text={m.text} me={me} emotes={s.emotes} /></span>
      </span>
      {!compact && (
        <span class="msg-actions">
          {onReply && s.signedIn && (
            <button type="button" class="icon-btn tiny" data-testid="chat-reply-btn" aria-label={`Reply to ${m.user.name}`} title="Reply"
              onClick={() => onReply(m)}>↩</button>
          )}
          {s.canModerate && <ModTools client={client} m={m} onError={onError} />}
        </span>
      )}
    </li>
  );
}

/** GiftImage shows a gift's picture: an image URL, or the emoji the catalog gives. */
export function GiftImage({ image, size = 24 }: { image?: string; size?: number }) {
  const [broken, setBroken] = useState(false);
  if (isImageURL(image) && !broken) {
    return <img class="gift-img" src={image} alt="" width={size} height={size} loading="lazy" decoding="async" onError={() => setBroken(true)} />;
  }
  if (image && !isImageURL(image)) return <span class="gift-emoji" aria-hidden="true">{image}</span>;
  return <I.Gift size={size} class="gift-svg" />;
}

/** MoneyLine is a gift, tip or subscription in the chat: highlighted, all text rendered as text. */
function MoneyLine({ m }: { m: MoneyItem }) {
  return (
    <li class={`chat-money money-${m.type}`} data-testid="chat-money" data-type={m.type} data-count={m.count}
      data-combo={m.money.combo_id || undefined} data-seq={m.seq}>
      <span class="chat-money-icon" aria-hidden="true">
        {m.type === 'gift' ? <GiftImage image={m.money.gift?.image} /> : m.type === 'tip' ? <I.Coin size={20} /> : <I.Star size={20} />}
      </span>
      <span class="chat-money-body">
        <span class="chat-line">
          <Badges badges={m.user.badges} />
          <span class="chat-money-what">{moneyText(m.type, m.user, m.money, m.count)}</span>
          {m.type !== 'tip' && m.coins > 0 && <span class="chat-money-coins"> · {coins(m.coins)}</span>}
        </span>
        {m.type === 'tip' && m.text && <span class="chat-money-text">{m.text}</span>}
      </span>
    </li>
  );
}

function ConnBanner({ s, client }: { s: RoomState; client: ChatClient }) {
  const now = useNow(1000, s.conn === 'reconnecting');
  if (s.conn === 'open' || !s.welcomed) return null;
  const left = Math.max(0, Math.ceil((s.retryAt - now) / 1000));
  return (
    <div class="chat-banner" role="status" data-testid="chat-reconnecting">
      {s.conn === 'closed' ? 'Chat is closed.' : left > 0 ? `Disconnected. Reconnecting in ${left} s…` : 'Reconnecting…'}
      {s.conn === 'reconnecting' && left > 0 && <button type="button" class="btn small ghost" onClick={() => client.reconnectNow()}>Retry now</button>}
    </div>
  );
}

function ErrorBar({ s, client, local, clearLocal }: { s: RoomState; client: ChatClient; local?: string; clearLocal: () => void }) {
  const text = local ?? s.error?.message;
  useEffect(() => {
    if (!text) return;
    const id = setTimeout(() => { clearLocal(); client.dismissError(); }, 8000);
    return () => clearTimeout(id);
  }, [text, s.error?.id]); // eslint-disable-line react-hooks/exhaustive-deps
  if (!text) return null;
  return (
    <div class="chat-error" role="alert" data-testid="chat-error" data-code={s.error?.code}>
      <span>{text}</span>
      <button type="button" class="icon-btn tiny" aria-label="Dismiss" onClick={() => { clearLocal(); client.dismissError(); }}><I.Close size={14} /></button>
    </div>
  );
}

function Composer({ s, client, slug, replyTo, clearReply, onError }: {
  s: RoomState; client: ChatClient; slug: string; replyTo?: Extract<ChatItem, { kind: 'chat' }>; clearReply: () => void; onError: (e: ChatError) => void;
}) {
  const { user } = useSession();
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  const caretAt = useRef<number | null>(null);
  const n = chars(text);
  const anonymousOK = !!s.settings?.anonymous_can_post;
  const signedOut = s.welcomed ? !s.signedIn : user === null;
  const blocked = signedOut && !anonymousOK;
  useEffect(() => { if (replyTo) input.current?.focus(); }, [replyTo]);
  /** insert puts `:name:` at the caret (or over the selection), spaced from its neighbours, and returns focus to the input. */
  const insert = (name: string) => {
    const el = input.current;
    const start = el?.selectionStart ?? text.length;
    const end = el?.selectionEnd ?? text.length;
    const before = text.slice(0, start);
    const after = text.slice(end);
    const token = `${before && !/\s$/.test(before) ? ' ' : ''}:${name}:${after && /^\s/.test(after) ? '' : ' '}`;
    const next = before + token + after;
    caretAt.current = before.length + token.length;
    setText(next);
  };
  // After an insert renders, put the focus back in the input with the caret after the token.
  useLayoutEffect(() => {
    const caret = caretAt.current;
    if (caret === null) return;
    caretAt.current = null;
    input.current?.focus();
    input.current?.setSelectionRange(caret, caret);
  }, [text]);
  const submit = async (e?: Event) => {
    e?.preventDefault();
    const t = text.trim();
    if (!t || n > MAX_MESSAGE || busy) return;
    setBusy(true);
    try {
      await client.command({ type: 'send', text: t, ...(replyTo ? { reply_to: replyTo.seq } : {}) });
      setText('');
      clearReply();
    } catch (err) {
      onError(err as ChatError);
    } finally {
      setBusy(false);
      input.current?.focus();
    }
  };
  if (blocked) {
    return (
      <div class="chat-input signed-out">
        <p class="muted small">Only signed-in viewers can chat here.</p>
        <a class="btn primary small" href={`/signin?next=${encodeURIComponent(location.pathname)}`} data-testid="chat-signin">Sign in to chat</a>
      </div>
    );
  }
  const offline = s.conn !== 'open';
  return (
    <form class="chat-input" onSubmit={submit}>
      {replyTo && (
        <div class="chat-replying">
          <span>Replying to <strong>{replyTo.user.name}</strong></span>
          <button type="button" class="icon-btn tiny" aria-label="Cancel reply" onClick={clearReply}><I.Close size={14} /></button>
        </div>
      )}
      {s.banned && <p class="chat-hint" role="status">You are banned from this chat.</p>}
      {!s.banned && s.settings?.subscribers_only && <p class="chat-hint subs" data-testid="chat-subs-only">Subscriber-only chat: subscribers and moderators can post.</p>}
      {!s.banned && s.timedOutUntil > Date.now() && <p class="chat-hint" role="status">You are timed out until {new Date(s.timedOutUntil).toLocaleTimeString()}.</p>}
      <label class="sr-only" for={`chat-msg-${slug}`}>Send a message</label>
      <div class="chat-compose">
        <textarea id={`chat-msg-${slug}`} ref={input} rows={1} value={text} data-testid="chat-input"
          placeholder={offline ? 'Waiting for the chat to connect…' : 'Send a message'}
          aria-describedby={`chat-count-${slug}`} aria-invalid={n > MAX_MESSAGE}
          onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); void submit(); }
            if (e.key === 'Escape' && replyTo) clearReply();
          }} />
        <EmotePicker emotes={s.emotes} onPick={insert} />
        <button type="submit" class="btn primary small" data-testid="chat-send" disabled={busy || offline || !text.trim() || n > MAX_MESSAGE}>Chat</button>
      </div>
      <span id={`chat-count-${slug}`} class={n > MAX_MESSAGE ? 'chat-count over' : 'chat-count'} aria-live="polite">
        {n}/{MAX_MESSAGE}<span class="sr-only"> characters</span>
      </span>
    </form>
  );
}

/** EmotePicker is a button that opens the channel's emotes; picking one inserts its token. Hidden when the channel has none. */
function EmotePicker({ emotes, onPick }: { emotes: Record<string, string>; onPick: (name: string) => void }) {
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const toggle = useRef<HTMLButtonElement>(null);
  const names = Object.keys(emotes).sort((a, b) => a.localeCompare(b));
  useEffect(() => {
    if (!open) return;
    root.current?.querySelector<HTMLButtonElement>('.emote-choice')?.focus();
    const away = (e: Event) => { if (!root.current?.contains(e.target as Node)) setOpen(false); };
    document.addEventListener('pointerdown', away);
    return () => document.removeEventListener('pointerdown', away);
  }, [open]);
  if (names.length === 0) return null;
  const close = () => { setOpen(false); toggle.current?.focus(); };
  const move = (e: KeyboardEvent) => {
    const items = [...(root.current?.querySelectorAll<HTMLButtonElement>('.emote-choice') ?? [])];
    const i = items.indexOf(document.activeElement as HTMLButtonElement);
    const cols = 6;
    const to: Record<string, number> = { ArrowRight: i + 1, ArrowLeft: i - 1, ArrowDown: i + cols, ArrowUp: i - cols, Home: 0, End: items.length - 1 };
    if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); close(); return; }
    if (e.key in to && i >= 0) {
      e.preventDefault();
      items[Math.max(0, Math.min(items.length - 1, to[e.key]))]?.focus();
    }
  };
  return (
    <div class="emote-picker" ref={root} onKeyDown={move}>
      <button type="button" ref={toggle} class="icon-btn emote-toggle" data-testid="emote-picker" aria-label="Insert an emote" title="Emotes"
        aria-haspopup="true" aria-expanded={open} aria-controls="emote-grid" onClick={() => setOpen(!open)}>
        <span aria-hidden="true">☺</span>
      </button>
      {open && (
        <div class="emote-grid" id="emote-grid" role="group" aria-label="Channel emotes" data-testid="emote-grid">
          {names.map((name) => (
            <button key={name} type="button" class="emote-choice" data-testid="emote-choice" data-emote={name} title={`:${name}:`}
              aria-label={`Insert :${name}:`} onClick={() => { setOpen(false); onPick(name); }}>
              <img src={emotes[name]} alt="" height={28} loading="lazy" decoding="async" />
            </button>
          ))}
        </div>
      )}
    </div>
  );
}

/** ChatList keeps the newest line in view unless the reader scrolled up. */
function ChatList({ s, client, onReply, onError, compact }: {
  s: RoomState; client: ChatClient; onReply?: (m: Extract<ChatItem, { kind: 'chat' }>) => void; onError: (e: ChatError) => void; compact?: boolean;
}) {
  const ref = useRef<HTMLOListElement>(null);
  const stick = useRef(true);
  useLayoutEffect(() => {
    const el = ref.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [s.messages]);
  if (!s.welcomed) {
    return <div class="chat-state" data-testid="chat-loading"><Spinner label="Connecting to chat" /> <span>Connecting to chat…</span></div>;
  }
  if (s.messages.length === 0) {
    return <div class="chat-state" data-testid="chat-empty"><p>No messages yet — say hi</p></div>;
  }
  const items = compact ? s.messages.slice(-20) : s.messages;
  return (
    <ol class="chat-list" ref={ref} role="log" aria-label="Chat messages" aria-live="polite"
      onScroll={(e) => { const el = e.currentTarget as HTMLElement; stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40; }}>
      {items.map((m) => <Message key={`${m.kind}${m.seq}`} m={m} s={s} client={client} onReply={onReply} onError={onError} compact={compact} />)}
    </ol>
  );
}

function pct(n: number, total: number): number {
  return total > 0 ? Math.round((n / total) * 100) : 0;
}

/** PollCard shows a poll: buttons to vote once while it is open, live counts, the result once closed. */
export function PollCard({ poll, s, client, onError, overlay, onDismiss, onHide, testId = 'poll' }: {
  poll: Poll; s: RoomState; client: ChatClient; onError?: (e: ChatError) => void; overlay?: boolean; onDismiss?: () => void;
  /** onHide adds a button that hides an open poll (the player's overlay, which leaves ending it to the chat panel). */
  onHide?: () => void;
  testId?: string;
}) {
  const now = useNow(1000, !poll.closed);
  const mine = s.myVotes[poll.id];
  const voted = mine !== undefined;
  const canVote = !poll.closed && !voted && s.signedIn && !overlay;
  const max = Math.max(...poll.counts, 0);
  const left = Math.max(0, Math.ceil((poll.closes_at - now) / 1000));
  return (
    <section class={`poll-card${poll.closed ? ' closed' : ''}${overlay ? ' overlay' : ''}`} data-testid={testId} data-state={poll.closed ? 'closed' : 'open'} aria-labelledby={`${testId}-${poll.id}`}>
      <header class="poll-head">
        <span class="poll-kind">{poll.closed ? 'Poll results' : 'Poll'}</span>
        <span class="poll-meta">{poll.total} {poll.total === 1 ? 'vote' : 'votes'}{!poll.closed && <> · {left} s left</>}</span>
        {poll.closed && onDismiss && <button type="button" class="icon-btn tiny" aria-label="Hide poll results" onClick={onDismiss}><I.Close size={14} /></button>}
        {!poll.closed && onHide && <button type="button" class="icon-btn tiny" aria-label="Hide the poll over the video" onClick={onHide}><I.Close size={14} /></button>}
      </header>
      <h3 id={`${testId}-${poll.id}`} class="poll-q">{poll.question}</h3>
      <ul class="poll-options">
        {poll.options.map((o, i) => {
          const c = poll.counts[i] ?? 0;
          const p = pct(c, poll.total);
          const winner = poll.closed && c === max && max > 0;
          const label = <><span class="poll-opt">{o}{mine === i && <span class="poll-you"> · your vote</span>}</span><span class="poll-pct">{p}% · {c}</span></>;
          return (
            <li key={i} class={`${winner ? 'winner' : ''}${mine === i ? ' mine' : ''}`}>
              {canVote ? (
                <button type="button" class="poll-option" data-testid="poll-option" data-index={i}
                  onClick={() => void client.vote(poll.id, i).catch((e: ChatError) => onError?.(e))}>
                  <span class="poll-bar" style={{ width: `${p}%` }} aria-hidden="true" />{label}
                </button>
              ) : (
                <div class="poll-option static" data-testid="poll-result" data-index={i} data-count={c}>
                  <span class="poll-bar" style={{ width: `${p}%` }} aria-hidden="true" />{label}
                </div>
              )}
            </li>
          );
        })}
      </ul>
      {!overlay && !poll.closed && !s.signedIn && <p class="muted small">Sign in to vote.</p>}
      {!overlay && !onHide && !poll.closed && s.canModerate && (
        <button type="button" class="btn small ghost" onClick={() => void client.command({ type: 'poll.close', poll_id: poll.id }).catch((e: ChatError) => onError?.(e))}>End poll now</button>
      )}
    </section>
  );
}

function QuestionItem({ q, s, client, onError }: { q: Question; s: RoomState; client: ChatClient; onError: (e: ChatError) => void }) {
  const mod = s.canModerate;
  const act = (state: string | undefined, pinned?: boolean) =>
    void client.command({ type: 'qa.moderate', id: q.id, ...(state ? { state } : {}), ...(pinned !== undefined ? { pinned } : {}) }).catch(onError);
  const upvoted = !!s.myUpvotes[q.id];
  const canUpvote = s.signedIn && (q.state === 'approved' || q.state === 'answered') && !upvoted;
  return (
    <li class={`qa-item state-${q.state}${q.pinned ? ' pinned' : ''}`} data-testid="question" data-state={q.state} data-id={q.id}>
      <div class="qa-votes">
        <button type="button" class="qa-up" data-testid="qa-upvote" disabled={!canUpvote} aria-pressed={upvoted}
          aria-label={`Upvote question${q.text ? `: ${q.text}` : ''} (${q.votes} votes)`}
          onClick={() => void client.upvote(q.id).catch(onError)}>▲</button>
        <span class="qa-count" data-testid="qa-votes">{q.votes}</span>
      </div>
      <div class="qa-body">
        <p class="qa-text">{q.redacted ? 'A question awaiting review' : q.text}</p>
        <p class="qa-meta">
          {q.user?.name && <span>{q.user.name}</span>}
          {q.pinned && <span class="qa-tag">Pinned</span>}
          {q.state === 'pending' && <span class="qa-tag warn">Pending review</span>}
          {q.state === 'answered' && <span class="qa-tag ok" data-testid="qa-answered">Answered</span>}
        </p>
        {mod && (
          <div class="qa-mod" role="group" aria-label="Moderate question">
            {q.state === 'pending' && <button type="button" class="btn small" data-testid="qa-approve" onClick={() => act('approved')}>Approve</button>}
            {q.state !== 'answered' && <button type="button" class="btn small" data-testid="qa-answered-btn" onClick={() => act('answered')}>Answered</button>}
            <button type="button" class="btn small" data-testid="qa-pin" aria-pressed={q.pinned} onClick={() => act(undefined, !q.pinned)}>{q.pinned ? 'Unpin' : 'Pin'}</button>
            <button type="button" class="btn small danger" data-testid="qa-dismiss" onClick={() => act('dismissed')}>Dismiss</button>
          </div>
        )}
      </div>
    </li>
  );
}

function QuestionsTab({ s, client, onError }: { s: RoomState; client: ChatClient; onError: (e: ChatError) => void }) {
  const [text, setText] = useState('');
  const [sent, setSent] = useState(false);
  const [busy, setBusy] = useState(false);
  const visible = sortQuestions(s.questions.filter((q) => q.state !== 'dismissed' && (s.canModerate || (q.state !== 'pending' && !q.redacted))));
  const n = chars(text);
  const ask = async (e: Event) => {
    e.preventDefault();
    if (!text.trim() || n > 300) return;
    setBusy(true);
    try {
      await client.command({ type: 'qa.ask', text: text.trim() });
      setText('');
      setSent(true);
    } catch (err) {
      onError(err as ChatError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="qa">
      {visible.length === 0
        ? <div class="chat-state"><p>No questions yet.</p></div>
        : <ol class="qa-list" aria-label="Questions">{visible.map((q) => <QuestionItem key={q.id} q={q} s={s} client={client} onError={onError} />)}</ol>}
      {s.signedIn ? (
        <form class="chat-input" onSubmit={ask}>
          {sent && !s.canModerate && <p class="chat-hint" role="status">Your question was sent; it shows here once a moderator approves it.</p>}
          <label class="sr-only" for="qa-text">Ask a question</label>
          <div class="chat-compose">
            <textarea id="qa-text" rows={1} value={text} placeholder="Ask a question" data-testid="qa-input"
              onInput={(e) => { setText((e.currentTarget as HTMLTextAreaElement).value); setSent(false); }} />
            <button type="submit" class="btn primary small" data-testid="qa-send" disabled={busy || s.conn !== 'open' || !text.trim() || n > 300}>Ask</button>
          </div>
          <span class={n > 300 ? 'chat-count over' : 'chat-count'}>{n}/300</span>
        </form>
      ) : (
        <div class="chat-input signed-out"><a class="btn primary small" href={`/signin?next=${encodeURIComponent(location.pathname)}`}>Sign in to ask</a></div>
      )}
    </div>
  );
}

function ReactionBar({ client, s }: { client: ChatClient; s: RoomState }) {
  return (
    <div class="reaction-bar" role="group" aria-label="Reactions">
      {REACTIONS.map((e) => (
        <button key={e} type="button" class="reaction" data-testid="react" aria-label={`React ${e}`} disabled={s.conn !== 'open'}
          onClick={() => client.fire({ type: 'react', emoji: e })}>{e}</button>
      ))}
    </div>
  );
}

function HeldList({ s, client, onError }: { s: RoomState; client: ChatClient; onError: (e: ChatError) => void }) {
  if (!s.canModerate || s.held.length === 0) return null;
  const act = (type: string, id: string) => void client.command({ type, id }).then(() => client.dismissHeld(id), onError);
  return (
    <ul class="held-list" aria-label="Messages held for review">
      {s.held.map((h) => (
        <li key={h.id}>
          <span class="muted small">Held ({h.term}): </span><strong>{h.user?.name}</strong>: {h.text}
          <span class="held-actions">
            <button type="button" class="btn small" onClick={() => act('held.release', h.id)}>Allow</button>
            <button type="button" class="btn small danger" onClick={() => act('held.reject', h.id)}>Reject</button>
          </span>
        </li>
      ))}
    </ul>
  );
}

/** ChatPanel is the room beside the player: Chat and Questions tabs, the poll card, reactions. */
export function ChatPanel({ client, slug, popout }: { client: ChatClient; slug: string; popout?: boolean }) {
  const s = useRoom(client);
  const [tab, setTab] = useState<'chat' | 'qa'>('chat');
  const [replyTo, setReplyTo] = useState<Extract<ChatItem, { kind: 'chat' }> | undefined>();
  const [localError, setLocalError] = useState<string | undefined>();
  const [hidden, setHidden] = useState<string>('');
  const onError = (e: ChatError) => {
    // Error frames land in state.error already; show the rest (offline, timeout, REST answers) here.
    if (e.code === 'offline' || e.code === 'timeout' || e.code === 'api') setLocalError(e.message);
  };
  const poll = currentPoll(s.polls);
  const openQs = s.questions.filter((q) => q.state !== 'dismissed' && (s.canModerate || q.state !== 'pending')).length;
  const tabBtn = (id: 'chat' | 'qa', label: string) => (
    <button type="button" role="tab" id={`tab-${id}`} aria-selected={tab === id} aria-controls={`panel-${id}`} tabIndex={tab === id ? 0 : -1}
      class="chat-tab" data-testid={`tab-${id}`} onClick={() => setTab(id)}
      onKeyDown={(e) => { if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') { const n = id === 'chat' ? 'qa' : 'chat'; setTab(n); document.getElementById(`tab-${n}`)?.focus(); } }}>
      {label}
    </button>
  );
  return (
    <aside class={popout ? 'chat popout' : 'chat'} aria-label="Chat" data-testid="chat-panel" data-conn={s.conn}>
      <header class="chat-head">
        <div class="chat-tabs" role="tablist" aria-label="Room">
          {tabBtn('chat', 'Chat')}
          {tabBtn('qa', openQs ? `Questions (${openQs})` : 'Questions')}
        </div>
        <span class={`chat-dot conn-${s.conn}`} title={s.conn === 'open' ? 'Connected' : s.conn} aria-hidden="true" />
        {!popout && (
          <a class="icon-btn tiny" href={`/popout/${encodeURIComponent(slug)}/chat`} target="_blank" rel="noopener" aria-label="Open chat in a new window" title="Pop out chat">↗</a>
        )}
      </header>
      <ConnBanner s={s} client={client} />
      {poll && poll.id !== hidden && <PollCard poll={poll} s={s} client={client} onError={onError} onDismiss={() => setHidden(poll.id)} />}
      <ErrorBar s={s} client={client} local={localError} clearLocal={() => setLocalError(undefined)} />
      <div class="chat-body" role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'chat' ? (
          <>
            <HeldList s={s} client={client} onError={onError} />
            <ChatList s={s} client={client} onReply={setReplyTo} onError={onError} />
          </>
        ) : (
          <QuestionsTab s={s} client={client} onError={onError} />
        )}
      </div>
      {tab === 'chat' && (
        <>
          <ReactionBar client={client} s={s} />
          <Composer s={s} client={client} slug={slug} replyTo={replyTo} clearReply={() => setReplyTo(undefined)} onError={onError} />
        </>
      )}
    </aside>
  );
}

interface Floater { id: number; emoji: string; x: number; delay: number }

/** ReactionLayer floats incoming reactions over the video; with reduced motion they fade in place. */
export function ReactionLayer({ client }: { client: ChatClient }) {
  const [items, setItems] = useState<Floater[]>([]);
  const next = useRef(0);
  useEffect(() => client.onReactions((counts) => {
    const add: Floater[] = [];
    for (const [emoji, n] of Object.entries(counts)) {
      for (let i = 0; i < Math.min(n, 6); i++) add.push({ id: ++next.current, emoji, x: 8 + Math.random() * 84, delay: Math.random() * 400 });
    }
    const ids = new Set(add.map((a) => a.id));
    setItems((cur) => [...cur, ...add].slice(-40));
    setTimeout(() => setItems((cur) => cur.filter((f) => !ids.has(f.id))), 3000);
  }), [client]);
  return (
    <div class="reaction-layer" aria-hidden="true" data-testid="reaction-layer">
      {items.map((f) => <span key={f.id} class="float-emoji" data-testid="float-emoji" style={{ left: `${f.x}%`, animationDelay: `${f.delay}ms` }}>{f.emoji}</span>)}
    </div>
  );
}

/** PlayerPoll shows the open poll over the video, where viewers can vote from it; it can be hidden, and goes when the poll closes. */
export function PlayerPoll({ client }: { client: ChatClient }) {
  const s = useRoom(client);
  const [hidden, setHidden] = useState('');
  const poll = currentPoll(s.polls);
  if (!poll || poll.closed || poll.id === hidden) return null;
  return (
    <div class="player-poll" data-testid="player-poll" role="region" aria-label="Poll"
      style={{ position: 'absolute', top: '12px', left: '12px', zIndex: 3, width: 'min(300px, calc(100% - 24px))', maxHeight: 'calc(100% - 24px)', overflowY: 'auto' }}>
      <PollCard poll={poll} s={s} client={client} onHide={() => setHidden(poll.id)} testId="player-poll-card" />
    </div>
  );
}

/** PopoutChat is the chat alone, for a separate window. */
export function PopoutChat({ slug }: { slug: string }) {
  const client = useClient(slug);
  useEffect(() => { document.title = `Chat · ${slug} · Livehouse`; }, [slug]);
  return <div class="popout-page"><ChatPanel client={client} slug={slug} popout /></div>;
}

function useTransparent() {
  useLayoutEffect(() => {
    document.documentElement.classList.add('overlay-mode');
    return () => document.documentElement.classList.remove('overlay-mode');
  }, []);
}

/** OverlayChat is an OBS browser source: the latest messages on a transparent page. */
export function OverlayChat({ slug }: { slug: string }) {
  useTransparent();
  const client = useClient(slug);
  const s = useRoom(client);
  const noop = () => undefined;
  return (
    <div class="overlay-chat" data-testid="overlay-chat" data-conn={s.conn}>
      {s.welcomed && s.messages.length > 0 && <ChatList s={{ ...s, canModerate: false }} client={client} onError={noop} compact />}
    </div>
  );
}

/** OverlayPoll is an OBS browser source showing the current poll, if any. */
export function OverlayPoll({ slug }: { slug: string }) {
  useTransparent();
  const client = useClient(slug);
  const s = useRoom(client);
  const poll = currentPoll(s.polls);
  return (
    <div class="overlay-poll" data-testid="overlay-poll" data-conn={s.conn}>
      {poll && <PollCard poll={poll} s={s} client={client} overlay />}
    </div>
  );
}
