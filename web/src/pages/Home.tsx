import { useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api';
import { CATEGORIES } from '../lib/categories';
import { useAsync, useInterval, useTitle } from '../lib/hooks';
import { useSession } from '../lib/session';
import type { Category } from '../lib/types';
import { CategoryTile, ChannelCard, EmptyState, ErrorState, SkeletonGrid } from '../components/ui';
import { compact } from '../lib/format';

export function useCategories() {
  const cats = useAsync(() => api.categories().then((r) => r.items), []);
  const items: Category[] = cats.data ?? CATEGORIES;
  return { ...cats, items };
}

export function Home() {
  useTitle('');
  const { user } = useSession();
  const [bust, setBust] = useState(() => Math.floor(Date.now() / 10000));
  const live = useAsync(() => api.channels({ live: true, limit: 48 }), []);
  const cats = useCategories();
  useInterval(() => { live.reload(); setBust(Math.floor(Date.now() / 10000)); }, 20_000);
  const items = live.data?.items.filter((c) => c.live) ?? [];
  useEffect(() => { if (live.data && !performance.getEntriesByName('lh-home-data').length) performance.mark('lh-home-data'); }, [live.data]);
  const total = items.reduce((n, c) => n + c.viewers, 0);
  const topCats = [...cats.items].sort((a, b) => b.live_count - a.live_count);
  return (
    <div class="page">
      <section aria-labelledby="live-now">
        <div class="section-head">
          <h1 id="live-now">Live now</h1>
          {items.length > 0 && (
            <p class="muted">{items.length} {items.length === 1 ? 'channel' : 'channels'} · {compact(total)} watching</p>
          )}
        </div>
        {live.error && !live.data ? (
          <ErrorState error={live.error} retry={live.reload} title="Live channels could not be loaded" />
        ) : !live.data ? (
          <SkeletonGrid />
        ) : items.length === 0 ? (
          <EmptyState title="Nobody is live right now">
            <p>Channels appear here the moment they go live, busiest first.</p>
            <a class="btn primary" href={user ? '/dashboard' : '/signup'}>Start streaming</a>
          </EmptyState>
        ) : (
          <div class="grid" data-testid="live-grid">
            {items.map((c) => <ChannelCard c={c} key={c.slug} bust={bust} />)}
          </div>
        )}
      </section>
      <section aria-labelledby="cats" class="section">
        <div class="section-head">
          <h2 id="cats">Browse categories</h2>
          <a class="link" href="/browse">All 21 categories</a>
        </div>
        {cats.error && (
          <p class="notice warn" role="status">
            Live counts are unavailable right now, so every category shows “No one live”.{' '}
            <button type="button" class="btn small" onClick={cats.reload}>Try again</button>
          </p>
        )}
        <div class="cat-grid">
          {topCats.map((c) => <CategoryTile c={c} key={c.slug} />)}
        </div>
      </section>
    </div>
  );
}
