import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STDERR_MARKER } from '../../src/agents/transcript.js';
import type { AgentProgress } from '../../src/agents/types.js';
import { eventually, expectGone, Sandbox, transcriptLines } from './process-helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const isRoot = process.getuid?.() === 0;

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(() => {
  box.dispose();
});

describe('claude adapter with the fake agent: normal runs', () => {
  it('runs to success, reports progress, and writes the transcript line by line', async () => {
    const progress: AgentProgress[] = [];
    const req = box.request(
      { default: { steps: [{ text: 'Starting' }, { write: 'src/hello.txt', content: 'hi\n' }], resultText: 'All done', costUsd: 0.25 } },
      { onProgress: (p) => progress.push(p) },
    );
    const result = await box.adapter().run(req);

    expect(result).toMatchObject({ ok: true, exitCode: 0, isError: false, subtype: 'success', resultText: 'All done', costUsd: 0.25, malformedLines: 0 });
    expect(result.failure).toBeUndefined();
    expect(result.sessionId).toMatch(UUID);
    expect(result.numTurns).toBe(3);
    expect(result.usage.outputTokens).toBe(40);
    expect(readFileSync(join(box.cwd, 'src/hello.txt'), 'utf8')).toBe('hi\n');

    const lines = transcriptLines(req.transcriptPath).map((l) => JSON.parse(l) as { type: string; subtype?: string });
    expect(lines[0]).toMatchObject({ type: 'system', subtype: 'init' });
    expect(lines.at(-1)).toMatchObject({ type: 'result' });
    expect(progress.length).toBe(lines.length);
    expect(progress.map((p) => p.lastTool)).toContain('Write');
    expect(progress.at(-1)).toMatchObject({ sessionId: result.sessionId, turns: 3, costUsd: 0.25 });
  });

  it('passes a prompt of any size on stdin: 400 KB, over the 128 KiB limit of one argument', async () => {
    const prompt = `milestone 1A: ${'word '.repeat(80_000)}THE END`;
    const result = await box.adapter().run(box.request({}, { prompt }));
    expect(result.ok, result.failure?.message).toBe(true);
    const start = box.log().find((r) => r.event === 'start')!;
    expect(start.prompt).toBe(prompt);
    expect((start as unknown as { argv: string[] }).argv.join(' ')).not.toContain('word word');
  });

  it('keeps a tool name or model starting with "-" a value: it never becomes a flag of its own', async () => {
    const result = await box.adapter().run(box.request({}, { model: '--dangerously-skip-permissions', allowedTools: ['--dangerously-skip-permissions', '-p'] }));
    const start = box.log().find((r) => r.event === 'start')! as unknown as { argv: string[]; options: object };
    expect(start.argv).not.toContain('--dangerously-skip-permissions');
    expect(start.options).toMatchObject({ model: '--dangerously-skip-permissions', allowedTools: ['--dangerously-skip-permissions', '-p'] });
    expect(result.ok).toBe(true);
  });

  it('passes the prompt whole even when it starts with a dash', async () => {
    const prompt = '- [ ] 1A: do the thing\n--not-a-flag';
    const result = await box.adapter().run(box.request({}, { prompt, model: 'sonnet', allowedTools: ['Edit', 'Bash(git *)'] }));
    expect(result.ok).toBe(true);
    const start = box.log().find((r) => r.event === 'start')!;
    expect(start.prompt).toBe(prompt);
    expect(start.cwd).toBe(box.cwd);
    expect(start.options).toMatchObject({ model: 'sonnet', allowedTools: ['Edit', 'Bash(git *)'] });
  });

  it('tolerates malformed lines and keeps them in the transcript', async () => {
    const req = box.request({ default: { steps: [{ malformed: 'Warning: something odd' }, { text: 'ok' }, { malformed: '{"type":"assist' }] } });
    const result = await box.adapter().run(req);
    expect(result).toMatchObject({ ok: true, malformedLines: 2 });
    expect(transcriptLines(req.transcriptPath)).toContain('Warning: something odd');
  });

  it('reports a crash with its exit code and stderr, and appends stderr to the transcript', async () => {
    const req = box.request({ default: { steps: [{ text: 'working' }, { stderr: 'fatal: index.lock exists' }, { exit: 3 }] } });
    const result = await box.adapter().run(req);
    expect(result).toMatchObject({ ok: false, exitCode: 3, isError: true, failure: { kind: 'crashed' } });
    expect(result.failure?.message).toMatch(/exited with code 3 before reporting a result.*fatal: index\.lock exists/);
    expect(result.sessionId).toMatch(UUID);
    const text = readFileSync(req.transcriptPath, 'utf8');
    expect(text).toMatch(new RegExp(`${STDERR_MARKER}\nfatal: index\\.lock exists\n$`));
  });

  it('exit 0 without a result line is bad_output', async () => {
    const result = await box.adapter().run(box.request({ default: { steps: [{ text: 'hmm' }], result: 'none' } }));
    expect(result.failure?.kind).toBe('bad_output');
  });

  it('maps scripted API failures: usage limit with resetsAt, rate limit, permission denial', async () => {
    const adapter = box.adapter();
    const limit = await adapter.run(box.request({ default: { result: 'usage_limit', resetsAt: 1795445741 } }));
    expect(limit).toMatchObject({ ok: false, exitCode: 1, resetsAt: 1795445741000, failure: { kind: 'usage_limit' } });

    const rate = await adapter.run(box.request({ default: { result: 'rate_limited' } }));
    expect(rate).toMatchObject({ ok: false, apiErrorStatus: 429, subtype: 'success', failure: { kind: 'rate_limited' } });

    const denied = await adapter.run(box.request({ default: { steps: [{ deny: 'Bash', input: { command: 'git push' } }] } }));
    expect(denied).toMatchObject({ ok: false, exitCode: 0, failure: { kind: 'permission_denied' } });
    expect(denied.permissionDenials).toEqual([{ toolName: 'Bash', toolUseId: expect.any(String), toolInput: { command: 'git push' } }]);
  });

  it('returns structured output, or keeps the text when the model never produced it', async () => {
    const jsonSchema = { type: 'object', properties: { verdict: { type: 'string' } }, required: ['verdict'] };
    const adapter = box.adapter();
    const good = await adapter.run(box.request({ default: { structuredOutput: { verdict: 'approve' } } }, { jsonSchema }));
    expect(good).toMatchObject({ ok: true, structuredOutput: { verdict: 'approve' } });

    const text = 'Verdict: {"verdict":"changes_requested"}';
    const missing = await adapter.run(box.request({ default: { resultText: text } }, { jsonSchema }));
    expect(missing).toMatchObject({ ok: false, failure: { kind: 'structured_output_missing' }, resultText: text });
    expect(missing.structuredOutput).toBeUndefined();
  });

  it('never writes secrets from the environment into the transcript or the result', async () => {
    const secret = 'sk-ant-api03-THIS-IS-A-TEST-SECRET-0123456789';
    const adapter = box.adapter();
    const req = box.request(
      { default: { steps: [{ bash: 'echo "key=$ANTHROPIC_API_KEY"' }, { stderr: `leaked ${secret}` }, { exit: 1 }] } },
      { env: { ANTHROPIC_API_KEY: secret } },
    );
    const crashed = await adapter.run(req);
    const text = readFileSync(req.transcriptPath, 'utf8');
    expect(text).toContain('key=[REDACTED:ANTHROPIC_API_KEY]');
    expect(text).not.toContain(secret);
    expect(crashed.stderr).toContain('[REDACTED:ANTHROPIC_API_KEY]');
    expect(JSON.stringify(crashed)).not.toContain(secret);

    const echoed = await adapter.run(box.request({ default: { resultText: `the key is ${secret}` } }, { env: { ANTHROPIC_API_KEY: secret } }));
    expect(echoed.resultText).toBe('the key is [REDACTED:ANTHROPIC_API_KEY]');
  });

  it('keeps survivors of its process group from outliving a normal exit', async () => {
    const result = await box.adapter().run(box.request({ default: { steps: [{ spawnChild: true }] } }));
    expect(result.ok).toBe(true);
    const [child] = box.childPids();
    expect(child).toBeDefined();
    await expectGone([child!]);
  });

  it('a throwing onProgress does not break the run', async () => {
    const result = await box.adapter().run(
      box.request({}, {
        onProgress: () => {
          throw new Error('display broke');
        },
      }),
    );
    expect(result.ok).toBe(true);
    expect(result.warnings).toEqual(['onProgress threw: display broke']);
  });
});

