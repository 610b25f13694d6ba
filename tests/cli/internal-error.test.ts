import { describe, expect, it } from 'vitest';
import { stopOnInternalError } from '../../src/cli/start-run.js';

// The net under the task boundary: a rejection nobody awaited stops the run as Ctrl-C does (state saved, --resume
// continues) instead of ending Node with the state left "running".
describe('an unhandled rejection during a run', () => {
  it('stops the run once, says what to do, and logs the stack', () => {
    const controller = new AbortController();
    const said: string[] = [];
    const logged: string[] = [];
    const handler = stopOnInternalError(controller, (m) => said.push(m), (d) => logged.push(d));
    const bug = new TypeError("Cannot read properties of undefined (reading 'files')");
    handler(bug);
    expect(controller.signal.aborted).toBe(true);
    expect((controller.signal.reason as Error).message).toBe(`internal error: ${bug.message}`);
    expect(said).toHaveLength(1);
    expect(said[0]).toContain(bug.message);
    expect(said[0]).toContain('Continue with orchestrate --resume');
    expect(said[0]).not.toContain('    at ');
    expect(logged[0]).toContain(bug.stack!.split('\n')[1]!.trim());
    handler(new Error('a second one'));
    expect(said).toHaveLength(1);
    expect(logged).toHaveLength(2);
  });
});
