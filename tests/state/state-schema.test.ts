import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadRunState } from '../../src/state/run-state.js';
import { parseRunState } from '../../src/state/state-schema.js';

function validState(): any {
  return {
    version: 1,
    runId: 'r1',
    status: 'completed',
    startedAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    targetBranch: 'main',
    targetStartSha: 'abc',
    selected: ['1A'],
    stages: [{ stage: 1, status: 'merged', baseSha: 'abc' }],
    tasks: {
      '1A': {
        id: '1A', stage: 1, title: 'T', status: 'done', branch: 'milestone/1A', worktree: '.worktree/1A', attempts: 1, turns: 2,
        costUsd: 0.1, usage: { inputTokens: 1, outputTokens: 2, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 }, durationMs: 5, transcripts: [],
      },
    },
    logDir: 'logs/run-r1',
    someFutureField: { kept: true },
  };
}

describe('the run state file is validated as input', () => {
  it('accepts a well-formed state and keeps fields it does not know', () => {
    const parsed = parseRunState(validState());
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect((parsed.state as any).someFutureField).toEqual({ kept: true });
  });

  it.each<[string, (s: any) => void, string]>([
    ['a null stage', (s) => (s.tasks['1A'].stage = null), 'tasks.1A.stage'],
    ['a number as a string', (s) => (s.tasks['1A'].costUsd = '0.1'), 'tasks.1A.costUsd'],
    ['a task filed under another id', (s) => (s.tasks['1A'].id = '1B'), 'tasks.1A.id'],
    ['a task id that is no milestone id', (s) => (s.tasks['../x'] = { ...s.tasks['1A'], id: '../x' }), 'tasks'],
    ['a stage that does not match the id', (s) => (s.tasks['1A'].stage = 2), 'tasks.1A.stage'],
    ['a target branch git cannot take', (s) => (s.targetBranch = '--orphan'), 'targetBranch'],
    ['a pid of 1', (s) => (s.tasks['1A'].agentPid = 1), 'tasks.1A.agentPid'],
    ['usage that is not an object', (s) => (s.tasks['1A'].usage = 7), 'tasks.1A.usage'],
    ['stages that are not a list', (s) => (s.stages = {}), 'stages'],
    ['an unknown status', (s) => (s.status = 'exploded'), 'status'],
    ['rounds with a broken check', (s) => (s.tasks['1A'].rounds = [{ round: 1, at: 'x', checks: [{}], findings: [], reviewCostUsd: 0 }]), 'tasks.1A.rounds.0.checks.0'],
  ])('refuses %s, naming where', (_what, tamper, where) => {
    const state = validState();
    tamper(state);
    const parsed = parseRunState(state);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toContain(where);
  });

  it('reports a state file that is a directory or not JSON as unreadable instead of throwing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mo-state-'));
    try {
      mkdirSync(path.join(dir, 'as-dir'));
      expect(await loadRunState(path.join(dir, 'as-dir'))).toEqual({ kind: 'corrupt', problem: 'it is a directory, not a file' });
      writeFileSync(path.join(dir, 'bad.json'), '{"version":1,');
      expect((await loadRunState(path.join(dir, 'bad.json'))).kind).toBe('corrupt');
      writeFileSync(path.join(dir, 'v2.json'), '{"version":2}');
      expect(await loadRunState(path.join(dir, 'v2.json'))).toEqual({ kind: 'corrupt', problem: 'unsupported version 2 (expected 1)' });
      writeFileSync(path.join(dir, 'ok.json'), JSON.stringify(validState()));
      expect((await loadRunState(path.join(dir, 'ok.json'))).kind).toBe('ok');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
