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
