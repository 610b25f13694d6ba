#!/usr/bin/env node
/**
 * fake-agent.mjs — a stand-in for the `claude` CLI (Claude Code 2.1.330) in headless mode, for engine tests.
 * Plain Node, no dependencies. Run it as `node tests/support/fake-agent.mjs <claude flags…>`, e.g. through
 * `createClaudeAdapter({ command: [process.execPath, '<abs path>/fake-agent.mjs'] })`.
 *
 * It accepts claude's flags (-p, --output-format, --verbose, --resume, --session-id, --model, --permission-mode,
 * --allowedTools…, --json-schema, --max-turns, …; unknown flags are ignored; `--` ends the options) and prints
 * stream-json shaped like the real transcripts in /work/shared/reference/claude-code-samples (system/init first, one
 * assistant event per content block, a `result` line whose keys do not start with "type"). `--version` prints
 * "2.1.330 (Claude Code)". It also reproduces the CLI's start-up refusals: stream-json without --verbose, a missing
 * prompt (neither an argument nor stdin), bypassPermissions as root without IS_SANDBOX=1, an unknown --resume id (see FAKE_AGENT_LOG).
 *
 * ENVIRONMENT
 *   FAKE_AGENT_SCRIPT       path to a JSON script (below)
 *   FAKE_AGENT_SCRIPT_JSON  the same script inline (wins over FAKE_AGENT_SCRIPT)
 *   FAKE_AGENT_LOG          NDJSON file; one record is appended per event:
 *     {"event":"start","pid","cwd","key","invocation","sessionId","resumed","prompt","options":{…},"argv":[…],"time"}
 *     {"event":"child","pid","childPid","ownGroup","time"}                      (a spawnChild step)
 *     {"event":"sigterm","pid","ignored":true|false,"time"}
 *     {"event":"end","pid","key","sessionId","exitCode","signal"?,"time"}      (not written on SIGKILL)
 *   Time is epoch ms. The log also gives invocation counts (earlier "start" records with the same key) and the
 *   known sessions: with a log, `--resume <id>` fails like the real CLI ("No conversation found with session ID: <id>",
 *   exit 1) unless an earlier record has that sessionId. Without a log every run is invocation 1 and any id resumes.
 *
 * SCRIPT
 *   {
 *     "rules": [
 *       { "match": "1A", "runs": [<Behaviour>, <Behaviour>, …] },  // n-th invocation takes runs[n-1]; the last repeats
 *       { "match": "2B", "run": <Behaviour> }                       // every invocation
 *     ],
 *     "default": <Behaviour>                                        // when no rule matches; default {} = plain success
 *   }
 *   The first rule whose `match` is a substring of the prompt applies; its `match` is the log's `key` (null for default).
 *   A rule may also require a file relative to cwd: "ifExists": "path" or "ifMissing": "path" (a reviewer that
 *   approves only once the fix is there, whatever the number of earlier runs).
 *
 *   Behaviour (every field optional):
 *     "steps":        [<Step>, …]   run in order, before the result
 *     "result":       "success" (default) | "error" | "usage_limit" | "rate_limited" | "overloaded" | "api_error" |
 *                     "auth" | "max_turns" | "budget" | "structured_retries" | "none" (no result line)
 *     "resultText":   the result's text (success: "Done.")
 *     "structuredOutput": value   with --json-schema: the StructuredOutput tool is called and the result carries
 *                     `structured_output`; without it the result has no such key (as when the model never calls it)
 *     "resetsAt":     usage_limit reset, epoch seconds (default now + 1 h)
 *     "status":       api_error HTTP status (default 500)
 *     "costUsd":      total_cost_usd (default 0.0016)
 *     "exitCode":     exit code (default 0 for success/none, 1 for the failures, as the real CLI)
 *     "ignoreSigterm": true  SIGTERM is logged and ignored; only SIGKILL stops the process
 *
 *   Step (one of):
 *     {"text": "…"}                          an assistant text block
 *     {"write": "rel/path", "content": "…"}  a Write tool call: the file is written relative to cwd (dirs created)
 *     {"bash": "git commit -qam x"}          a Bash tool call run with /bin/sh -c in cwd; a failure is a tool error
 *     {"tool": "Read", "input": {…}}         a tool call with no effect
 *     {"deny": "Write", "input": {…}}        a denied tool call: system/permission_denied + permission_denials
 *     {"sleep": 250}                         wait, in ms
 *     {"malformed": "text"}                  a raw non-JSON line on stdout
 *     {"stderr": "text"}                     a line on stderr
 *     {"apiRetry": 429}                      a system/api_retry event
 *     {"spawnChild": true | "ownGroup"}      start a long-lived child process and log its pid. "ownGroup" puts it in its
 *                                            own process group, like Claude Code's Bash tool; on SIGTERM (or at the
 *                                            end) the fake kills such children itself, as the real CLI does
 *     {"hang": true}                         wait until killed
 *     {"exit": 3}                            exit now with that code, without a result
 *
 * SIGNALS (as measured on the real CLI): SIGTERM exits 143 with no result line; SIGINT exits 0 with an
 * error_during_execution / aborted_streaming result.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const VERSION = '2.1.330';
const PERMISSION_MODES = ['acceptEdits', 'auto', 'bypassPermissions', 'manual', 'dontAsk', 'plan', 'default'];
const VALUE_OPTIONS = new Set([
  '--output-format', '--input-format', '--resume', '-r', '--session-id', '--model', '--fallback-model',
  '--permission-mode', '--json-schema', '--append-system-prompt', '--system-prompt', '--max-turns',
  '--max-budget-usd', '--settings', '--effort', '--agent', '--agents', '--debug-file', '--permission-prompts',
  '--name', '-n', '--append-system-prompt-file', '--system-prompt-file', '--setting-sources', '--autocompact',
]);
const VARIADIC_OPTIONS = new Set([
  '--allowedTools', '--allowed-tools', '--disallowedTools', '--disallowed-tools', '--add-dir', '--tools',
  '--mcp-config', '--file', '--betas',
]);
const BASE_TOOLS = ['Task', 'Bash', 'Edit', 'Glob', 'Grep', 'Read', 'TodoWrite', 'WebFetch', 'WebSearch', 'Write'];

// ---- argv ------------------------------------------------------------------------------------------------------

function parseArgs(argv) {
  const o = { flags: new Set(), values: {}, lists: {}, positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      o.positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--') && a.includes('=')) {
      // commander's --flag=value: everything after the first "="; variadic options accumulate.
      const [k, ...v] = a.split('=');
      if (VARIADIC_OPTIONS.has(k)) (o.lists[k] ??= []).push(v.join('='));
      else o.values[k] = v.join('=');
    } else if (VALUE_OPTIONS.has(a)) {
      o.values[a] = argv[++i];
    } else if (VARIADIC_OPTIONS.has(a)) {
      const list = (o.lists[a] ??= []);
      list.push(argv[++i]);
      while (i + 1 < argv.length && !argv[i + 1].startsWith('-')) list.push(argv[++i]);
    } else if (a.startsWith('-') && a.length > 1) {
      o.flags.add(a);
    } else {
      o.positional.push(a);
    }
  }
  return o;
}

const argv = process.argv.slice(2);
const opts = parseArgs(argv);
const value = (...names) => names.map((n) => opts.values[n]).find((v) => v !== undefined);
const list = (...names) => names.flatMap((n) => opts.lists[n] ?? []);

// ---- io --------------------------------------------------------------------------------------------------------

const logPath = process.env.FAKE_AGENT_LOG;
function log(record) {
  if (logPath) appendFileSync(logPath, `${JSON.stringify({ ...record, pid: process.pid, time: Date.now() })}\n`);
}
function readLog() {
  if (!logPath || !existsSync(logPath)) return [];
  return readFileSync(logPath, 'utf8')
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => {
      try {
        return [JSON.parse(l)];
      } catch {
        return [];
      }
    });
}

const outputFormat = value('--output-format') ?? 'text';
function emit(event) {
  if (ended) return;
  if (outputFormat === 'stream-json') process.stdout.write(`${JSON.stringify(event)}\n`);
}
function emitRaw(line) {
  process.stdout.write(`${line}\n`);
}

let ended = false;
let endRecord = {};
/** Flushes stdout/stderr, logs the end, exits. */
function finish(code, extra = {}) {
  if (ended) return;
  ended = true;
  killOwnGroupChildren();
  log({ event: 'end', key: endRecord.key ?? null, sessionId: endRecord.sessionId, exitCode: code, ...extra });
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}
function fail(message, code = 1) {
  process.stderr.write(`${message}\n`);
  finish(code);
}

