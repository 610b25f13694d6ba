import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { JOURNAL_FILE, JournalWriter, readJournal, replayJournal, type JournalEntry } from '../../src/state/journal.js';
import { TaskJournal } from '../../src/run/journal.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function tempDir(): string {
  dir = mkdtempSync(path.join(tmpdir(), 'journal-'));
  return dir;
}

const usage = { inputTokens: 10, outputTokens: 5, cacheReadInputTokens: 1, cacheCreationInputTokens: 2 };

describe('the run journal', () => {
  it('runs a step once: a replay returns the recorded value and runs nothing', async () => {
    const stateDir = tempDir();
    const first = await JournalWriter.open(stateDir, 'run-1', false);
    let ran = 0;
    const body = async () => ({ value: { head: `sha-${++ran}` } });
    expect((await new TaskJournal(first, '1A').run('commit-0', undefined, body)).value).toEqual({ head: 'sha-1' });
    await first.close();

    const again = await JournalWriter.open(stateDir, 'run-1', true);
    expect((await new TaskJournal(again, '1A').run('commit-0', undefined, body)).value).toEqual({ head: 'sha-1' });
    expect(ran).toBe(1);
    await again.close();
  });

  it('hands a cut-off step its input and its calls (with the session) to continue, and a failed step runs again', async () => {
    const stateDir = tempDir();
    const w = await JournalWriter.open(stateDir, 'run-1', false);
    const j = new TaskJournal(w, '1A');
    await j.append({ t: 'step', step: 'remediation-1', input: { feedback: 'fix the parser' } });
    await j.append({ t: 'call', step: 'remediation-1', n: 3, transcript: 'logs/1A.agent-3.jsonl', resumeSessionId: 's-1' });
    await j.append({ t: 'session', step: 'remediation-1', sessionId: 's-1' });
    await j.append({ t: 'step', step: 'review-1' });
    await j.append({ t: 'failed', step: 'review-1', reason: 'api_error' });
    await w.close();

    const resumed = await JournalWriter.open(stateDir, 'run-1', true);
    const rj = new TaskJournal(resumed, '1A');
    const seen: unknown[] = [];
    await rj.run('remediation-1', { feedback: 'recomputed' }, async (prior) => {
      seen.push(prior);
      return { value: null };
    });
    expect(seen[0]).toMatchObject({ status: 'started', input: { feedback: 'fix the parser' }, calls: [{ n: 3, sessionId: 's-1' }] });
    let reviewed = 0;
    await rj.run('review-1', undefined, async () => ({ value: ++reviewed }));
    expect(reviewed).toBe(1);
    expect(rj.callCount()).toBe(3);
    expect(rj.workerSession()).toBe('s-1');
    await resumed.close();
  });

  it('drops a line torn by a crash mid-append, and books each call end once', () => {
    const stateDir = tempDir();
    const file = path.join(stateDir, JOURNAL_FILE);
    const lines: JournalEntry[] = [
      { t: 'run', v: 1, runId: 'r', at: '' },
      { t: 'step', task: '1A', step: 'worker', at: '' },
      { t: 'call', task: '1A', step: 'worker', n: 1, transcript: 't', at: '' },
      { t: 'call_end', task: '1A', step: 'worker', n: 1, ok: true, sessionId: 's', costUsd: 0.5, usage, turns: 3, at: '' },
    ];
    appendFileSync(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n{"t":"done","task":"1A","st`);
    const entries = readJournal(file);
    expect(entries).toHaveLength(4);
    const view = replayJournal(entries);
    const task = view.tasks.get('1A')!;
    expect(task.steps.get('worker')).toMatchObject({ status: 'started', calls: [{ n: 1, sessionId: 's', end: { ok: true } }] });
    expect(task).toMatchObject({ costUsd: 0.5, turns: 3, calls: 1, usage });
  });

  it("hands a cut-off step the output its call's end recorded, and reads ends from before that field", () => {
    const view = replayJournal([
      { t: 'run', v: 1, runId: 'r', at: '' },
      { t: 'step', task: '1B', step: 'resolve-1', at: '' },
      { t: 'call', task: '1B', step: 'resolve-1', n: 2, transcript: 't2', at: '' },
      { t: 'call_end', task: '1B', step: 'resolve-1', n: 2, ok: true, costUsd: 0.1, usage, turns: 1, output: { tree: 'abc123' }, at: '' },
      { t: 'call', task: '1B', step: 'worker', n: 1, transcript: 't1', at: '' },
      { t: 'call_end', task: '1B', step: 'worker', n: 1, ok: true, costUsd: 0.2, usage, turns: 1, at: '' },
    ]);
    const task = view.tasks.get('1B')!;
    expect(task.steps.get('resolve-1')!.calls[0]!.end).toMatchObject({ ok: true, output: { tree: 'abc123' } });
    expect(task.steps.get('worker')!.calls[0]!.end).not.toHaveProperty('output');
    expect(task.costUsd).toBeCloseTo(0.3, 9);
  });

  it('cuts a torn last line off before a resume appends, so the first new entry is not glued onto it and lost', async () => {
    const stateDir = tempDir();
    const file = path.join(stateDir, JOURNAL_FILE);
    const first = await JournalWriter.open(stateDir, 'run-1', false);
    await new TaskJournal(first, '1A').append({ t: 'step', step: 'worker' });
    await first.close();
    appendFileSync(file, '{"t":"session","task":"1A","step":"worker","sessionId":"ab');
    const resumed = await JournalWriter.open(stateDir, 'run-1', true);
    await new TaskJournal(resumed, '1A').run('commit-0', undefined, async () => ({ value: { head: 'h' } }));
    await resumed.close();
    expect(readFileSync(file, 'utf8')).not.toContain('"sessionId":"ab');
    const again = await JournalWriter.open(stateDir, 'run-1', true);
    let ran = 0;
    await new TaskJournal(again, '1A').run('commit-0', undefined, async () => ({ value: { head: `h${++ran}` } }));
    await again.close();
    expect(ran).toBe(0);
    expect(readJournal(file).map((e) => e.t)).toEqual(['run', 'step', 'step', 'done']);
  });

  it('starts a new journal for a new run, and for a resume of a run it does not belong to', async () => {
    const stateDir = tempDir();
    const w = await JournalWriter.open(stateDir, 'old', false);
    await new TaskJournal(w, '1A').run('worker', undefined, async () => ({ value: null }));
    await w.close();
    const other = await JournalWriter.open(stateDir, 'new', true);
    expect(other.view.tasks.size).toBe(0);
    expect(other.replaced).toBe('belonged to run old');
    await other.close();
    expect(readFileSync(path.join(stateDir, JOURNAL_FILE), 'utf8').trim().split('\n')).toHaveLength(1);
    const again = await JournalWriter.open(stateDir, 'new', true);
    expect(again.replaced).toBeUndefined();
    await again.close();
    const fresh = await JournalWriter.open(path.join(stateDir, 'fresh'), 'run-1', false);
    expect(fresh.replaced).toBeUndefined();
    await fresh.close();
    const lost = await JournalWriter.open(path.join(stateDir, 'lost'), 'run-1', true);
    expect(lost.replaced).toBe('was missing');
    await lost.close();
  });
});
