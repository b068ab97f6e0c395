// Directory pages: all categories, one category, a tag, search and Following.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { api } from '../lib/api';
import { categoryName, categoryTone, CATEGORIES } from '../lib/categories';
import { useAsync, useInterval, useTitle } from '../lib/hooks';
import { useSession } from '../lib/session';
import type { ChannelCard as Card, Page } from '../lib/types';
import { CategoryTile, ChannelCard, EmptyState, ErrorState, MoreButton, SkeletonGrid } from '../components/ui';
import { useCategories } from './Home';
import * as I from '../components/icons';
import type { Query } from '../lib/api';

export function Browse() {
  useTitle('Browse');
  const cats = useCategories();
  const live = cats.items.reduce((n, c) => n + c.live_count, 0);
  return (
    <div class="page">
      <div class="section-head">
        <h1>Browse</h1>
        <p class="muted">{CATEGORIES.length} categories{live > 0 ? ` · ${live} live` : ''}</p>
      </div>
      {cats.error && <p class="notice">Live counts are unavailable right now.</p>}
      <div class="cat-grid large">{cats.items.map((c) => <CategoryTile c={c} key={c.slug} />)}</div>
    </div>
  );
}

/** ChannelList loads a paginated directory query and shows its states. */
function ChannelList({ query, empty, refresh }: { query: Query; empty: ComponentChildren; refresh?: boolean }) {
  const key = JSON.stringify(query);
  const [bust, setBust] = useState(() => Math.floor(Date.now() / 10000));
  const [more, setMore] = useState<Card[]>([]);
  const [cursor, setCursor] = useState<string | undefined>();
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<unknown>();
  const first = useAsync<Page<Card>>(async () => {
    const p = await api.channels({ ...query, limit: 24 });
    setMore([]);
    setMoreError(undefined);
    setCursor(p.next_cursor);
    return p;
  }, [key]);
  useInterval(() => { if (!more.length) { first.reload(); setBust(Math.floor(Date.now() / 10000)); } }, refresh ? 30_000 : null);
  if (first.error && !first.data) return <ErrorState error={first.error} retry={first.reload} />;
  if (!first.data) return <SkeletonGrid />;
  let items = [...first.data.items, ...more];
  // Following lists live channels first, busiest first.
  if (query.following) items = [...items].sort((a, b) => Number(b.live) - Number(a.live) || (b.live ? b.viewers - a.viewers : 0));
  if (items.length === 0) return <>{empty}</>;
  const loadMore = async () => {
    setLoadingMore(true);
    setMoreError(undefined);
    try {
      const p = await api.channels({ ...query, limit: 24, cursor });
      setMore((m) => [...m, ...p.items]);
      setCursor(p.next_cursor);
    } catch (e) {
      setMoreError(e);
    } finally {
      setLoadingMore(false);
    }
  };
  return (
    <>
      <div class="grid">{items.map((c) => <ChannelCard c={c} key={c.slug} bust={bust} />)}</div>
      {cursor && <MoreButton more={loadMore} loading={loadingMore} error={moreError} />}
    </>
  );
}

export function CategoryPage({ slug }: { slug: string }) {
  const name = categoryName(slug);
  useTitle(name);
  const cats = useCategories();
  const known = CATEGORIES.some((c) => c.slug === slug.toLowerCase());
  const count = cats.items.find((c) => c.slug === slug)?.live_count ?? 0;
  const hue = categoryTone(slug);
  if (!known) {
    return <div class="page"><EmptyState title="No such category"><a class="btn" href="/browse">See all categories</a></EmptyState></div>;
  }
  return (
    <div class="page">
      <div class="banner" data-hue={hue}>
        <p class="eyebrow">Category</p>
        <h1>{name}</h1>
        <p>{count > 0 ? `${count} live now` : 'No one is live right now'}</p>
      </div>
      <section class="section" aria-labelledby="cat-live">
        <h2 id="cat-live" class="section-title">Live in {name}</h2>
        <ChannelList query={{ live: true, category: slug }} refresh
          empty={<EmptyState title={`No one is live in ${name}`}><p>Follow channels to hear when they go live.</p></EmptyState>} />
      </section>
      <section class="section" aria-labelledby="cat-all">
        <h2 id="cat-all" class="section-title">All {name} channels</h2>
        <ChannelList query={{ category: slug }} empty={<p class="muted">No channels in {name} yet.</p>} />
      </section>
    </div>
  );
}

export function TagPage({ tag }: { tag: string }) {
  useTitle(`#${tag}`);
  return (
    <div class="page">
      <div class="section-head"><h1><span class="muted">#</span>{tag}</h1></div>
      <ChannelList query={{ tag }} refresh empty={<EmptyState title={`No channels tagged “${tag}”`} />} />
    </div>
  );
}

export function SearchPage({ q }: { q: string }) {
  useTitle(q ? `Search: ${q}` : 'Search');
  return (
    <div class="page">
      <div class="section-head"><h1>{q ? <>Results for “{q}”</> : 'Search'}</h1></div>
      {q ? (
        <ChannelList query={{ q }} empty={<EmptyState title="No channels match" icon={<I.Search size={32} />}><p>Try a channel name, a word from a title or a tag.</p></EmptyState>} />
      ) : (
        <EmptyState title="Search channels" icon={<I.Search size={32} />}><p>Type in the search box above.</p></EmptyState>
      )}
    </div>
  );
}

export function Following() {
  useTitle('Following');
  const { user } = useSession();
  if (user === undefined) return <div class="page"><SkeletonGrid /></div>;
  if (user === null) {
    return (
      <div class="page">
        <EmptyState title="Sign in to see who you follow" icon={<I.Heart size={32} />}>
          <a class="btn primary" href="/signin?next=/following">Sign in</a>
        </EmptyState>
      </div>
    );
  }
  return (
    <div class="page">
      <div class="section-head"><h1>Following</h1></div>
      <ChannelList query={{ following: true }} refresh
        empty={<EmptyState title="You follow no one yet" icon={<I.Heart size={32} />}><p>Follow channels to find them here and hear when they go live.</p><a class="btn primary" href="/">Discover live channels</a></EmptyState>} />
    </div>
  );
}
