import { describe, expect, it } from 'vitest';
import { createStartTracker, STARTUP_WINDOW_MS } from '../../src/monitor/starts.js';

describe('start tracker', () => {
  it('counts starts within the start-up window only', () => {
    let t = 0;
    const tracker = createStartTracker({ now: () => t });
    tracker.record();
    t = 4000;
    tracker.record();
    expect(tracker.count()).toBe(2);
    t = STARTUP_WINDOW_MS - 1;
    expect(tracker.count()).toBe(2);
    t = STARTUP_WINDOW_MS;
    expect(tracker.count()).toBe(1);
    t = 4000 + STARTUP_WINDOW_MS;
    expect(tracker.count()).toBe(0);
  });

  it('takes another window, and forgets starts when the clock goes back', () => {
    let t = 100;
    const tracker = createStartTracker({ windowMs: 50, now: () => t });
    tracker.record();
    t = 149;
    expect(tracker.count()).toBe(1);
    t = 99;
    expect(tracker.count()).toBe(0);
  });
});
