import { useEffect } from 'preact/hooks';
import { api } from '../lib/api';
import { ago } from '../lib/format';
import { usePaged, useTitle } from '../lib/hooks';
import { navigate } from '../lib/router';
import { useSession, useToasts } from '../lib/session';
import type { Notification, Page } from '../lib/types';
import { Avatar, EmptyState, ErrorState, LiveBadge, MoreButton, Spinner, errorText } from '../components/ui';
import * as I from '../components/icons';

type NotificationPage = Page<Notification> & { unread: number };

export function Notifications() {
  useTitle('Notifications');
  const { user } = useSession();
  const { push } = useToasts();
  const list = usePaged<Notification, NotificationPage>(
    (cursor) => (user ? api.notifications({ limit: 50, cursor }) : Promise.resolve({ items: [], unread: 0 })), [user?.id]);
  useEffect(() => { if (user === null) navigate('/signin?next=/notifications', true); }, [user]);
  const unread = list.data?.unread ?? 0;
  const markRead = async () => {
    try {
      await api.markNotificationsRead();
      list.reload();
    } catch (e) {
      push({ kind: 'error', title: 'Could not mark notifications read', body: errorText(e) });
    }
  };
  return (
    <div class="page narrow">
      <div class="section-head">
        <h1>Notifications</h1>
        {unread > 0 && <button type="button" class="btn ghost" onClick={markRead}><I.Check size={16} /> Mark all read</button>}
      </div>
      {list.error && !list.data ? <ErrorState error={list.error} retry={list.reload} /> : !list.data ? <Spinner /> : list.items.length === 0 ? (
        <EmptyState title="No notifications yet" icon={<I.Bell size={32} />}><p>When a channel you follow goes live, you will hear about it here.</p></EmptyState>
      ) : (
        <>
          <ul class="notif-list">
            {list.items.map((n) => (
              <li key={n.id} class={n.read ? 'notif' : 'notif unread'}>
                <Avatar name={n.channel.display_name} url={n.channel.avatar_url} size={40} />
                <div class="notif-text">
                  <p><a href={`/c/${encodeURIComponent(n.channel.slug)}`}><strong>{n.channel.display_name}</strong></a> went live{n.channel.title ? <>: {n.channel.title}</> : null}</p>
                  <p class="muted small">{ago(n.created_at)}</p>
                </div>
                {n.channel.live && <LiveBadge small />}
              </li>
            ))}
          </ul>
          {list.hasMore && <MoreButton more={list.more} loading={list.loadingMore} error={list.moreError} />}
        </>
      )}
    </div>
  );
}
