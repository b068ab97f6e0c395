import { describe, expect, it } from 'vitest';
import { ago, compact, duration, parseTags, slugify } from './format';
import { match } from './router';

describe('format', () => {
  it.each([
    [0, '0'], [999, '999'], [1000, '1K'], [1234, '1.2K'], [15000, '15K'], [2_500_000, '2.5M'],
  ])('compact(%d) is %s', (n, want) => expect(compact(n)).toBe(want));

  it.each([
    [0, '0:00'], [61_000, '1:01'], [3_600_000, '1:00:00'], [-5, '0:00'],
  ])('duration(%d) is %s', (ms, want) => expect(duration(ms)).toBe(want));

  it('ago counts back from now', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(ago('2026-01-01T11:59:50Z', now)).toBe('just now');
    expect(ago('2026-01-01T11:30:00Z', now)).toBe('30 min ago');
    expect(ago('2026-01-01T09:00:00Z', now)).toBe('3 h ago');
    expect(ago('2025-12-30T12:00:00Z', now)).toBe('2 days ago');
  });

  it('slugify keeps letters and digits and joins the rest with dashes', () => {
    expect(slugify('  Café Jazz Night #3 ')).toBe('cafe-jazz-night-3');
    expect(slugify('<script>alert(1)</script>')).toBe('script-alert-1-script');
  });

  it('parseTags drops invalid tags, duplicates and keeps at most 10', () => {
    expect(parseTags('jazz, live #piano jazz <b>bad</b> ok-tag')).toEqual(['jazz', 'live', 'piano', 'ok-tag']);
    expect(parseTags(Array.from({ length: 15 }, (_, i) => `t${i}`).join(' '))).toHaveLength(10);
  });
});

describe('router', () => {
  it.each([
    ['/', 'home', {}],
    ['/c/alice', 'channel', { id: 'alice' }],
    ['/category/music', 'category', { id: 'music' }],
    ['/tag/jazz%20x', 'tag', { id: 'jazz x' }],
    ['/dashboard', 'dashboard', {}],
    ['/admin/users', 'admin', { id: 'users' }],
    ['/nope/deeper', 'notfound', {}],
    ['/c/%E0', 'notfound', {}],
  ])('%s routes to %s', (path, name, params) => expect(match(path)).toEqual({ name, params }));
});
