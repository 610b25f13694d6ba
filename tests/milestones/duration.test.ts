import { describe, expect, it } from 'vitest';
import { parseDurationMinutes, parseDurationSeconds } from '../../src/util/duration.js';

describe('parseDurationMinutes', () => {
  it.each([
    ['2 hours', 120],
    ['2 Hours', 120],
    ['1 hour', 60],
    ['30 min', 30],
    ['30 mins', 30],
    ['45 minutes', 45],
    ['90', 90],
    ['1.5h', 90],
    ['1,5 h', 90],
    ['1h 30m', 90],
    ['1h30m', 90],
    ['1h30', 90],
    ['1 hour and 30 minutes', 90],
    ['1 hr 15 min', 75],
    ['2-3 hours', 180],
    ['2 - 3 hours', 180],
    ['2–3 hours', 180],
    ['2 to 4 hours', 240],
    ['30m-1h', 60],
    // Written backwards, the bare number still borrows the unit: the larger bound is 4 hours, not 4 minutes.
    ['4-3 hours', 240],
    ['1h - 90m', 90],
    ['1 day', 480],
    ['2 days', 960],
    ['1 week', 2400],
    ['1d 2h', 600],
    ['30s', 0.5],
    ['90 seconds', 1.5],
    ['~2 hours', 120],
    ['about 2 hours', 120],
    ['approx. 45 min', 45],
    ['up to 3 hours', 180],
    ['2+ hours', 120],
    ['**2 hours**', 120],
    ['- 2 hours', 120],
    ['Total: 3 hours', 180],
    ['2 hours (including tests)', 120],
    ['2 hours.', 120],
    ['an hour', 60],
    ['a day', 480],
    ['half an hour', 30],
    ['  3h  ', 180],
    ['0 minutes', 0],
  ])('%s -> %d minutes', (text, minutes) => {
    expect(parseDurationMinutes(text)).toBe(minutes);
  });

  it.each(['', '   ', 'TBD', 'unknown', 'a while', '3 story points', '2 lightyears', 'hours', '1h 30 2', '30 1h', '2 hours 3 bananas', '-2 hours', '2 hours\nand more text'])(
    '%j is unreadable',
    (text) => {
      expect(parseDurationMinutes(text)).toBeNull();
    },
  );
});

describe('parseDurationSeconds', () => {
  it.each<[string | number, number]>([
    [90, 90],
    [1.4, 1],
    ['90', 90],
    ['45m', 2700],
    ['45 minutes', 2700],
    ['1h 30m', 5400],
    ['2h', 7200],
    ['30s', 30],
    ['1.5m', 90],
    ['1 day', 86400], // a timeout is wall-clock time: a calendar day
  ])('%j -> %d seconds', (value, seconds) => {
    expect(parseDurationSeconds(value)).toBe(seconds);
  });

  it.each<string | number>([-5, Number.NaN, Number.POSITIVE_INFINITY, 'soon', '', 'forever'])('%j is unreadable', (value) => {
    expect(parseDurationSeconds(value)).toBeNull();
  });
});
