import { appendFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorResponse } from './faults.js';
import { parseBody, readBody, redactHeaders, sendJson } from './http-util.js';
import { RuleBook } from './matcher.js';
import { IdSource } from './message.js';
import { decideMessages, type Decision } from './messages-handler.js';
import { loadScenario, parseScenario, type ScenarioInput } from './scenario.js';
import type { RecordedRequest, Scenario } from './types.js';

export interface ScriptedServerOptions {
  /** A scenario object (shorthands allowed) or the path of a YAML / JSON scenario file. */
  scenario: ScenarioInput | string;
  /** Default 0: a free port. */
  port?: number;
  /** Append every recorded request to this file as one JSON line. */
  logFile?: string;
  /** Called for every recorded request, e.g. to print unknown routes. */
  onRequest?: (request: RecordedRequest) => void;
}

export interface ScriptedServer {
  /** `http://127.0.0.1:PORT`, for ANTHROPIC_BASE_URL. */
  url: string;
  port: number;
  /** Every request so far, in arrival order. */
  requests: RecordedRequest[];
  /** Stops listening and drops every connection, including stalled and hung ones. */
  close(): Promise<void>;
  /** Replaces the scenario; rule use counts start again from zero. */
  setScenario(scenario: ScenarioInput | string): void;
}

type Route = (req: IncomingMessage, bodyText: string) => Decision;

export async function startScriptedServer(opts: ScriptedServerOptions): Promise<ScriptedServer> {
  const state = { book: new RuleBook(resolveScenario(opts.scenario)), ids: new IdSource(), sideIds: new IdSource('side_') };
  const requests: RecordedRequest[] = [];
  // Fail now, not on the first request, if the log cannot be written.
  if (opts.logFile) appendFileSync(opts.logFile, '');
  const record = (entry: RecordedRequest) => {
    requests.push(entry);
    if (opts.logFile) appendFileSync(opts.logFile, JSON.stringify(entry) + '\n');
    opts.onRequest?.(entry);
  };

  const route: Route = (req, bodyText) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method === 'POST' && path === '/v1/messages') return messagesRoute(bodyText, state);
    if (req.method === 'POST' && path === '/v1/messages/count_tokens') return countTokensRoute(bodyText);
    if ((req.method === 'HEAD' || req.method === 'GET') && path === '/api/hello') return helloRoute();
    return unknownRoute(req.method ?? '', path);
  };

  let arrivals = 0;
  const server = createServer((req, res) => {
    // A client that hangs up mid-body leaves nothing to answer.
    handle(req, res, route, record, ++arrivals).catch((err: Error) => res.destroy(err));
  });
  await listen(server, opts.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () => (closing ??= close(server)),
    setScenario: (scenario) => {
      state.book = new RuleBook(resolveScenario(scenario));
    },
  };
}

function resolveScenario(scenario: ScenarioInput | string): Scenario {
  return typeof scenario === 'string' ? loadScenario(scenario) : parseScenario(scenario);
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  route: Route,
  record: (r: RecordedRequest) => void,
  seq: number,
): Promise<void> {
  const time = new Date().toISOString();
  const bodyText = await readBody(req);
  let decision: Decision;
  try {
    decision = route(req, bodyText);
  } catch (err) {
    decision = serverError(err);
  }
  const { respond, ...facts } = decision;
  record({
    seq,
    time,
    method: req.method ?? '',
    path: req.url ?? '',
    headers: redactHeaders(req.headers),
    body: parseBody(bodyText).body,
    ...facts,
  });
  respond(res);
}

function messagesRoute(bodyText: string, state: Parameters<typeof decideMessages>[1]): Decision {
  const { body, json } = parseBody(bodyText);
  if (!json) return badRequest('the body is not JSON');
  return decideMessages(body, state);
}

/** A rough count (4 characters a token) is all the CLI needs to size its context. */
function countTokensRoute(bodyText: string): Decision {
  const tokens = Math.max(1, Math.ceil(bodyText.length / 4));
  return { outcome: 'count_tokens', status: 200, respond: (res) => sendJson(res, 200, { input_tokens: tokens }) };
}

/** The CLI's connectivity check on start-up (`HEAD /api/hello`). */
function helloRoute(): Decision {
  return { outcome: 'hello', status: 200, respond: (res) => sendJson(res, 200, { message: 'hello' }) };
}

function unknownRoute(method: string, path: string): Decision {
  const response = errorResponse(404, `scripted-api: no route for ${method} ${path}`, 'req_unknown');
  return { outcome: 'unknown_route', status: 404, respond: (res) => sendJson(res, 404, response.body) };
}

function badRequest(error: string): Decision {
  const response = errorResponse(400, `scripted-api: ${error}`, 'req_bad');
  return { outcome: 'bad_request', status: 400, error, respond: (res) => sendJson(res, 400, response.body) };
}

function serverError(err: unknown): Decision {
  const error = err instanceof Error ? err.stack ?? err.message : String(err);
  const response = errorResponse(500, `scripted-api bug: ${error}`, 'req_bug');
  return { outcome: 'server_error', status: 500, error, respond: (res) => sendJson(res, 500, response.body) };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // Loopback only: the server answers as an API with no authentication.
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    // Stalled streams and hung requests would keep close() waiting for ever.
    server.closeAllConnections();
  });
}
