import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../../src/scripted-api/server.js';
import type { ScenarioInput } from '../../src/scripted-api/scenario.js';
import type { RecordedRequest } from '../../src/scripted-api/types.js';
import { agentRequest, classifierRequest, toolTurn } from './requests.js';
import { assemble, parseSse } from './sse-client.js';

const dir = mkdtempSync(join(tmpdir(), 'scripted-server-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(scenario: ScenarioInput | string, extra: { logFile?: string; onRequest?: (r: RecordedRequest) => void } = {}) {
  server = await startScriptedServer({ scenario, ...extra });
  return server;
}

function post(s: ScriptedServer, body: unknown, path = '/v1/messages?beta=true', headers: Record<string, string> = {}) {
  return fetch(s.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function streamed(s: ScriptedServer, body: unknown) {
  const res = await post(s, body);
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  const events = parseSse(await res.text());
  return { res, events, message: assemble(events) };
}

describe('streamed replies', () => {
  it('sends text and tool_use blocks as SSE in API order, with {{cwd}} filled and deterministic ids', async () => {
    const s = await start([
      { name: 'write', match: { turn: 0 }, reply: { text: 'Writing.', tool_use: { name: 'Write', input: { file_path: '{{cwd}}/a.txt', content: 'hi' } } } },
    ]);
    const { res, events, message } = await streamed(s, agentRequest({ cwd: '/w/one' }));
    expect(events.map((e) => e.event)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(message).toMatchObject({
      id: 'msg_0001',
      model: 'claude-opus-5-5',
      stop_reason: 'tool_use',
      content: [
        { type: 'text', text: 'Writing.' },
        { type: 'tool_use', id: 'toolu_0001', name: 'Write', input: { file_path: '/w/one/a.txt', content: 'hi' } },
      ],
      usage: { input_tokens: 10, output_tokens: 5 },
    });
    expect(res.headers.get('request-id')).toBe('req_0001');
    expect(s.requests[0]).toMatchObject({ seq: 1, method: 'POST', path: '/v1/messages?beta=true', outcome: 'rule', rule: { index: 0, name: 'write' }, status: 200 });
  });

  it('cuts long text and JSON into several deltas that reassemble exactly', async () => {
    const text = 'Emoji 😀 survive chunking. '.repeat(10);
    const s = await start([{ reply: { text, tool_use: { name: 'Bash', input: { command: 'echo ' + 'x'.repeat(200) } } } }]);
    const { message } = await streamed(s, agentRequest());
    expect(message.content[0]!.text).toBe(text);
    expect(message.content[1]!.input).toEqual({ command: 'echo ' + 'x'.repeat(200) });
    expect(message.deltaCount).toBeGreaterThan(4);
  });

  it('echoes the model and uses per-reply usage over the scenario default', async () => {
    const s = await start({
      usage: { input_tokens: 100 },
      rules: [{ reply: { text: 'x', usage: { output_tokens: 42, cache_read_input_tokens: 7 } } }],
    });
    const { message } = await streamed(s, agentRequest({ model: 'claude-haiku-9' }));
    expect(message.model).toBe('claude-haiku-9');
    expect(message.usage).toMatchObject({ input_tokens: 100, output_tokens: 42, cache_read_input_tokens: 7, cache_creation_input_tokens: 0 });
    expect(message.stop_reason).toBe('end_turn');
  });

  it('answers structured output through the StructuredOutput tool when offered, as JSON text otherwise', async () => {
    const s = await start([{ reply: { verdict: 'approve', summary: 'lgtm' } }]);
    const offered = await streamed(s, agentRequest({ tools: ['Read', 'StructuredOutput'] }));
    expect(offered.message.content).toEqual([
      { type: 'tool_use', id: 'toolu_0001', name: 'StructuredOutput', input: { verdict: 'approve', summary: 'lgtm', findings: [] } },
    ]);
    const plain = await streamed(s, agentRequest());
    expect(JSON.parse(plain.message.content[0]!.text!)).toEqual({ verdict: 'approve', summary: 'lgtm', findings: [] });
  });
});

describe('request handling', () => {
  it('answers non-streaming requests with a JSON message', async () => {
    const s = await start([{ reply: 'plain answer' }]);
    const res = await post(s, agentRequest({ stream: false }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: 'msg_0001', type: 'message', role: 'assistant', content: [{ type: 'text', text: 'plain answer' }], stop_reason: 'end_turn' });
  });

  it('answers unmatched turns with the default reply and records them as unmatched', async () => {
    const s = await start({ rules: [{ match: { last_user: 'never' }, reply: 'x' }], default_reply: 'fallback' });
    const { message } = await streamed(s, agentRequest());
    expect(message.content).toEqual([{ type: 'text', text: 'fallback' }]);
    expect(s.requests.map((r) => r.outcome)).toEqual(['unmatched']);
    expect(s.requests[0]!.rule).toBeUndefined();
  });

  it('answers side requests cheaply without consuming rules', async () => {
    const s = await start([{ times: 1, reply: 'the one agent turn' }]);
    const side = await post(s, classifierRequest());
    expect(await side.json()).toMatchObject({ id: 'msg_side_0001', content: [{ type: 'text', text: '<block>no</block>' }] });
    const { message } = await streamed(s, agentRequest());
    expect(message).toMatchObject({ id: 'msg_0001', content: [{ text: 'the one agent turn' }] });
    expect(s.requests.map((r) => r.outcome)).toEqual(['side', 'rule']);
  });

  it('serves count_tokens, the start-up hello and records unknown routes', async () => {
    const s = await start([]);
    const counted = await post(s, agentRequest(), '/v1/messages/count_tokens?beta=true');
    expect((await counted.json()) as unknown).toEqual({ input_tokens: expect.any(Number) });
    expect((await fetch(s.url + '/api/hello', { method: 'HEAD' })).status).toBe(200);
    const unknown = await fetch(s.url + '/v1/models');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    expect(s.requests.map((r) => [r.method, r.outcome])).toEqual([
      ['POST', 'count_tokens'],
      ['HEAD', 'hello'],
      ['GET', 'unknown_route'],
    ]);
  });

  it('rejects bodies that are not JSON and {{cwd}} with no working directory, saying why', async () => {
    const s = await start([{ reply: { tool_use: { name: 'Write', input: { file_path: '{{cwd}}/x' } } } }]);
    expect((await post(s, '{oops')).status).toBe(400);
    const noCwd = { ...agentRequest(), messages: [{ role: 'user', content: 'hi' }] };
    const res = await post(s, noCwd);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/\{\{cwd\}\}/);
    expect(s.requests.map((r) => [r.outcome, r.status])).toEqual([
      ['bad_request', 400],
      ['bad_request', 400],
    ]);
    expect(s.requests[1]!.rule).toEqual({ index: 0 });
  });

  it('records headers without credential values, and the parsed body', async () => {
    const s = await start([]);
    await post(s, agentRequest({ prompt: 'p' }), undefined, { 'x-api-key': 'sk-secret', authorization: 'Bearer tok', 'anthropic-version': '2023-06-01' });
    const [recorded] = s.requests;
    expect(recorded!.headers).toMatchObject({ 'x-api-key': '[redacted]', authorization: '[redacted]', 'anthropic-version': '2023-06-01' });
    expect(JSON.stringify(recorded)).not.toMatch(/sk-secret|Bearer tok/);
    expect(recorded!.body).toMatchObject({ model: 'claude-opus-5-5', stream: true });
    expect(new Date(recorded!.time).getTime()).not.toBeNaN();
  });

  it('appends every request to the log file as NDJSON', async () => {
    const logFile = join(dir, 'requests.ndjson');
    const s = await start([], { logFile });
    await post(s, agentRequest());
    await fetch(s.url + '/api/hello', { method: 'HEAD' });
    const lines = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RecordedRequest);
    expect(lines.map((l) => [l.seq, l.outcome])).toEqual([
      [1, 'unmatched'],
      [2, 'hello'],
    ]);
  });

  it('loads a scenario file and restarts use counts on setScenario', async () => {
    const path = join(dir, 'once.yaml');
    writeFileSync(path, '- { times: 1, reply: first }\n');
    const s = await start(path);
    const texts = async () => (await streamed(s, agentRequest())).message.content[0]!.text;
    expect([await texts(), await texts()]).toEqual(['first', 'done']);
    s.setScenario(path);
    expect(await texts()).toBe('first');
    s.setScenario([{ reply: 'object scenario' }]);
    expect(await texts()).toBe('object scenario');
  });

  it('listens on loopback and a free port by default', async () => {
    const s = await start([]);
    expect(s.url).toBe(`http://127.0.0.1:${s.port}`);
    expect(s.port).toBeGreaterThan(0);
  });
});

describe('faults', () => {
  it('sends a 429 with retry-after and rate limit headers, then lets the retry through', async () => {
    const s = await start([
      { times: 1, reply: { fault: { status: 429, retry_after: 2, ratelimit_headers: true, body_message: 'slow down' } } },
      { reply: 'recovered' },
    ]);
    const first = await post(s, agentRequest());
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('2');
    expect(first.headers.get('anthropic-ratelimit-requests-remaining')).toBe('0');
    expect(await first.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } });
    const { message } = await streamed(s, agentRequest());
    expect(message.content[0]!.text).toBe('recovered');
    expect(s.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  it('sends 529 overloaded and 401 authentication errors', async () => {
    const s = await start([
      { match: { last_user: 'busy' }, reply: { fault: 529 } },
      { match: { last_user: 'auth' }, reply: { fault: 401 } },
    ]);
    const busy = await post(s, agentRequest({ prompt: 'busy' }));
    expect([busy.status, ((await busy.json()) as { error: { type: string } }).error.type]).toEqual([529, 'overloaded_error']);
    const auth = await post(s, agentRequest({ prompt: 'auth' }));
    expect([auth.status, ((await auth.json()) as { error: { type: string } }).error.type]).toEqual([401, 'authentication_error']);
  });

  it('sends a usage limit as 429 with the unified rate limit headers', async () => {
    const s = await start([{ reply: { fault: { kind: 'usage_limit', resets_at: 1795445750 } } }]);
    const res = await post(s, agentRequest());
    expect(res.status).toBe(429);
    expect(res.headers.get('anthropic-ratelimit-unified-status')).toBe('rejected');
    expect(res.headers.get('anthropic-ratelimit-unified-reset')).toBe('1795445750');
    expect(res.headers.get('anthropic-ratelimit-unified-representative-claim')).toBe('five_hour');
    expect(res.headers.get('anthropic-ratelimit-unified-5h-utilization')).toBe('1.0');
  });

  it('stalls after message_start and holds the socket until close()', async () => {
    const recorded = nextRecord();
    const s = await start([{ reply: { fault: 'stall' } }], { onRequest: recorded.resolve });
    const res = await post(s, agentRequest());
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(parseSse(first).map((e) => e.event)).toEqual(['message_start']);
    expect(await recorded.promise).toMatchObject({ outcome: 'rule', status: 200 });
    const rest = reader.read().then(
      (r) => (r.done ? 'ended' : 'more data'),
      () => 'aborted',
    );
    await s.close();
    expect(await rest).not.toBe('more data');
  });

  it('hangs without answering until close()', async () => {
    const recorded = nextRecord();
    const s = await start([{ reply: { fault: 'hang' } }], { onRequest: recorded.resolve });
    const pending = post(s, agentRequest()).then(
      () => 'answered',
      () => 'dropped',
    );
    await recorded.promise;
    expect(s.requests[0]).toMatchObject({ outcome: 'rule', rule: { index: 0 } });
    expect(s.requests[0]!.status).toBeUndefined();
    await s.close();
    expect(await pending).toBe('dropped');
  });
});

/** Resolves with the first request the server records. */
function nextRecord() {
  let resolve!: (r: RecordedRequest) => void;
  const promise = new Promise<RecordedRequest>((r) => (resolve = r));
  return { promise, resolve: (r: RecordedRequest) => resolve(r) };
}