// ---- start-up checks (the real CLI's refusals) -------------------------------------------------------------------

function startupError() {
  if (opts.flags.has('-p') === false && opts.flags.has('--print') === false) {
    return 'fake-agent: only -p/--print (headless) mode is supported';
  }
  if (outputFormat === 'stream-json' && !opts.flags.has('--verbose')) {
    return 'Error: When using --print, --output-format=stream-json requires --verbose';
  }
  const mode = value('--permission-mode');
  if (mode !== undefined && !PERMISSION_MODES.includes(mode)) {
    return `error: option '--permission-mode <mode>' argument '${mode}' is invalid. Allowed choices are acceptEdits, auto, bypassPermissions, manual, dontAsk, plan.`;
  }
  const bypass =
    mode === 'bypassPermissions' ||
    opts.flags.has('--dangerously-skip-permissions') ||
    opts.flags.has('--allow-dangerously-skip-permissions');
  const sandboxed = process.env.IS_SANDBOX === '1' || process.env.CLAUDE_CODE_BUBBLEWRAP === '1';
  if (bypass && process.getuid?.() === 0 && !sandboxed) {
    return '--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons';
  }
  return undefined;
}

/** A rule's optional file condition, relative to the agent's cwd. */
function fileCondition(rule) {
  if (typeof rule.ifExists === 'string' && !existsSync(resolve(process.cwd(), rule.ifExists))) return false;
  if (typeof rule.ifMissing === 'string' && existsSync(resolve(process.cwd(), rule.ifMissing))) return false;
  return true;
}

