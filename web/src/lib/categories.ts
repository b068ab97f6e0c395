import type { Category } from './types';

// The 21 categories, in the API's order. The API's /categories answer adds
// live counts; this list lets pages render before it arrives.
export const CATEGORIES = [
  'Sports', 'Art', 'Causes', 'Crafts', 'Dance', 'Drinks', 'Film', 'Fitness', 'Food', 'Games',
  'Gardening', 'Health', 'Home', 'Literature', 'Music', 'Networking', 'Other', 'Party', 'Shopping',
  'Theater', 'Wellness',
].map((name): Category => ({ slug: name.toLowerCase(), name, live_count: 0 }));

export function categoryName(slug: string): string {
  return CATEGORIES.find((c) => c.slug === slug.toLowerCase())?.name ?? slug;
}

/** tone picks one of 12 colour pairs, spreading neighbouring categories apart. */
export function categoryTone(slug: string): number {
  const i = CATEGORIES.findIndex((c) => c.slug === slug.toLowerCase());
  return i < 0 ? 7 : (i * 5) % 12;
}
