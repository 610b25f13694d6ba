import type { ServerResponse } from 'node:http';
import { errorResponse, faultResponse, type ErrorResponse } from './faults.js';
import { sendJson, startSse } from './http-util.js';
import type { RuleBook } from './matcher.js';
import { buildMessage, ReplyError, type ApiMessage, type IdSource } from './message.js';
import { viewRequest, type RequestView } from './request-view.js';
import { sideReply } from './side.js';
import { messageFrames, messageStartFrame } from './sse.js';
import type { Fault, RecordedRequest, Reply, Usage } from './types.js';

/** What to do with one `POST /v1/messages`: the facts to record, and how to answer. */
export interface Decision extends Pick<RecordedRequest, 'outcome' | 'rule' | 'status' | 'error'> {
  respond(res: ServerResponse): void;
}

export interface MessagesContext {
  book: RuleBook;
  ids: IdSource;
  sideIds: IdSource;
}

export function decideMessages(body: unknown, ctx: MessagesContext): Decision {
  const view = viewRequest(body);
  const picked = ctx.book.pick(view);
  const outcome = picked ? 'rule' : view.side ? 'side' : 'unmatched';
  const reply: Reply = picked?.rule.reply ?? (view.side ? sideReply(view) : ctx.book.scenario.defaultReply);
  const ids = view.side ? ctx.sideIds : ctx.ids;
  const rule = picked && { index: picked.index, ...(picked.rule.name !== undefined && { name: picked.rule.name }) };
  const { outcome: override, ...decision } = answer(reply, view, ids, ctx.book.scenario.usage);
  return { ...decision, outcome: override ?? outcome, ...(rule && { rule }) };
}

type Answer = Omit<Decision, 'outcome'> & { outcome?: 'bad_request' };

function answer(reply: Reply, view: RequestView, ids: IdSource, usage: Usage): Answer {
  if (reply.kind === 'fault') return faultAnswer(reply.fault, view, ids);
  let message: ApiMessage;
  try {
    message = buildMessage(reply, view, ids, usage);
  } catch (err) {
    if (!(err instanceof ReplyError)) throw err;
    return { outcome: 'bad_request', error: err.message, ...errorAnswer(errorResponse(400, `scripted-api: ${err.message}`, ids.next('req'))) };
  }
  const requestId = ids.next('req');
  if (!view.stream) return { status: 200, respond: (res) => sendJson(res, 200, message, { 'request-id': requestId }) };
  return {
    status: 200,
    respond: (res) => {
      startSse(res, { 'request-id': requestId });
      for (const frame of messageFrames(message)) res.write(frame);
      res.end();
    },
  };
}

function faultAnswer(fault: Fault, view: RequestView, ids: IdSource): Answer {
  switch (fault.kind) {
    case 'http':
    case 'usage_limit':
      return errorAnswer(faultResponse(fault, ids.next('req')));
    case 'hang':
      // Never answer; close() drops the connection.
      return { respond: () => undefined };
    case 'stall': {
      const opening = buildMessage({ kind: 'message', toolUses: [], usage: {} }, view, ids, ZERO_USAGE);
      const requestId = ids.next('req');
      return {
        status: 200,
        respond: (res) => {
          // The stream opens and then goes quiet; the socket stays open until close().
          startSse(res, { 'request-id': requestId });
          res.write(messageStartFrame(opening));
        },
      };
    }
  }
}

function errorAnswer(response: ErrorResponse): Answer {
  return { status: response.status, respond: (res) => sendJson(res, response.status, response.body, response.headers) };
}

const ZERO_USAGE: Usage = { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
