// Shapes of the JSON API (docs/API.md). Fields the server may omit are optional.

export type Role = 'viewer' | 'creator' | 'admin';

export interface User {
  id: string;
  email?: string;
  display_name: string;
  role: Role;
  created_at: string;
  status?: 'active' | 'suspended' | 'banned';
}

export interface Me {
  user: User;
  csrf_token: string;
}

export interface Category {
  slug: string;
  name: string;
  live_count: number;
}

export interface ChannelCard {
  slug: string;
  display_name: string;
  title: string;
  category: string;
  tags: string[];
  language: string;
  mature: boolean;
  avatar_url: string;
  live: boolean;
  viewers: number;
  thumbnail_url: string;
  started_at?: string;
}

export interface LastBroadcast {
  started_at: string;
  ended_at?: string;
  peak_viewers: number;
}

export interface Channel extends ChannelCard {
  bio: string;
  owner?: { id: string; display_name: string };
  followers: number;
  playback_url: string;
  status?: LiveStatus;
  last_broadcast?: LastBroadcast;
  following?: boolean;
}

export interface Page<T> {
  items: T[];
  next_cursor?: string;
}

/** The video core's live status (internal/live.Status). */
export interface LiveStatus {
  channel: string;
  state: 'live' | 'reconnecting' | string;
  broadcast_id: string;
  started_at: string;
  encoder_connections: number;
  playback_path: string;
  thumbnail_path?: string;
  ingest: {
    bitrate_kbps: number;
    fps: number;
    keyframe_interval_seconds: number;
    video_codec: string;
    audio_codec?: string;
    width: number;
    height: number;
    audio_sample_rate?: number;
    audio_channels?: number;
    bytes_received: number;
  };
  transcoder?: Record<string, unknown>;
  renditions: Array<Record<string, unknown>>;
  ladder: LadderRendition[];
}

export interface LadderRendition {
  name: string;
  height?: number;
  video_kbps?: number;
  max_fps?: number;
  passthrough?: boolean;
}

export interface Ladder {
  encoder?: string;
  preset?: string;
  vaapi_device?: string;
  renditions: LadderRendition[];
}

export interface CreatedChannel {
  channel: Channel;
  stream_key: string;
  rtmp_url: string;
}

export interface StreamKey {
  stream_key: string;
  rtmp_url: string;
}

export interface Broadcast {
  broadcast_id: string;
  started_at: string;
  ended_at?: string;
  peak_viewers: number;
  avg_viewers: number;
  end_reason?: string;
}

export interface Notification {
  id: string;
  kind: 'live' | string;
  channel: ChannelCard;
  created_at: string;
  read: boolean;
}

export interface AdminChannel extends ChannelCard {
  owner?: { id: string; display_name: string; email?: string };
  status?: 'active' | 'suspended' | string;
}

export interface ApiErrorBody {
  error: { code: string; message: string; field?: string };
}

export interface ApiToken {
  id: string;
  name: string;
  created_at: string;
  last_used_at?: string | null;
}

export interface Webhook {
  id: string;
  url: string;
  events: string[];
  created_at: string;
}

/** A channel chat emote (GET /channels/{slug}/emotes). */
export interface Emote { name: string; url: string }

/** A channel moderator (GET /channels/{slug}/moderators). */
export interface Moderator { id: string; name: string }

/** A blocked term: block refuses the message, hold keeps it for a moderator's review. */
export interface BlockedTerm { term: string; action: 'block' | 'hold' }

/** One moderator action of a channel's audit log (GET /channels/{slug}/audit). */
export interface AuditEntry {
  id: string;
  actor_id: string;
  action: string;
  target?: string;
  detail?: string;
  created_at: string;
}

// Money (docs/MONEY.md). Coin amounts are integers in coins; fiat prices are
// integers in the currency's minor unit (cents).

/** A coin pack on sale (GET /coin-packs). */
export interface CoinPack {
  id: string;
  name: string;
  coins: number;
  price: number;
  currency: string;
  active?: boolean;
}

export interface TestCard { number: string; outcome: string }

/** A payment provider (GET /payments/providers); the sandbox lists its test cards. */
export interface PaymentProvider {
  id: string;
  name: string;
  test_cards?: TestCard[];
}

