import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// Task worktrees and logs live under $XDG_CACHE_HOME by default: tests get a cache of their own, never the user's
// (removed by the global setup's teardown). Set here, so the CLI processes the tests start inherit it too.
const testCache = mkdtempSync(path.join(tmpdir(), 'mo-test-cache-'));
process.env.XDG_CACHE_HOME = testCache;

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    env: { XDG_CACHE_HOME: testCache },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real git and real child processes: two cores, so keep file-level parallelism modest.
    maxWorkers: 2,
  },
});
