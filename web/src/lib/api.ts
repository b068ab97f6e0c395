// The API client: JSON in and out, the error object of docs/API.md, and the
// CSRF token that every mutating request made with the session cookie carries.
import type {
  AdminChannel, ApiToken, AuditEntry, BlockedTerm, Broadcast, Moderator, Webhook, Category, Channel, ChannelCard, CreatedChannel, Emote, Ladder, LiveStatus,
  Me, Notification, Page, StreamKey, User,
} from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Query { [k: string]: string | number | boolean | undefined }

function qs(q?: Query): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** Client holds the CSRF token of the signed-in session. */
export class Client {
  csrf = '';

  constructor(private readonly base = '/api/v1') {}

  async request<T>(method: Method, path: string, body?: unknown, retried = false, cache?: RequestCache, extra?: Record<string, string>): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json', ...extra };
    let payload: BodyInit | undefined;
    if (body instanceof Blob) {
      payload = body;
      headers['Content-Type'] = body.type || 'application/octet-stream';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['Content-Type'] = 'application/json';
    }
    if (method !== 'GET' && this.csrf) headers['X-CSRF-Token'] = this.csrf;
    let res: Response;
    try {
      res = await fetch(this.base + path, { method, headers, body: payload, credentials: 'same-origin', ...(cache ? { cache } : {}) });
    } catch {
      throw new ApiError(0, 'network', 'The server cannot be reached. Check your connection and try again.');
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let data: unknown;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      data = undefined;
    }
    if (!res.ok) {
      const e = (data as { error?: { code?: string; message?: string; field?: string } } | undefined)?.error;
      const err = new ApiError(res.status, e?.code ?? 'http_' + res.status, e?.message ?? `${res.status} ${res.statusText}`, e?.field);
      // A stale token (the session rotated in another tab): refresh it once.
      if (err.code === 'csrf' && !retried && method !== 'GET') {
        await this.me().catch(() => undefined);
        return this.request<T>(method, path, body, true, cache, extra);
      }
      throw err;
    }
    return data as T;
  }

  get<T>(path: string, q?: Query) { return this.request<T>('GET', path + qs(q)); }
  post<T>(path: string, body?: unknown) { return this.request<T>('POST', path, body ?? {}); }
  put<T>(path: string, body?: unknown) { return this.request<T>('PUT', path, body); }
  patch<T>(path: string, body: unknown) { return this.request<T>('PATCH', path, body); }
  del<T>(path: string) { return this.request<T>('DELETE', path); }
  /**
   * money sends a request that moves value (docs/MONEY.md, "Idempotency"):
   * the key names one user action, and a retry of that action sends the same
   * key, so the server moves the money at most once.
   */
  money<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body: unknown, key: string) {
    return this.request<T>(method, path, body, false, undefined, { 'Idempotency-Key': key });
  }

  // Auth
  async me(): Promise<Me> {
    const me = await this.get<Me>('/auth/me');
    this.csrf = me.csrf_token;
    return me;
  }
  async signUp(email: string, password: string, display_name: string): Promise<Me> {
    const me = await this.post<Me>('/auth/signup', { email, password, display_name });
    this.csrf = me.csrf_token;
    return me;
  }
  async signIn(email: string, password: string): Promise<Me> {
    const me = await this.post<Me>('/auth/signin', { email, password });
    this.csrf = me.csrf_token;
    return me;
  }
  async signOut(): Promise<void> {
    await this.post<void>('/auth/signout');
    this.csrf = '';
  }

  // Account
  async updateMe(body: { display_name: string }): Promise<User> {
    return this.patch<User>('/me', body);
  }
  async changePassword(current_password: string, new_password: string): Promise<Me> {
    const me = await this.post<Me>('/me/password', { current_password, new_password });
    this.csrf = me.csrf_token;
    return me;
  }
  tokens() { return this.get<Page<ApiToken>>('/me/tokens'); }
  createToken(name: string) { return this.post<ApiToken & { token: string }>('/me/tokens', { name }); }
  deleteToken(id: string) { return this.del<void>(`/me/tokens/${enc(id)}`); }

  // Directory
  categories() { return this.get<{ items: Category[] }>('/categories'); }
  channels(q: Query) { return this.get<Page<ChannelCard>>('/channels', q); }
  async channel(slug: string): Promise<Channel> {
    const early = this.prefetched.get(slug);
    if (early) {
      this.prefetched.delete(slug);
      return early;
    }
    return this.get<Channel>(`/channels/${enc(slug)}`);
  }
  /** prefetchChannel starts loading a channel before the page that needs it renders; channel() takes the answer once. */
  prefetchChannel(slug: string): void {
    const p = this.get<Channel>(`/channels/${enc(slug)}`);
    p.catch(() => undefined);
    this.prefetched.set(slug, p);
  }
  private readonly prefetched = new Map<string, Promise<Channel>>();
  /** The channels the signed-in user owns. */
  myChannels() { return this.get<Page<Channel>>('/me/channels'); }

  // Creator
  createChannel(body: Partial<Channel> & { slug: string; display_name: string; category: string }) {
    return this.post<CreatedChannel>('/channels', body);
  }
  updateChannel(slug: string, body: Partial<Pick<Channel, 'display_name' | 'title' | 'category' | 'tags' | 'language' | 'mature' | 'bio'>>) {
    return this.patch<Channel>(`/channels/${enc(slug)}`, body);
  }
  rotateKey(slug: string) { return this.post<StreamKey>(`/channels/${enc(slug)}/key`); }
  uploadAvatar(slug: string, file: Blob) { return this.put<{ avatar_url: string }>(`/channels/${enc(slug)}/avatar`, file); }
  health(slug: string) { return this.get<LiveStatus>(`/channels/${enc(slug)}/health`); }
  broadcasts(slug: string, q?: Query) { return this.get<Page<Broadcast>>(`/channels/${enc(slug)}/broadcasts`, q); }

  /** emotes lists a channel's chat emotes; fresh skips the browser's cached copy (the list is cacheable for 30 s). */
  emotes(slug: string, fresh = false) {
    return this.request<{ emotes: Emote[] }>('GET', `/channels/${enc(slug)}/emotes`, undefined, false, fresh ? 'no-cache' : undefined);
  }
  /** putEmote adds or replaces an emote: the body is the raw image, its type the Content-Type. */
  putEmote(slug: string, name: string, file: Blob) { return this.put<Emote>(`/channels/${enc(slug)}/emotes/${enc(name)}`, file); }
  deleteEmote(slug: string, name: string) { return this.del<void>(`/channels/${enc(slug)}/emotes/${enc(name)}`); }

  // Chat moderation (docs/API.md, "Realtime")
  moderators(slug: string) { return this.get<{ moderators: Moderator[] }>(`/channels/${enc(slug)}/moderators`); }
  addModerator(slug: string, userId: string) { return this.put<{ seq: number }>(`/channels/${enc(slug)}/moderators/${enc(userId)}`); }
  removeModerator(slug: string, userId: string) { return this.del<{ seq: number }>(`/channels/${enc(slug)}/moderators/${enc(userId)}`); }
  blockedTerms(slug: string) { return this.get<{ terms: BlockedTerm[]; server_terms: BlockedTerm[] }>(`/channels/${enc(slug)}/blocked-terms`); }
  putBlockedTerm(slug: string, term: string, action: BlockedTerm['action']) { return this.put<void>(`/channels/${enc(slug)}/blocked-terms`, { term, action }); }
  deleteBlockedTerm(slug: string, term: string) { return this.del<void>(`/channels/${enc(slug)}/blocked-terms${qs({ term })}`); }
  audit(slug: string, cursor?: string) { return this.get<{ items: AuditEntry[]; next_cursor?: string }>(`/channels/${enc(slug)}/audit`, { cursor }); }

  webhooks(slug: string) { return this.get<Page<Webhook>>(`/channels/${enc(slug)}/webhooks`); }
  createWebhook(slug: string, url: string, events: string[]) { return this.post<Webhook & { secret: string }>(`/channels/${enc(slug)}/webhooks`, { url, events }); }
  deleteWebhook(slug: string, id: string) { return this.del<void>(`/channels/${enc(slug)}/webhooks/${enc(id)}`); }

  // Viewers
  heartbeat(slug: string, viewer_id: string) { return this.post<void>(`/channels/${enc(slug)}/heartbeat`, { viewer_id }); }
  follow(slug: string, on: boolean) {
    return on ? this.put<void>(`/channels/${enc(slug)}/follow`) : this.del<void>(`/channels/${enc(slug)}/follow`);
  }
  notifications(q?: Query) { return this.get<Page<Notification> & { unread: number }>('/me/notifications', q); }
  markNotificationsRead() { return this.post<void>('/me/notifications/read'); }

  // Admin
  adminUsers(q?: Query) { return this.get<Page<User>>('/admin/users', q); }
  adminUpdateUser(id: string, body: { status?: string; role?: string }) { return this.patch<User>(`/admin/users/${enc(id)}`, body); }
  adminChannels(q?: Query) { return this.get<Page<AdminChannel>>('/admin/channels', q); }
  adminUpdateChannel(slug: string, body: { status: string }) { return this.patch<AdminChannel>(`/admin/channels/${enc(slug)}`, body); }
  adminSettings() { return this.get<{ ladder: Ladder }>('/admin/settings'); }
  adminSaveSettings(body: { ladder: Ladder }) { return this.put<{ ladder: Ladder }>('/admin/settings', body); }
}

const enc = encodeURIComponent;

export const api = new Client();
