import { writeSync } from 'node:fs';

/**
 * Test-only fault injection: with ORCHESTRATOR_TEST_CRASH_AT=n in the environment the process kills itself with
 * SIGKILL at the n-th crash point (-1 lists them without crashing), so tests can check that `--resume` after a crash at any transition ends in the
 * same state as an uninterrupted run. Without the variable this does nothing.
 */
const crashAt = Number(process.env.ORCHESTRATOR_TEST_CRASH_AT ?? 0);
let reached = 0;

export function crashPoint(name: string): void {
  if (!crashAt) return;
  reached += 1;
  if (crashAt < 0) writeSync(2, `test crash point ${reached}: ${name} (counting)\n`); // -1: list the points
  if (reached === crashAt) {
    writeSync(2, `test crash point ${reached}: ${name}\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}