describe('claude adapter with the fake agent: resume', () => {
  it('resuming keeps the session id', async () => {
    const adapter = box.adapter();
    const first = await adapter.run(box.request({}));
    const second = await adapter.run(box.request({}, { resumeSessionId: first.sessionId }));
    expect(second).toMatchObject({ ok: true, sessionId: first.sessionId });
    const starts = box.log().filter((r) => r.event === 'start');
    expect(starts.map((s) => [s.invocation, s.resumed, s.sessionId])).toEqual([
      [1, false, first.sessionId],
      [2, true, first.sessionId],
    ]);
  });

  it('an unknown session is resume_failed and has no session id', async () => {
    const bogus = '99999999-2222-4333-8444-555555555555';
    const result = await box.adapter().run(box.request({}, { resumeSessionId: bogus }));
    expect(result).toMatchObject({ ok: false, exitCode: 1, failure: { kind: 'resume_failed' } });
    expect(result.failure?.message).toContain(bogus);
    expect(result.sessionId).toBeUndefined();
  });
});

describe('claude adapter with the fake agent: stopping runs', () => {
  it('timeout: SIGTERMs the process group, child included', async () => {
    const req = box.request({ default: { steps: [{ spawnChild: true }, { text: 'thinking' }, { hang: true }] } }, { timeoutMs: 800 });
    const result = await box.adapter().run(req);
    expect(result).toMatchObject({ ok: false, failure: { kind: 'timeout' }, exitCode: 143 });
    expect(result.failure?.message).toMatch(/800ms time limit/);
    expect(result.durationMs).toBeLessThan(5000);
    expect(result.sessionId).toMatch(UUID);
    await expectGone([...box.childPids(), ...box.agentPids()]);
    expect(box.log().filter((r) => r.event === 'end')).toMatchObject([{ exitCode: 143, signal: 'SIGTERM' }]);
  });

  it('timeout: an agent that ignores SIGTERM is SIGKILLed with its own-group tool process', async () => {
    const req = box.request(
      { default: { ignoreSigterm: true, steps: [{ spawnChild: 'ownGroup' }, { text: 'running tests' }, { hang: true }] } },
      // Long enough for the fake agent to start and install its SIGTERM handler on a loaded machine.
      { timeoutMs: 3000 },
    );
    const result = await box.adapter({ killGraceMs: 300 }).run(req);
    expect(result).toMatchObject({ ok: false, failure: { kind: 'timeout' }, signal: 'SIGKILL', exitCode: null });
    expect(box.log().filter((r) => r.event === 'sigterm')).toMatchObject([{ ignored: true }]);
    const [child] = box.childPids();
    // The child was in its own process group: only the descendant sweep can have reached it.
    expect(box.log().find((r) => r.event === 'child')?.ownGroup).toBe(true);
    await expectGone([child!, ...box.agentPids()]);
  });

  it('timeout: an agent that honours SIGTERM stops its own-group tool process itself', async () => {
    const req = box.request({ default: { steps: [{ spawnChild: 'ownGroup' }, { hang: true }] } }, { timeoutMs: 500 });
    const result = await box.adapter({ killGraceMs: 10_000 }).run(req);
    expect(result).toMatchObject({ failure: { kind: 'timeout' }, exitCode: 143 });
    // Well before the 10 s grace: SIGTERM was enough.
    expect(result.durationMs).toBeLessThan(5000);
    await expectGone(box.childPids());
  });

  it('idle timeout: silence is killed, steady output is not', async () => {
    const adapter = box.adapter();
    const silent = await adapter.run(box.request({ default: { steps: [{ text: 'a' }, { hang: true }] } }, { idleTimeoutMs: 400 }));
    expect(silent).toMatchObject({ ok: false, failure: { kind: 'idle_timeout' } });
    expect(silent.failure?.message).toMatch(/printed nothing, used no CPU and changed no file in its worktree for 400ms/);

    // Steady output for longer than the idle limit; the limit leaves room for a slow start on a loaded machine.
    const ticks = Array.from({ length: 30 }, () => [{ sleep: 100 }, { text: 'tick' }]).flat();
    const chatty = await adapter.run(box.request({ default: { steps: ticks } }, { idleTimeoutMs: 2500 }));
    expect(chatty.ok).toBe(true);
    expect(chatty.durationMs).toBeGreaterThan(2500);
  });

  it('abort signal: stops a running agent; the transcript already holds what it printed', async () => {
    const controller = new AbortController();
    let transcriptAtAbort = '';
    const req = box.request(
      { default: { steps: [{ spawnChild: true }, { text: 'started' }, { hang: true }] } },
      {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.turns === 1 && !controller.signal.aborted) {
            transcriptAtAbort = readFileSync(req.transcriptPath, 'utf8');
            controller.abort();
          }
        },
      },
    );
    const result = await box.adapter().run(req);
    expect(result).toMatchObject({ ok: false, failure: { kind: 'aborted', message: expect.stringMatching(/cancelled.*SIGTERM/) } });
    expect(transcriptAtAbort).toMatch(/"subtype":"init"[\s\S]*"text":"started"/);
    await expectGone([...box.childPids(), ...box.agentPids()]);
  });

  it('an already-aborted signal starts nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await box.adapter().run(box.request({}, { signal: controller.signal }));
    expect(result).toMatchObject({ ok: false, failure: { kind: 'aborted' }, exitCode: null });
    expect(result.failure?.message).toMatch(/before the agent started/);
    expect(box.log()).toEqual([]);
  });
});

