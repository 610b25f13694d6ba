import { describe, expect, it } from 'vitest';
import { formatMinutes } from '../../src/plan/duration.js';
import { formatPlan } from '../../src/plan/format.js';
import { planOf } from './fixtures.js';

const plan = planOf([
  { id: '1A', est: 30, title: 'Project skeleton' },
  { id: '1B', est: 60, title: 'Parser' },
  { id: '1C', est: 45, title: 'CLI', deps: ['1A'] },
  { id: '2A', est: null, title: 'Docs', deps: ['1C'] },
]);

describe('formatPlan', () => {
  it('prints stages, aligned task rows, parallel groups and the critical path', () => {
    expect(formatPlan(plan).split('\n')).toEqual([
      'Stage 1 · 3 tasks · critical path 1h 15m (1A → 1C)',
      '  1A  Project skeleton  30m',
      '  1B  Parser            1h',
      '  1C  CLI               45m  after 1A',
      '  parallel: [1A 1B] → [1C]',
      '',
      'Stage 2 · 1 task · critical path 1h (2A)',
      '  2A  Docs              1h*  after 1C',
      '',
      'Critical path 2h 15m (stage 1 1h 15m + stage 2 1h) · total work 3h 15m in 4 tasks',
      '* no estimate in the milestone file; the default was assumed',
    ]);
  });

  it('prints only the selection, with its numbers recomputed', () => {
    // 1C's dependency 1A is not selected (so already done): 1C can start with the stage.
    const text = formatPlan(plan, { only: new Set(['1B', '1C']) });
    expect(text.split('\n')).toEqual([
      'Stage 1 · 2 tasks · critical path 1h (1B)',
      '  1B  Parser  1h',
      '  1C  CLI     45m  after 1A',
      '  parallel: [1B 1C]',
      '',
      'Selected 2 of 4 tasks · critical path 1h · total work 1h 45m',
    ]);
  });

  it('shortens long titles and says when nothing is selected', () => {
    const long = planOf([{ id: '1A', title: 'x'.repeat(80) }]);
    expect(formatPlan(long)).toContain(`  1A  ${'x'.repeat(47)}…  10m`);
    expect(formatPlan(plan, { only: new Set() })).toBe('No tasks selected.');
  });
});

describe('formatMinutes', () => {
  it('prints minutes, hours, or both', () => {
    expect([0, 45, 60, 90, 125].map(formatMinutes)).toEqual(['0m', '45m', '1h', '1h 30m', '2h 5m']);
  });

  it('shows control characters in titles as "?" so a title cannot recolour or garble the terminal', () => {
    const text = formatPlan(planOf([{ id: '1A', est: 60, title: 'Red \u001b[31malert\u0007 done' }]));
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    expect(text.split('\n')[1]).toBe('  1A  Red ?[31malert? done  1h');
  });
});