// ---- script ----------------------------------------------------------------------------------------------------

function loadScript() {
  if (process.env.FAKE_AGENT_SCRIPT_JSON) return JSON.parse(process.env.FAKE_AGENT_SCRIPT_JSON);
  if (process.env.FAKE_AGENT_SCRIPT) return JSON.parse(readFileSync(process.env.FAKE_AGENT_SCRIPT, 'utf8'));
  return {};
}

function pickBehaviour(script, prompt, records) {
  const rule = (script.rules ?? []).find((r) => typeof r.match === 'string' && prompt.includes(r.match) && fileCondition(r));
  const key = rule ? rule.match : null;
  const invocation = records.filter((r) => r.event === 'start' && r.key === key).length + 1;
  if (!rule) return { key, invocation, behaviour: script.default ?? {} };
  if (Array.isArray(rule.runs) && rule.runs.length > 0) {
    return { key, invocation, behaviour: rule.runs[Math.min(invocation, rule.runs.length) - 1] };
  }
  return { key, invocation, behaviour: rule.run ?? {} };
}

// ---- the session -----------------------------------------------------------------------------------------------

const startedAt = Date.now();
const cwd = process.cwd();
const model = value('--model') ?? 'claude-opus-5-5';
const jsonSchema = value('--json-schema');
const children = [];
let sessionId;
let msgCounter = 0;
let turns = 0;
const denials = [];

const iso = () => new Date().toISOString();

function initEvent() {
  const mode = value('--permission-mode');
  const tools = BASE_TOOLS.filter((t) => !list('--disallowedTools', '--disallowed-tools').includes(t));
  if (jsonSchema) tools.push('StructuredOutput');
  return {
    type: 'system',
    subtype: 'init',
    cwd,
    session_id: sessionId,
    tools: tools.sort(),
    mcp_servers: [],
    model,
    permissionMode: mode === undefined || mode === 'manual' ? 'default' : mode,
    slash_commands: [],
    apiKeySource: process.env.ANTHROPIC_API_KEY ? 'ANTHROPIC_API_KEY' : 'none',
    claude_code_version: VERSION,
    output_style: 'default',
    agents: ['general-purpose'],
    skills: [],
    plugins: [],
    uuid: randomUUID(),
    original_cwd: cwd,
    additional_directories: list('--add-dir'),
    fast_mode_state: 'off',
  };
}

function assistant(content, extra = {}, model_ = model) {
  msgCounter++;
  turns++;
  emit({
    type: 'assistant',
    message: {
      id: `msg_fake_${msgCounter}`,
      type: 'message',
      role: 'assistant',
      model: model_,
      content,
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 100, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      context_management: null,
    },
    parent_tool_use_id: null,
    session_id: sessionId,
    uuid: randomUUID(),
    timestamp: iso(),
    request_id: 'req_fake',
    ...extra,
  });
}

function toolResult(toolUseId, content, isError, decision = 'accept') {
  emit({
    type: 'user',
    message: { role: 'user', content: [{ tool_use_id: toolUseId, type: 'tool_result', content, is_error: isError }] },
    parent_tool_use_id: null,
    session_id: sessionId,
    uuid: randomUUID(),
    timestamp: iso(),
    tool_use_result: isError ? `Error: ${content}` : content,
    tool_result_meta: [{ id: toolUseId, permission_decision: { decision, source: 'config', reason_type: 'mode' } }],
  });
}