describe('claude adapter: failures before the agent starts', () => {
  it('a missing executable resolves with install instructions', async () => {
    const result = await box.adapter({ command: [join(box.root, 'no-such-claude')] }).run(box.request({}));
    expect(result).toMatchObject({ ok: false, exitCode: null, failure: { kind: 'cannot_start' } });
    expect(result.failure?.message).toMatch(/not found.*npm i -g @anthropic-ai\/claude-code/);
  });

  it('a command line the system refuses (E2BIG) is named as such, not as a missing CLI', async () => {
    const result = await box.adapter().run(box.request({}, { appendSystemPrompt: 'x'.repeat(200_000) }));
    expect(result).toMatchObject({ ok: false, exitCode: null, failure: { kind: 'cannot_start' } });
    expect(result.failure?.message).toMatch(/too large for the system \(E2BIG.*Shorten `agent.append_system_prompt`/);
    expect(result.failure?.message).not.toMatch(/npm i -g|not found/);
  });

  it('a missing worktree resolves with a clear message', async () => {
    const result = await box.adapter().run(box.request({}, { cwd: join(box.root, 'gone') }));
    expect(result.failure?.message).toMatch(/working directory .*gone does not exist/);
    expect(existsSync(join(box.root, 'gone'))).toBe(false);
  });

  it('invalid limits resolve instead of throwing', async () => {
    const result = await box.adapter().run(box.request({}, { maxTurns: -1 }));
    expect(result.failure?.message).toMatch(/maxTurns must be a whole number/);
  });
});

describe.runIf(isRoot)('claude adapter as root', () => {
  it('bypassPermissions gets IS_SANDBOX=1 so the CLI does not refuse', async () => {
    const result = await box.adapter({ isRoot: true }).run(box.request({}, { permissionMode: 'bypassPermissions' }));
    expect(result.ok).toBe(true);
    expect(box.log().find((r) => r.event === 'start')?.options).toMatchObject({ permissionMode: 'bypassPermissions', isSandbox: '1' });
  });

  it('without it the refusal is reported with the fix', async () => {
    const result = await box
      .adapter({ isRoot: true })
      .run(box.request({}, { permissionMode: 'bypassPermissions', env: { IS_SANDBOX: '0' } }));
    expect(result).toMatchObject({ exitCode: 1, failure: { kind: 'crashed', message: expect.stringMatching(/IS_SANDBOX=1/) } });
  });
});

// Keeps the helper honest: `eventually` must fail when the condition never holds.
it('eventually gives up', async () => {
  await expect(eventually(() => false, 'never', 100)).rejects.toThrow(/never/);
});
