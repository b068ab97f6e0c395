import { useEffect } from 'preact/hooks';
import { api } from '../lib/api';
import { ago } from '../lib/format';
import { useAsync, useTitle } from '../lib/hooks';
import { navigate } from '../lib/router';
import { useSession } from '../lib/session';
import { Avatar, EmptyState, ErrorState, LiveBadge, Spinner } from '../components/ui';
import * as I from '../components/icons';

export function Notifications() {
  useTitle('Notifications');
  const { user } = useSession();
  const list = useAsync(() => (user ? api.notifications({ limit: 50 }) : Promise.resolve({ items: [] })), [user?.id]);
  useEffect(() => { if (user === null) navigate('/signin?next=/notifications', true); }, [user]);
  const unread = list.data?.items.filter((n) => !n.read).length ?? 0;
  const markRead = async () => {
    await api.markNotificationsRead().catch(() => undefined);
    list.reload();
  };
  return (
    <div class="page narrow">
      <div class="section-head">
        <h1>Notifications</h1>
        {unread > 0 && <button type="button" class="btn ghost" onClick={markRead}><I.Check size={16} /> Mark all read</button>}
      </div>
      {list.error ? <ErrorState error={list.error} retry={list.reload} /> : !list.data ? <Spinner /> : list.data.items.length === 0 ? (
        <EmptyState title="No notifications yet" icon={<I.Bell size={32} />}><p>When a channel you follow goes live, you will hear about it here.</p></EmptyState>
      ) : (
        <ul class="notif-list">
          {list.data.items.map((n) => (
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
      )}
    </div>
  );
}