function toolUse(name, input) {
  const id = `toolu_fake_${msgCounter + 1}`;
  assistant([{ type: 'tool_use', id, name, input }]);
  return id;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function runShell(command) {
  return new Promise((done) => {
    const child = spawn('/bin/sh', ['-c', command], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => done({ code: code ?? 1, out: out.trim() }));
    child.on('error', (err) => done({ code: 127, out: String(err) }));
  });
}

function spawnChild(ownGroup) {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore', detached: ownGroup });
  child.unref();
  children.push({ pid: child.pid, ownGroup });
  log({ event: 'child', childPid: child.pid, ownGroup });
}

/** Claude Code stops its Bash tool process groups itself (they are out of reach of a signal to its own group). */
function killOwnGroupChildren() {
  for (const c of children) {
    if (!c.ownGroup) continue;
    try {
      process.kill(-c.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function runStep(step) {
  if ('text' in step) return assistant([{ type: 'text', text: String(step.text) }]);
  if ('write' in step) {
    const path = resolve(cwd, step.write);
    const id = toolUse('Write', { file_path: path, content: step.content ?? '' });
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, step.content ?? '');
    return toolResult(id, `File created successfully at: ${path}`, false);
  }
  if ('bash' in step) {
    const id = toolUse('Bash', { command: step.bash, description: 'scripted command' });
    const { code, out } = await runShell(step.bash);
    return toolResult(id, code === 0 ? out : [`Exit code ${code}`, out].filter(Boolean).join('\n'), code !== 0);
  }
  if ('tool' in step) {
    const id = toolUse(step.tool, step.input ?? {});
    return toolResult(id, 'ok', false);
  }
  if ('deny' in step) return deny(step.deny, step.input ?? {});
  if ('sleep' in step) return sleep(Number(step.sleep));
  if ('malformed' in step) return emitRaw(String(step.malformed));
  if ('stderr' in step) return void process.stderr.write(`${step.stderr}\n`);
  if ('apiRetry' in step) return apiRetry(Number(step.apiRetry), 1, 10);
  if ('spawnChild' in step) return spawnChild(step.spawnChild === 'ownGroup');
  if ('hang' in step) {
    setInterval(() => {}, 1 << 30);
    return new Promise(() => {});
  }
  if ('exit' in step) {
    finish(Number(step.exit));
    return new Promise(() => {});
  }
  throw new Error(`fake-agent: unknown step ${JSON.stringify(step)}`);
}

function deny(tool, input) {
  const id = toolUse(tool, input);
  const message = `Claude requested permissions to use ${tool}, but you haven't granted it yet.`;
  emit({ type: 'system', subtype: 'permission_denied', tool_name: tool, tool_use_id: id, message, uuid: randomUUID(), session_id: sessionId });
  denials.push({ tool_name: tool, tool_use_id: id, tool_input: input });
  toolResult(id, message, true, 'reject');
}

function apiRetry(status, attempt, max) {
  const error = status === 429 ? 'rate_limit' : status === 529 ? 'overloaded' : status === 401 ? 'authentication_failed' : 'server_error';
  emit({ type: 'system', subtype: 'api_retry', attempt, max_retries: max, retry_delay_ms: 500, error_status: status, error, session_id: sessionId, uuid: randomUUID() });
}

// ---- results ---------------------------------------------------------------------------------------------------

function usage(out = 40) {
  return { input_tokens: 200, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: out, service_tier: 'standard' };
}

/** Real key order: the line does not start with "type". */
function resultLine(fields) {
  const d = Date.now() - startedAt;
  const base = {
    duration_api_ms: Math.max(1, d - 5),
    stop_reason: fields.stop_reason ?? 'end_turn',
    session_id: sessionId,
    total_cost_usd: fields.total_cost_usd ?? 0.0016,
    usage: usage(fields.is_error ? 0 : 40),
    modelUsage: {},
    permission_denials: denials,
    terminal_reason: fields.terminal_reason ?? 'completed',
    fast_mode_state: 'off',
    safety_stops: 0,
    is_error: fields.is_error ?? false,
    num_turns: fields.num_turns ?? Math.max(1, turns),
    subtype: fields.subtype ?? 'success',
  };
  const tail = { type: 'result', duration_ms: d, uuid: randomUUID(), queued_turn_count: 0, result_index: 0 };
  const { stop_reason: _s, total_cost_usd: _c, terminal_reason: _t, is_error: _e, num_turns: _n, subtype: _u, ...rest } = fields;
  return { ...base, ...rest, ...tail };
}

function syntheticError(text, extra) {
  assistant([{ type: 'text', text }], { is_api_error_message: true, ...extra }, '<synthetic>');
}

/** A synthetic assistant error message, then an is_error result with subtype "success" (as the real CLI does). */
function apiErrorResult(b, status, text, synthetic, resultExtra = {}) {
  syntheticError(text, { error: synthetic.error, api_error_status: status, ...synthetic });
  return resultLine({
    stop_reason: 'stop_sequence',
    total_cost_usd: 0,
    terminal_reason: 'api_error',
    is_error: true,
    num_turns: 1,
    api_error_status: status,
    ...resultExtra,
    result: b.resultText ?? text,
  });
}

function buildResult(b) {
  const kind = b.result ?? 'success';
  switch (kind) {
    case 'success':
      return successResult(b);
    case 'usage_limit': {
      const resetsAt = b.resetsAt ?? Math.floor(Date.now() / 1000) + 3600;
      const info = { status: 'rejected', resetsAt, rateLimitType: 'five_hour', isUsingOverage: false };
      emit({ type: 'rate_limit_event', rate_limit_info: info, uuid: randomUUID(), session_id: sessionId });
      const clock = new Date(resetsAt * 1000);
      const h = clock.getUTCHours();
      const text = `You've hit your 5-hour limit · resets ${h % 12 || 12}:${String(clock.getUTCMinutes()).padStart(2, '0')}${h < 12 ? 'am' : 'pm'} (UTC)`;
      return apiErrorResult(
        b,
        429,
        text,
        { error: 'rate_limit', api_error: 'usage_limit_reached', api_error_params: { rate_limit_info: info } },
        { api_error_type: 'rate_limit_error', api_error: 'usage_limit_reached' },
      );
    }
    case 'rate_limited':
      apiRetry(429, 1, 2);
      apiRetry(429, 2, 2);
      return apiErrorResult(b, 429, 'API Error: Request rejected (429) · Number of request tokens has exceeded your per-minute rate limit', { error: 'rate_limit' }, { api_error_type: 'rate_limit_error' });
    case 'overloaded':
      apiRetry(529, 1, 2);
      apiRetry(529, 2, 2);
      return apiErrorResult(b, 529, 'API Error: Repeated 529 Overloaded errors. The API is at capacity.', { error: 'overloaded' });
    case 'api_error': {
      const status = b.status ?? 500;
      return apiErrorResult(b, status, `API Error: ${status} Internal server error. This is a server-side issue.`, { error: 'server_error' });
    }
    case 'auth':
      syntheticError('Not logged in · Please run /login', { error: 'authentication_failed' });
      return resultLine({ stop_reason: 'stop_sequence', total_cost_usd: 0, terminal_reason: 'api_error', is_error: true, num_turns: 1, api_error_status: null, result: 'Not logged in · Please run /login' });
    case 'max_turns': {
      const max = Number(value('--max-turns') ?? 3);
      return resultLine({ stop_reason: 'tool_use', terminal_reason: 'max_turns', is_error: true, num_turns: max + 1, subtype: 'error_max_turns', errors: [`Reached maximum number of turns (${max})`] });
    }
    case 'budget': {
      const max = value('--max-budget-usd') ?? '0.5';
      return resultLine({ stop_reason: 'tool_use', total_cost_usd: b.costUsd ?? Number(max) + 0.1, terminal_reason: 'budget_exhausted', is_error: true, subtype: 'error_max_budget_usd', errors: [`Reached maximum budget ($${max})`] });
    }
    case 'structured_retries': {
      // The real CLI prints this result with is_error first: another reason never to prefix-match.
      const r = resultLine({ terminal_reason: 'structured_output_retry_exhausted', is_error: true, subtype: 'error_max_structured_output_retries', errors: ['Failed to provide valid structured output after 5 attempts'] });
      return { is_error: true, ...r };
    }
    case 'error':
      return resultLine({ stop_reason: null, terminal_reason: 'aborted_streaming', is_error: true, subtype: 'error_during_execution', errors: [b.resultText ?? 'scripted failure'] });
    case 'none':
      return undefined;
    default:
      throw new Error(`fake-agent: unknown result kind ${kind}`);
  }
}

function successResult(b) {
  const fields = { total_cost_usd: b.costUsd ?? 0.0016, api_error_status: null };
  if (jsonSchema && b.structuredOutput !== undefined) {
    const id = toolUse('StructuredOutput', b.structuredOutput);
    toolResult(id, 'Structured output provided successfully', false);
    return resultLine({ ...fields, stop_reason: 'tool_use', result: JSON.stringify(b.structuredOutput), structured_output: b.structuredOutput });
  }
  const text = b.resultText ?? 'Done.';
  assistant([{ type: 'text', text }]);
  if (jsonSchema) {
    emit({ type: 'user', message: { role: 'user', content: [{ type: 'text', text: '[structured-output-enforce] You MUST call the StructuredOutput tool to complete this request. Call this tool now.' }] }, parent_tool_use_id: null, session_id: sessionId, uuid: randomUUID(), timestamp: iso(), isSynthetic: true });
    assistant([{ type: 'text', text }]);
  }
  return resultLine({ ...fields, result: text });
}

function printResult(result) {
  if (outputFormat === 'stream-json') return emit(result);
  if (outputFormat === 'json') return emitRaw(JSON.stringify(result));
  emitRaw(result.result ?? (result.errors ?? []).join('\n'));
}

// ---- main ------------------------------------------------------------------------------------------------------

async function main() {
  if (opts.flags.has('--version') || opts.flags.has('-v')) {
    emitRaw(`${VERSION} (Claude Code)`);
    return finishQuietly(0);
  }
  const refusal = startupError();
  if (refusal) return failQuietly(refusal);
  // Like the real CLI: the prompt argument, else all of standard input.
  const prompt = opts.positional[0] ?? (await readStdin());
  if (!prompt) return failQuietly('Error: Input must be provided either through stdin or as a prompt argument when using --print');
  const records = readLog();
  const script = loadScript();
  const { key, invocation, behaviour } = pickBehaviour(script, prompt, records);
  const resumeId = value('--resume', '-r');
  sessionId = resumeId ?? value('--session-id') ?? randomUUID();
  endRecord = { key, sessionId };
  const unknownSession =
    resumeId !== undefined && logPath !== undefined && !records.some((r) => r.event === 'start' && r.sessionId === resumeId && !r.error);
  const start = { event: 'start', cwd, key, invocation, sessionId, resumed: resumeId !== undefined, prompt, options: summarizeOptions(), argv };
  log(unknownSession ? { ...start, error: 'resume_failed' } : start);
  if (unknownSession) return fail(`No conversation found with session ID: ${resumeId}`);
  installSignalHandlers(behaviour);
  emit(initEvent());
  for (const step of behaviour.steps ?? []) await runStep(step);
  const result = buildResult(behaviour);
  if (result) printResult(result);
  const failed = result?.is_error === true;
  finish(behaviour.exitCode ?? (failed ? 1 : 0));
}

async function readStdin() {
  if (process.stdin.isTTY) return '';
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function summarizeOptions() {
  return {
    model: value('--model'),
    permissionMode: value('--permission-mode'),
    maxTurns: value('--max-turns'),
    maxBudgetUsd: value('--max-budget-usd'),
    allowedTools: list('--allowedTools', '--allowed-tools'),
    disallowedTools: list('--disallowedTools', '--disallowed-tools'),
    appendSystemPrompt: value('--append-system-prompt'),
    jsonSchema: jsonSchema === undefined ? undefined : JSON.parse(jsonSchema),
    isSandbox: process.env.IS_SANDBOX,
  };
}

function installSignalHandlers(behaviour) {
  process.on('SIGTERM', () => {
    log({ event: 'sigterm', ignored: behaviour.ignoreSigterm === true });
    if (behaviour.ignoreSigterm) return;
    finish(143, { signal: 'SIGTERM' });
  });
  process.on('SIGINT', () => {
    printResult(resultLine({ stop_reason: null, terminal_reason: 'aborted_streaming', is_error: true, subtype: 'error_during_execution', errors: ['[ede_diagnostic] interrupted'] }));
    finish(0, { signal: 'SIGINT' });
  });
}

/** Before a session exists there is nothing to log; just flush and exit. */
function finishQuietly(code) {
  ended = true;
  process.stdout.write('', () => process.exit(code));
}
function failQuietly(message) {
  process.stderr.write(`${message}\n`, () => process.exit(1));
  ended = true;
}

main().catch((err) => {
  process.stderr.write(`fake-agent crashed: ${err?.stack ?? err}\n`);
  finish(70);
});
