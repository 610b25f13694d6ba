import { describe, expect, it, vi } from 'vitest';
import type { WithoutAtEvent } from '../../src/run/context.js';
import { RunRecorder } from '../../src/run/recorder.js';
import type { Logger } from '../../src/report/logger.js';
import { emptyUsage, type RunState, type TaskRecord } from '../../src/state/run-state.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, file: undefined, close: async () => undefined };

function task(id: string): TaskRecord {
  return { id, stage: 1, title: `Task ${id}`, status: 'pending', branch: `orchestrator/${id}`, worktree: `wt/${id}`, attempts: 0, turns: 0, costUsd: 0, usage: emptyUsage(), durationMs: 0, transcripts: [] };
}

function state(): RunState {
  return {
    version: 1,
    runId: 'r1',
    status: 'running',
    startedAt: 's',
    updatedAt: 's',
    targetBranch: 'main',
    targetStartSha: 'a'.repeat(40),
    selected: ['1A', '1B'],
    stages: [{ stage: 1, status: 'pending', baseSha: 'a'.repeat(40) }],
    tasks: { '1A': task('1A'), '1B': task('1B') },
    logDir: 'logs',
  };
}

/** A recorder whose saves wait until released, so coalescing can be observed. */
function setup() {
  const saved: RunState[] = [];
  const events: WithoutAtEvent[] = [];
  const gates: (() => void)[] = [];
  const recorder = new RunRecorder(state(), {
    save: async (s) => {
      saved.push(s);
      await new Promise<void>((resolve) => gates.push(resolve));
    },
    emit: (e) => events.push(e),
    logger: quiet,
    repoRoot: '/repo',
  });
  const release = async () => {
    while (gates.length > 0) {
      gates.shift()!();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { recorder, saved, events, release };
}

describe('RunRecorder', () => {
  it('holds a frozen state: a step cannot change a record behind its back', () => {
    const { recorder } = setup();
    const task1 = recorder.forTask('1A');
    task1.record({ type: 'phase-changed', phase: 'agent' });
    expect(() => {
      (task1.current() as { phase?: string }).phase = 'review';
    }).toThrow(TypeError);
    expect(() => {
      recorder.state.tasks['1A']!.transcripts.push('x');
    }).toThrow(TypeError);
    expect(task1.current().phase).toBe('agent');
  });

  it('coalesces a burst of events into one save of the latest state; events during a save make one more', async () => {
    const { recorder, saved, release } = setup();
    const task1 = recorder.forTask('1A');
    task1.record({ type: 'phase-changed', phase: 'setup' });
    task1.record({ type: 'phase-changed', phase: 'agent' });
    await new Promise((r) => setTimeout(r, 5));
    expect(saved).toHaveLength(1);
    expect(saved[0]!.tasks['1A']!.phase).toBe('agent');
    task1.record({ type: 'agent-call-started', attempt: 1, transcript: 't1' });
    task1.record({ type: 'phase-changed', phase: 'review' });
    await release();
    expect(saved).toHaveLength(2);
    expect(saved[1]!.tasks['1A']).toMatchObject({ phase: 'review', attempts: 1, transcripts: ['t1'] });
  });

  it('waits saveDelayMs before a scheduled save; save() and an agent spawn do not wait', async () => {
    vi.useFakeTimers();
    try {
      const saved: RunState[] = [];
      const recorder = new RunRecorder(state(), { save: async (s) => void saved.push(s), emit: () => undefined, logger: quiet, repoRoot: '/repo', saveDelayMs: 100 });
      const t = recorder.forTask('1A');
      t.record({ type: 'phase-changed', phase: 'setup' });
      t.record({ type: 'phase-changed', phase: 'agent' });
      await vi.advanceTimersByTimeAsync(99);
      expect(saved).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(1);
      expect(saved.map((s) => s.tasks['1A']!.phase)).toEqual(['agent']);
      t.record({ type: 'agent-spawned', pid: 7 });
      await vi.advanceTimersByTimeAsync(0);
      expect(saved.at(-1)!.tasks['1A']!.agentPid).toBe(7);
      t.record({ type: 'phase-changed', phase: 'commit' });
      await recorder.save();
      expect(saved.at(-1)!.tasks['1A']!.phase).toBe('commit');
      const count = saved.length;
      await vi.advanceTimersByTimeAsync(500);
      expect(saved).toHaveLength(count);
    } finally {
      vi.useRealTimers();
    }
  });

  it('writes a state once: save() after the state was written (the end of a run) writes nothing more', async () => {
    const saved: RunState[] = [];
    const recorder = new RunRecorder(state(), { save: async (s) => void saved.push(s), emit: () => undefined, logger: quiet, repoRoot: '/repo' });
    recorder.forTask('1A').record({ type: 'phase-changed', phase: 'agent' });
    await recorder.save();
    await recorder.save();
    expect(saved).toHaveLength(1);
    recorder.forTask('1A').record({ type: 'phase-changed', phase: 'commit' });
    await recorder.save();
    expect(saved.map((s) => s.tasks['1A']!.phase)).toEqual(['agent', 'commit']);
  });

  it('a save that fails is logged and does not stop later saves', async () => {
    const saved: RunState[] = [];
    const warnings: string[] = [];
    let fail = true;
    const logger: Logger = { ...quiet, warn: (m: string) => void warnings.push(m) };
    const recorder = new RunRecorder(state(), {
      save: async (s) => {
        if (fail) throw new Error('disk full');
        saved.push(s);
      },
      emit: () => undefined,
      logger,
      repoRoot: '/repo',
    });
    const t = recorder.forTask('1A');
    t.record({ type: 'agent-spawned', pid: 7 });
    await new Promise((r) => setImmediate(r));
    expect(warnings.join('\n')).toContain('disk full');
    fail = false;
    t.record({ type: 'phase-changed', phase: 'commit' });
    await recorder.save();
    expect(saved.at(-1)!.tasks['1A']).toMatchObject({ phase: 'commit', agentPid: 7 });
  });

  it('does not save for an event that changes nothing', async () => {
    const { recorder, saved } = setup();
    recorder.record({ type: 'resource-wait-cleared' });
    recorder.forTask('9Z').record({ type: 'phase-changed', phase: 'agent' });
    expect(saved).toHaveLength(0);
  });

  it('emits task starts and ends from the scheduler decisions, a phase with its round, and the cost after each call', () => {
    const { recorder, events } = setup();
    recorder.record({ type: 'schedule-changed', tasks: [{ id: '1A', status: 'running' }, { id: '1B', status: 'blocked' }], startedStages: [1] });
    const t = recorder.forTask('1A');
    t.record({ type: 'round-started', round: 1, at: 'x' });
    t.record({ type: 'phase-changed', phase: 'checks' });
    t.record({ type: 'phase-changed', phase: 'merge' });
    t.record({ type: 'agent-call-finished', costUsd: 0.5, usage: { inputTokens: 1, outputTokens: 2, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 }, turns: 3 });
    t.record({ type: 'agent-call-finished', costUsd: 0.25, usage: emptyUsage(), turns: 1 });
    recorder.record({ type: 'schedule-changed', tasks: [{ id: '1A', status: 'failed', reason: 'broke' }, { id: '1B', status: 'skipped', reason: 'dependency 1A failed' }], startedStages: [1] });
    expect(events.map((e) => e.type)).toEqual(['task_started', 'task_phase', 'task_cost', 'task_cost', 'task_finished', 'task_finished']);
    expect(events[1]).toEqual({ type: 'task_phase', id: '1A', phase: 'checks', round: 1 });
    expect(events[3]).toMatchObject({ type: 'task_cost', id: '1A', costUsd: 0.75, turns: 4 });
    expect(events[4]).toMatchObject({ type: 'task_finished', id: '1A', status: 'failed', reason: 'broke', costUsd: 0.75, attention: { branch: 'orchestrator/1A' } });
    expect(events[5]).toMatchObject({ type: 'task_finished', id: '1B', status: 'skipped' });
    expect(events[5]).not.toHaveProperty('attention');
  });

  it('a sink that throws does not stop the recording', () => {
    const recorder = new RunRecorder(state(), {
      save: async () => undefined,
      emit: () => {
        throw new Error('display broke');
      },
      logger: quiet,
      repoRoot: '/repo',
    });
    recorder.record({ type: 'paused', until: 'u', reason: 'limit' });
    expect(recorder.state.pause).toEqual({ until: 'u', reason: 'limit' });
  });

  it('records a fact that is also a journal line only once the journal has it, and not at all when the journal fails', async () => {
    const lines: unknown[] = [];
    let release: (() => void) | undefined;
    let fail = false;
    const recorder = new RunRecorder(state(), {
      save: async () => undefined,
      emit: () => undefined,
      logger: quiet,
      repoRoot: '/repo',
      journal: {
        append: async (entry) => {
          if (fail) throw new Error('disk full');
          await new Promise<void>((r) => (release = r));
          lines.push(entry);
        },
      },
    });
    const t = recorder.forTask('1A');
    const started = t.journaled({ t: 'call', step: 'worker', n: 1, transcript: 't1' }, { type: 'agent-call-started', attempt: 1, transcript: 't1' });
    await new Promise((r) => setImmediate(r));
    expect(recorder.state.tasks['1A']!.attempts).toBe(0);
    release!();
    await started;
    expect(lines).toEqual([{ t: 'call', step: 'worker', n: 1, transcript: 't1', task: '1A' }]);
    expect(recorder.state.tasks['1A']).toMatchObject({ attempts: 1, transcripts: ['t1'] });
    fail = true;
    await expect(t.journaled({ t: 'session', step: 'worker', sessionId: 's1' }, { type: 'worker-session', sessionId: 's1' })).rejects.toThrow('disk full');
    expect(recorder.state.tasks['1A']!.sessionId).toBeUndefined();
  });

  it('emits run_finished only once the state that says so is saved', async () => {
    const { recorder, saved, events, release } = setup();
    recorder.record({ type: 'run-finished', status: 'completed', at: 'end' });
    await new Promise((r) => setImmediate(r));
    expect(saved.map((s) => s.status)).toEqual(['completed']);
    expect(events).toEqual([]);
    await release();
    expect(events).toEqual([expect.objectContaining({ type: 'run_finished', status: 'completed', costUsd: 0 })]);
  });
});
