import { writeSync } from 'node:fs';

/**
 * Test-only fault injection: with ORCHESTRATOR_TEST_CRASH_AT in the environment the process kills itself with
 * SIGKILL at a crash point, so tests can check that `--resume` after a crash at any transition ends in the same
 * state as an uninterrupted run, having run nothing twice. The value is either n (the n-th point reached; -1 lists
 * every point on stderr without crashing) or a point's name (the first point of that name), optionally `name#k`
 * (the k-th of that name). Without the variable this does nothing.
 */
const setting = process.env.ORCHESTRATOR_TEST_CRASH_AT ?? '';
const byNumber = /^-?\d+$/.test(setting) ? Number(setting) : 0;
const byName = byNumber === 0 && setting !== '' ? /^(.*?)(?:#(\d+))?$/.exec(setting) : null;
const nameWanted = byName?.[1];
const occurrenceWanted = Number(byName?.[2] ?? 1);
let reached = 0;
let reachedByName = 0;

export function crashPoint(name: string): void {
  if (setting === '') return;
  reached += 1;
  if (byNumber < 0) writeSync(2, `test crash point ${reached}: ${name} (counting)\n`); // -1: list the points
  const hit = byNumber > 0 ? reached === byNumber : name === nameWanted && ++reachedByName === occurrenceWanted;
  if (hit) {
    writeSync(2, `test crash point ${reached}: ${name}\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}
