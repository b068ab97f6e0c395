import { describe, expect, it } from 'vitest';
import { addMoney, applyEvent, initialState, type MoneyItem } from './chat';
import { Action, alertTitle, coins, impressionKey, isImageURL, mergeAlert, minorText, newKey, parseMinor, price, type MoneyEvent } from './money';
import { niceMax } from '../components/BarChart';

const KEY = /^[A-Za-z0-9_-]{8,128}$/;

describe('idempotency keys', () => {
  it('are 8–128 of [A-Za-z0-9_-]', () => {
    expect(newKey()).toMatch(KEY);
    expect(impressionKey('brk_1', 'a'.repeat(32))).toMatch(KEY);
    expect(impressionKey('b/1:2', 'x'.repeat(200))).toMatch(KEY);
  });
  it('repeat for a retry of the same request and change for a different one', () => {
    const a = new Action();
    const k1 = a.keyFor('POST', '/channels/x/tips', { amount: 100, message: 'hi' });
    expect(a.keyFor('POST', '/channels/x/tips', { amount: 100, message: 'hi' })).toBe(k1);
    const k2 = a.keyFor('POST', '/channels/x/tips', { amount: 200, message: 'hi' });
    expect(k2).not.toBe(k1);
    a.done();
    expect(a.keyFor('POST', '/channels/x/tips', { amount: 200, message: 'hi' })).not.toBe(k2);
  });
});

const gift = (seq: number, combo: string, comboCount: number, over: Partial<MoneyEvent['money']> = {}): MoneyEvent => ({
  type: 'gift', seq, user: { id: 'u1', name: 'Ann' },
  money: { gift: { id: 'rose', name: 'Rose', tier: 1 }, count: 1, coins: 10, combo_id: combo, combo_count: comboCount, ...over },
});

describe('alerts', () => {
  it('fold a gift combo into one alert whose count grows', () => {
    let list = mergeAlert([], gift(1, 'c1', 1), 1000);
    list = mergeAlert(list, gift(2, 'c1', 2), 2000);
    list = mergeAlert(list, gift(3, 'c1', 3), 3000);
    expect(list).toHaveLength(1);
    expect(list[0].count).toBe(3);
    expect(list[0].coins).toBe(30);
    expect(list[0].bumps).toBe(2);
    expect(list[0].until).toBe(3000 + 5000);
    expect(alertTitle(list[0])).toBe('Ann sent Rose ×3');
  });
  it('stack different combos and other kinds, dropping expired ones', () => {
    let list = mergeAlert([], gift(1, 'c1', 1), 0);
    list = mergeAlert(list, gift(2, 'c2', 1), 1000);
    list = mergeAlert(list, { type: 'tip', seq: 3, user: { id: 'u2', name: 'Bo' }, text: 'gg', money: { coins: 500 } }, 2000);
    expect(list.map((a) => a.kind)).toEqual(['gift', 'gift', 'tip']);
    expect(list[2].tier).toBe(2);
    list = mergeAlert(list, { type: 'sub', seq: 4, user: { id: 'u3', name: 'Cy' }, money: { coins: 499, tier: 3, months: 1 } }, 5500);
    expect(list.map((a) => a.id)).toEqual(['combo:c2', 'seq:3', 'seq:4']);
    expect(alertTitle(list[2])).toBe('Cy subscribed at Tier 3');
  });
  it('a combo that expired starts a new alert', () => {
    let list = mergeAlert([], gift(1, 'c1', 1), 0);
    list = mergeAlert(list, gift(2, 'c1', 2), 60_000);
    expect(list).toHaveLength(1);
    expect(list[0].bumps).toBe(0);
    expect(list[0].count).toBe(2);
  });
  it('name gifted subs by their gifter', () => {
    expect(alertTitle({ kind: 'sub', user: { id: 'r', name: 'Rae' }, money: { coins: 0, tier: 1, gifted_by: { id: 'g', name: 'Gus' } }, count: 1 })).toBe('Gus gifted Rae a Tier 1 sub');
  });
});

describe('money in the chat list', () => {
  it('shows gifts, tips and subs as lines and folds a combo into its first line', () => {
    let s = initialState();
    s = applyEvent(s, { type: 'gift', seq: 5, user: { id: 'u1', name: 'Ann' }, money: { gift: { id: 'rose', name: 'Rose', tier: 1 }, count: 1, coins: 10, combo_id: 'c1', combo_count: 1 } });
    s = applyEvent(s, { type: 'tip', seq: 6, user: { id: 'u2', name: 'Bo' }, text: '<b>nice</b>', money: { coins: 100 } });
    s = applyEvent(s, { type: 'gift', seq: 7, user: { id: 'u1', name: 'Ann' }, money: { gift: { id: 'rose', name: 'Rose', tier: 1 }, count: 5, coins: 50, combo_id: 'c1', combo_count: 6 } });
    const money = s.messages.filter((m): m is MoneyItem => m.kind === 'money');
    expect(money.map((m) => [m.seq, m.type, m.count, m.coins])).toEqual([[5, 'gift', 6, 60], [6, 'tip', 1, 100]]);
    expect(money[1].text).toBe('<b>nice</b>');
  });
  it('ignores a repeated event', () => {
    const ev = { type: 'sub', seq: 9, user: { id: 'u1', name: 'Ann' }, money: { coins: 499, tier: 1 } };
    const once = addMoney([], ev);
    expect(addMoney(once, ev)).toBe(once);
  });
});

describe('formatting', () => {
  it('formats coins and prices', () => {
    expect(coins(1)).toBe('1 coin');
    expect(coins(1200)).toBe('1,200 coins');
    expect(price(499, 'USD')).toBe('$4.99');
  });
  it('tells image URLs from emoji', () => {
    expect(isImageURL('/gifts/rose.png')).toBe(true);
    expect(isImageURL('data:image/png;base64,AAA')).toBe(true);
    expect(isImageURL('🌹')).toBe(false);
    expect(isImageURL('//evil.example/x.png')).toBe(false);
    expect(isImageURL('javascript:alert(1)')).toBe(false);
  });
  it('rounds chart maxima up to 1, 2 or 5 times a power of ten', () => {
    expect(niceMax(0)).toBe(1);
    expect(niceMax(7)).toBe(10);
    expect(niceMax(130)).toBe(200);
    expect(niceMax(4200)).toBe(5000);
  });
});

describe('prices in minor units', () => {
  it('format by the currency\'s own decimals', () => {
    expect(price(499, 'USD')).toBe('$4.99');
    expect(price(500, 'JPY')).toBe('¥500');
    expect(price(1234, 'KWD')).toContain('1.234');
    expect(minorText(5, 2)).toBe('0.05');
    expect(minorText(-1999, 2)).toBe('-19.99');
  });
  it('parse typed amounts into integers without floats', () => {
    expect(parseMinor('4.99', 'USD')).toBe(499);
    expect(parseMinor('19.99', 'USD')).toBe(1999);
    expect(parseMinor('0.29', 'USD')).toBe(29); // 0.29 * 100 is 28.999999999999996
    expect(parseMinor('1.1', 'USD')).toBe(110);
    expect(parseMinor(' 5 ', 'USD')).toBe(500);
    expect(parseMinor('500', 'JPY')).toBe(500);
    expect(parseMinor('1.234', 'KWD')).toBe(1234);
    for (const bad of ['', '4.999', '-1', '1e3', '4,99', '0x10', '4.99.1', '5.5', 'NaN']) {
      expect(parseMinor(bad, bad === '5.5' ? 'JPY' : 'USD'), bad).toBeNull();
    }
  });
});
