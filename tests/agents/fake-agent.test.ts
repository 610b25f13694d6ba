import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_AGENT } from './helpers.js';
import { Sandbox } from './process-helpers.js';

const run = promisify(execFile);

let box: Sandbox;
beforeEach(() => {
  box = new Sandbox();
});
afterEach(() => {
  box.dispose();
});

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function fake(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  try {
    const r = await run(process.execPath, [FAKE_AGENT, ...args], { cwd: box.cwd, env: { ...process.env, FAKE_AGENT_LOG: box.logPath, ...env } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const streamArgs = (prompt: string, ...extra: string[]) => ['-p', '--output-format', 'stream-json', '--verbose', ...extra, '--', prompt];
const events = (stdout: string) => stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
const script = (s: object) => ({ FAKE_AGENT_SCRIPT_JSON: JSON.stringify(s) });

describe('fake agent', () => {
  it('--version looks like the real one', async () => {
    expect((await fake(['--version'])).stdout).toBe('2.1.330 (Claude Code)\n');
  });

  it('refuses stream-json without --verbose like the real CLI', async () => {
    const r = await fake(['-p', '--output-format', 'stream-json', 'hi']);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: 'Error: When using --print, --output-format=stream-json requires --verbose\n' });
  });

  it('prints init first and a result last whose keys do not start with type', async () => {
    const r = await fake(streamArgs('task 1A', '--model', 'sonnet', '--permission-mode', 'acceptEdits'));
    const lines = r.stdout.trim().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ type: 'system', subtype: 'init', model: 'sonnet', permissionMode: 'acceptEdits', cwd: box.cwd });
    expect(lines.at(-1)!.startsWith('{"duration_api_ms":')).toBe(true);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ type: 'result', subtype: 'success', is_error: false, result: 'Done.' });
  });

  it('picks the behaviour by prompt substring and invocation count; the last run repeats', async () => {
    const s = script({
      rules: [{ match: '1A', runs: [{ resultText: 'first' }, { resultText: 'second' }] }],
      default: { resultText: 'other' },
    });
    const texts: unknown[] = [];
    for (const prompt of ['do 1A', 'do 1A', 'do 2B', 'do 1A']) texts.push(events((await fake(streamArgs(prompt), s)).stdout).at(-1)!.result);
    expect(texts).toEqual(['first', 'second', 'other', 'second']);
    expect(box.log().filter((r) => r.event === 'start').map((r) => [r.key, r.invocation])).toEqual([
      ['1A', 1],
      ['1A', 2],
      [null, 1],
      ['1A', 3],
    ]);
  });

  it('reads the script from a file too', async () => {
    const file = join(box.root, 'script.json');
    writeFileSync(file, JSON.stringify({ default: { result: 'max_turns' } }));
    const r = await fake(streamArgs('x', '--max-turns', '7'), { FAKE_AGENT_SCRIPT: file });
    expect(r.code).toBe(1);
    expect(events(r.stdout).at(-1)).toMatchObject({ subtype: 'error_max_turns', errors: ['Reached maximum number of turns (7)'] });
  });

  it('runs bash steps in cwd; a failing command is a tool error, not a failed run', async () => {
    const r = await fake(streamArgs('x'), script({ default: { steps: [{ bash: 'pwd' }, { bash: 'exit 4' }] } }));
    expect(r.code).toBe(0);
    const results = events(r.stdout)
      .filter((e) => e.type === 'user')
      .map((e) => (e.message as { content: { content: string; is_error: boolean }[] }).content[0]);
    expect(results).toEqual([
      { tool_use_id: expect.any(String), type: 'tool_result', content: box.cwd, is_error: false },
      { tool_use_id: expect.any(String), type: 'tool_result', content: 'Exit code 4', is_error: true },
    ]);
  });

  it('--output-format json prints the result object alone', async () => {
    const r = await fake(['-p', '--output-format', 'json', 'x']);
    expect(JSON.parse(r.stdout)).toMatchObject({ type: 'result', is_error: false });
  });

  it('SIGINT ends with an error_during_execution result and exit 0, as measured on the real CLI', async () => {
    const child = spawn(process.execPath, [FAKE_AGENT, ...streamArgs('x')], {
      cwd: box.cwd,
      env: { ...process.env, ...script({ default: { steps: [{ text: 'working' }, { hang: true }] } }) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('"working"')) child.kill('SIGINT');
    });
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(events(out).at(-1)).toMatchObject({ subtype: 'error_during_execution', terminal_reason: 'aborted_streaming', is_error: true });
  });

  it('its log makes concurrency measurable', async () => {
    const s = script({ default: { steps: [{ sleep: 400 }] } });
    await Promise.all(['a', 'b', 'c'].map((p) => fake(streamArgs(p), s)));
    const log = box.log();
    const spans = log.filter((r) => r.event === 'start').map((st) => [st.time, log.find((e) => e.event === 'end' && e.pid === st.pid)!.time] as const);
    const maxOverlap = Math.max(...spans.map(([t]) => spans.filter(([s0, e0]) => s0 <= t && t < e0).length));
    expect(spans).toHaveLength(3);
    expect(maxOverlap).toBeGreaterThanOrEqual(2);
  });
});
