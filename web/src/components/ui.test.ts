import { describe, expect, it } from 'vitest';
import { h, toChildArray, type VNode } from 'preact';
import { Field } from './ui';

function control(v: VNode): Record<string, unknown> {
  const found = toChildArray((v.props as { children: never }).children).find(
    (c) => typeof c === 'object' && (c as VNode).type === 'input',
  ) as VNode | undefined;
  return (found?.props ?? {}) as Record<string, unknown>;
}

describe('Field', () => {
  it('marks its control invalid and described by the error', () => {
    const v = Field({ id: 'f-name', label: 'Name', error: 'is taken', children: h('input', { id: 'f-name' }) }) as VNode;
    expect(control(v)).toMatchObject({ 'aria-invalid': 'true', 'aria-describedby': 'f-name-error' });
  });
  it('describes a valid control by its hint, keeping its own description', () => {
    const v = Field({ id: 'f-bio', label: 'Bio', hint: 'Short', children: h('input', { id: 'f-bio', 'aria-describedby': 'count' }) }) as VNode;
    const p = control(v);
    expect(p['aria-invalid']).toBeUndefined();
    expect(p['aria-describedby']).toBe('count f-bio-hint');
  });
});