export interface Wallet {
  balance: number;
  /** Coins owed after a refund of spent coins (the server may show it as a positive figure or as the account's negative balance). */
  receivable: number;
  currency: string;
}

/** One change of the caller's wallet (GET /me/wallet/transactions); amount is signed. */
export interface WalletTxn {
  id: string;
  kind: string;
  amount: number;
  channel: string;
  created_at: string;
  memo?: Record<string, unknown>;
}

export type OrderStatus = 'paid' | 'declined' | 'requires_action' | 'pending' | 'refunded' | 'charged_back';

export interface Order {
  id: string;
  status: OrderStatus;
  pack_id: string;
  coins: number;
  price: number;
  currency: string;
  provider: string;
  message?: string;
  checkout_url?: string;
  balance?: number;
  user_id?: string;
  user?: { id: string; name?: string; display_name?: string; email?: string };
  created_at?: string;
}

/** A gift of the catalog (GET /gifts); tier 1–3 sizes its alert. */
export interface Gift {
  id: string;
  name: string;
  image: string;
  price: number;
  tier: number;
  active?: boolean;
}

export interface GiftSent { txn_id: string; coins: number; balance: number; combo_id: string; combo_count: number }
export interface TipSent { txn_id: string; coins: number; balance: number }

export interface LeaderRow { user: { id: string; name: string }; coins: number; gifts: number }
export interface Leaderboard { period: 'broadcast' | 'week'; items: LeaderRow[] }

export interface Tier { tier: number; price: number }

export interface Subscription {
  subscribed: boolean;
  tier: number;
  status: 'active' | 'expired' | 'none';
  renews: boolean;
  period_end?: string;
  gifted_by?: { id: string; name: string } | string;
  /** The subscription was paid by someone else. */
  gifted?: boolean;
  months?: number;
  /** The payer's wallet after a charge (POST answers). */
  balance?: number;
  channel?: { slug: string; name: string };
}

export interface AdCreative {
  id: string;
  name: string;
  kind: 'image' | 'video';
  url: string;
  cpm: number;
  categories: string[];
  active: boolean;
}

export interface AdBreak {
  id: string;
  starts_at: string;
  ends_at: string;
  duration: number;
  creative?: { name: string; kind: 'image' | 'video'; url: string };
  impressions?: number;
  credited?: number;
  state?: string;
}

export interface AdSchedule { every_minutes: number; duration: number }

export interface EarningsDay { date: string; gift: number; tip: number; subscription: number; ad: number }

export interface Earnings {
  balance: number;
  pending: number;
  approved: number;
  paid: number;
  totals: { gift: number; tip: number; subscription: number; ad: number };
  days: EarningsDay[];
}

export interface Payout {
  id: string;
  amount: number;
  status: 'requested' | 'approved' | 'paid' | 'rejected' | string;
  created_at?: string;
  updated_at?: string;
  channel?: { slug: string; name?: string; display_name?: string } | string;
  note?: string;
}

export interface MonetizationSettings {
  gift_share_bps: number;
  tip_share_bps: number;
  sub_share_bps: number;
  ad_share_bps: number;
  tip_min: number;
  tip_max: number;
  payout_min: number;
}

export interface LedgerEntry { account: string; currency: string; amount: number }

export interface LedgerTxn {
  id: string;
  kind: string;
  user_id?: string;
  channel_id?: string;
  amount: number;
  created_at: string;
  memo?: Record<string, unknown>;
  entries: LedgerEntry[];
}

export interface LedgerAccount { id: string; kind: string; currency: string; balance: number }

export interface LedgerVerify {
  ok: boolean;
  breaches: Array<{ rule: string; detail: string }>;
  accounts: number;
  txns: number;
  entries: number;
}

export interface Revenue {
  totals: { gift: number; tip: number; subscription: number; ad: number; sales: number };
  days: Array<{ date: string; gift: number; tip: number; subscription: number; ad: number; sales?: number }>;
}

/** The money part of a gift, tip or sub room event. */
export interface MoneyView {
  gift?: { id: string; name: string; image?: string; tier: number };
  count?: number;
  coins: number;
  combo_id?: string;
  combo_count?: number;
  tier?: number;
  months?: number;
  gifted_by?: { id: string; name: string; badges?: string[] };
}
