// Small building blocks shared by the pages.
import { cloneElement, isValidElement, toChildArray, type ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError } from '../lib/api';
import { categoryName, categoryTone } from '../lib/categories';
import { compact, uptime, viewersLabel } from '../lib/format';
import type { Category, ChannelCard as Card } from '../lib/types';
import * as I from './icons';

export function Avatar({ name, url, size = 40 }: { name: string; url?: string; size?: number }) {
  const [broken, setBroken] = useState(false);
  const initial = (name.trim()[0] ?? '?').toUpperCase();
  const hue = [...name].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) % 360, 7);
  const cls = `avatar avatar-${size}`;
  if (url && !broken) {
    return <img class={cls} src={url} alt="" width={size} height={size} loading="lazy" onError={() => setBroken(true)} />;
  }
  return <span class={cls} data-hue={hue % 12} aria-hidden="true">{initial}</span>;
}

export function LiveBadge({ small }: { small?: boolean }) {
  return <span class={small ? 'live-badge small' : 'live-badge'}>Live</span>;
}

/** Thumb shows a channel thumbnail, or a category-coloured placeholder when there is none. */
export function Thumb({ src, category, alt = '' }: { src?: string; category: string; alt?: string }) {
  const [broken, setBroken] = useState(false);
  const hue = categoryTone(category || 'other');
  return (
    <div class="thumb" data-hue={hue}>
      {src && !broken ? (
        <img src={src} alt={alt} loading="lazy" decoding="async" onError={() => setBroken(true)} />
      ) : (
        <div class="thumb-empty" aria-hidden="true"><I.Radio size={36} /></div>
      )}
    </div>
  );
}

export function ChannelCard({ c, bust }: { c: Card; bust?: number }) {
  const thumb = c.live && c.thumbnail_url ? `${c.thumbnail_url}${c.thumbnail_url.includes('?') ? '&' : '?'}v=${bust ?? 0}` : c.thumbnail_url;
  return (
    <article class={c.live ? 'card is-live' : 'card'} data-slug={c.slug}>
      <a class="card-media" href={`/c/${encodeURIComponent(c.slug)}`} aria-label={`${c.display_name}${c.live ? ', live' : ''}: ${c.title || 'untitled stream'}`}>
        <Thumb src={thumb} category={c.category} />
        {c.live ? (
          <>
            <span class="card-tl"><LiveBadge small /></span>
            <span class="card-bl pill-dark"><span class="dot" aria-hidden="true" />{viewersLabel(c.viewers)}</span>
            {c.started_at && <span class="card-br pill-dark">{uptime(c.started_at)}</span>}
          </>
        ) : (
          <span class="card-tl pill-dark">Offline</span>
        )}
      </a>
      <div class="card-body">
        <a href={`/c/${encodeURIComponent(c.slug)}`} tabIndex={-1} aria-hidden="true"><Avatar name={c.display_name} url={c.avatar_url} size={36} /></a>
        <div class="card-text">
          <h3 class="card-title" title={c.title}>{c.title || `${c.display_name} is streaming`}</h3>
          <a class="card-name" href={`/c/${encodeURIComponent(c.slug)}`}>{c.display_name}</a>
          {c.category && <a class="card-cat" href={`/category/${encodeURIComponent(c.category)}`}>{categoryName(c.category)}</a>}
          {c.tags.length > 0 && (
            <ul class="tags" aria-label="Tags">
              {c.tags.slice(0, 3).map((t) => <li key={t}><a class="tag" href={`/tag/${encodeURIComponent(t)}`}>{t}</a></li>)}
            </ul>
          )}
        </div>
      </div>
    </article>
  );
}

export function SkeletonGrid({ n = 8 }: { n?: number }) {
  return (
    <div class="grid" aria-busy="true" aria-label="Loading channels">
      {Array.from({ length: n }, (_, i) => (
        <div class="card skeleton" key={i}>
          <div class="thumb shimmer" />
          <div class="card-body"><span class="avatar avatar-36 shimmer" /><div class="card-text"><div class="line shimmer" /><div class="line short shimmer" /></div></div>
        </div>
      ))}
    </div>
  );
}

