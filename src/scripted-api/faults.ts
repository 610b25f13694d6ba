import type { Fault } from './types.js';

/** An error answer ready to send. `stall` and `hang` are not here: they are about what the server does not send. */
export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: { type: 'error'; error: { type: string; message: string }; request_id: string };
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

const DEFAULT_MESSAGES: Record<number, string> = {
  400: 'scripted invalid request',
  401: 'invalid x-api-key',
  403: 'Your API key does not have permission to use the specified resource.',
  404: 'Not found',
  413: 'Request exceeds the maximum allowed number of bytes.',
  429: 'Number of request tokens has exceeded your per-minute rate limit',
  500: 'Internal server error',
  529: 'Overloaded',
};

export function errorResponse(status: number, message: string | undefined, requestId: string): ErrorResponse {
  return {
    status,
    headers: { 'request-id': requestId },
    body: {
      type: 'error',
      error: { type: ERROR_TYPES[status] ?? 'api_error', message: message ?? DEFAULT_MESSAGES[status] ?? `HTTP ${status}` },
      request_id: requestId,
    },
  };
}

/** The answer for an `http` or `usage_limit` fault. `nowMs` is injectable so header values can be tested. */
export function faultResponse(
  fault: Extract<Fault, { kind: 'http' | 'usage_limit' }>,
  requestId: string,
  nowMs = Date.now(),
): ErrorResponse {
  if (fault.kind === 'usage_limit') {
    const resetsAt = fault.resetsAt ?? (fault.resetsIn !== undefined ? Math.ceil(nowMs / 1000) + fault.resetsIn : Math.round(nowMs / 1000) + 3600);
    const response = errorResponse(429, "This request would exceed your account's rate limit. Please try again later.", requestId);
    return { ...response, headers: { ...response.headers, ...unifiedHeaders(fault.limitType, resetsAt) } };
  }
  const response = errorResponse(fault.status, fault.bodyMessage, requestId);
  const headers = { ...response.headers };
  if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
  if (fault.ratelimitHeaders) Object.assign(headers, rateLimitHeaders(nowMs, fault.retryAfter ?? 60));
  return { ...response, headers };
}

/**
 * Subscription (OAuth) limit headers, as found by experiment with claude 2.1.330 under CLAUDE_CODE_OAUTH_TOKEN:
 * - any 429 yields a `rate_limit_event` with status "rejected"; `resetsAt` comes from `-reset`;
 * - what makes it a usage limit (no retry, `api_error: "usage_limit_reached"`, "You've hit your 5-hour limit") is
 *   the `-representative-claim` header, which also gives `rateLimitType`; `-status` alone does not;
 * - the per-window `-5h-*` / `-7d-*` headers fill `unifiedWindows`.
 * With an API key all of these are ignored and the 429 is retried like any other.
 */
export function unifiedHeaders(limitType: 'five_hour' | 'seven_day', resetsAt: number): Record<string, string> {
  const window = limitType === 'five_hour' ? '5h' : '7d';
  return {
    'anthropic-ratelimit-unified-status': 'rejected',
    'anthropic-ratelimit-unified-reset': String(resetsAt),
    'anthropic-ratelimit-unified-representative-claim': limitType,
    [`anthropic-ratelimit-unified-${window}-status`]: 'rejected',
    [`anthropic-ratelimit-unified-${window}-utilization`]: '1.0',
    [`anthropic-ratelimit-unified-${window}-reset`]: String(resetsAt),
  };
}

/** The API-key rate limit headers of a real 429: everything used up until `retryAfter` seconds from now. */
function rateLimitHeaders(nowMs: number, retryAfterSeconds: number): Record<string, string> {
  const reset = new Date(nowMs + retryAfterSeconds * 1000).toISOString();
  const headers: Record<string, string> = {};
  for (const [kind, limit] of [
    ['requests', '50'],
    ['tokens', '100000'],
    ['input-tokens', '80000'],
    ['output-tokens', '20000'],
  ] as const) {
    headers[`anthropic-ratelimit-${kind}-limit`] = limit;
    headers[`anthropic-ratelimit-${kind}-remaining`] = '0';
    headers[`anthropic-ratelimit-${kind}-reset`] = reset;
  }
  return headers;
}