export function EmptyState({ title, children, icon }: { title: string; children?: ComponentChildren; icon?: ComponentChildren }) {
  return (
    <div class="empty" role="status">
      <div class="empty-icon" aria-hidden="true">{icon ?? <I.Radio size={32} />}</div>
      <h2>{title}</h2>
      {children}
    </div>
  );
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

export function ErrorState({ error, retry, title = 'Something went wrong' }: { error: unknown; retry?: () => void; title?: string }) {
  return (
    <div class="empty error" role="alert">
      <div class="empty-icon" aria-hidden="true">!</div>
      <h2>{title}</h2>
      <p>{errorText(error)}</p>
      {retry && <button class="btn" type="button" onClick={retry}><I.Refresh size={16} /> Try again</button>}
    </div>
  );
}

/** MoreButton loads the next page of a list, and says so when that fails. */
export function MoreButton({ more, loading, error, label = 'Show more' }: { more: () => void; loading: boolean; error?: unknown; label?: string }) {
  return (
    <div class="more">
      {error != null && <p class="form-error" role="alert">Could not load more: {errorText(error)}</p>}
      <button type="button" class="btn" onClick={more} disabled={loading}>{loading ? <Spinner /> : error != null ? 'Try again' : label}</button>
    </div>
  );
}

export function CategoryTile({ c }: { c: Category }) {
  const hue = categoryTone(c.slug);
  return (
    <a class="cat-tile" data-hue={hue} href={`/category/${c.slug}`}>
      <span class="cat-name">{c.name}</span>
      <span class="cat-count">{c.live_count > 0 ? `${compact(c.live_count)} live` : 'No one live'}</span>
    </a>
  );
}

export function Spinner({ label = 'Loading' }: { label?: string }) {
  return <span class="spinner" role="status" aria-label={label} />;
}

export function Field({ label, hint, error, children, id }: { label: string; hint?: string; error?: string; children: ComponentChildren; id: string }) {
  // The control (the child with this id) is marked invalid and described by the error or the hint.
  const describedBy = error ? `${id}-error` : hint ? `${id}-hint` : undefined;
  const control = toChildArray(children).map((c) => {
    if (!isValidElement(c) || (c.props as { id?: string }).id !== id) return c;
    const own = (c.props as { 'aria-describedby'?: string })['aria-describedby'];
    return cloneElement(c, {
      'aria-invalid': error ? 'true' : undefined,
      'aria-describedby': [own, describedBy].filter(Boolean).join(' ') || undefined,
    });
  });
  return (
    <div class={error ? 'field has-error' : 'field'}>
      <label for={id}>{label}</label>
      {control}
      {hint && !error && <p class="hint" id={`${id}-hint`}>{hint}</p>}
      {error && <p class="field-error" id={`${id}-error`} role="alert">{error}</p>}
    </div>
  );
}

export function CopyField({ id, label, value, secret, testid }: { id: string; label: string; value: string; secret?: boolean; testid?: string }) {
  const [copied, setCopied] = useState(false);
  const [shown, setShown] = useState(!secret);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      const el = document.getElementById(id) as HTMLInputElement | null;
      el?.select();
      document.execCommand('copy');
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  };
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <div class="copy-row">
        <input id={id} class="mono" type={shown ? 'text' : 'password'} readOnly value={value} data-testid={testid}
          onFocus={(e) => (e.currentTarget as HTMLInputElement).select()} />
        {secret && (
          <button type="button" class="btn ghost" onClick={() => setShown(!shown)} aria-pressed={shown}>
            <I.Eye size={16} /> {shown ? 'Hide' : 'Show'}
          </button>
        )}
        <button type="button" class="btn" onClick={copy} aria-label={`Copy ${label}`}>
          {copied ? <I.Check size={16} /> : <I.Copy size={16} />} {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
    </div>
  );
}
