import type { StreamState } from './events.js';
import { epochToMs } from './json.js';

/**
 * Recognises a subscription usage limit, the one failure worth waiting out rather than retrying.
 *
 * Observed forms (claude-code-headless.md §3):
 * - OAuth: a `rate_limit_event` with status "rejected" and `resetsAt` (epoch seconds), a synthetic assistant message
 *   with `api_error: "usage_limit_reached"` and `api_error_params.rate_limit_info.resetsAt`, and the result text
 *   "You've hit your 5-hour limit · resets 2:55pm (UTC)".
 * - API key: the server body echoed as "… Claude AI usage limit reached|1795444951" (epoch after the bar).
 */

export interface UsageLimit {
  /** Epoch milliseconds, when known. */
  resetsAt?: number;
  /** The limit window, e.g. five_hour, when the CLI said. */
  limitType?: string;
  /** The CLI's own words. */
  text?: string;
}

const HIT_LIMIT = /You[’']ve hit your [^·\n]*limit/i;
const LIMIT_WITH_EPOCH = /usage limit reached\|(\d{9,13})/i;
const LIMIT_PLAIN = /usage limit reached/i;

export function detectUsageLimit(state: StreamState, now: number): UsageLimit | undefined {
  const texts = candidateTexts(state);
  const text = texts.find((t) => HIT_LIMIT.test(t) || LIMIT_PLAIN.test(t));
  const fromEvent = state.rateLimitRejected;
  const apiError = state.lastApiError;
  const flagged =
    fromEvent !== undefined ||
    apiError?.apiError === 'usage_limit_reached' ||
    state.result?.apiError === 'usage_limit_reached' ||
    text !== undefined;
  if (!flagged) return undefined;
  return {
    resetsAt: fromEvent?.resetsAt ?? apiError?.resetsAt ?? resetsFromText(texts, now),
    limitType: fromEvent?.rateLimitType,
    text,
  };
}

function candidateTexts(state: StreamState): string[] {
  const out = [state.result?.resultText, state.lastApiError?.text, ...(state.result?.errors ?? [])];
  return out.filter((t): t is string => t !== undefined && t !== '');
}

function resetsFromText(texts: string[], now: number): number | undefined {
  for (const t of texts) {
    const epoch = LIMIT_WITH_EPOCH.exec(t);
    if (epoch) return epochToMs(Number(epoch[1]));
    const clock = parseUtcResetClock(t, now);
    if (clock !== undefined) return clock;
  }
  return undefined;
}

const RESET_CLOCK = /resets\s+(\d{1,2})(?::(\d{2}))?\s*(am|pm)\s*\(UTC\)/i;

/**
 * "resets 2:55pm (UTC)" to the next such moment after `now`. Only UTC is understood: other time zones would need a
 * tz database, and the rate_limit_event carries the exact epoch anyway.
 */
export function parseUtcResetClock(text: string, now: number): number | undefined {
  const m = RESET_CLOCK.exec(text);
  if (!m) return undefined;
  const hour12 = Number(m[1]);
  const minute = m[2] === undefined ? 0 : Number(m[2]);
  if (hour12 < 1 || hour12 > 12 || minute > 59) return undefined;
  const hour = (hour12 % 12) + (m[3]!.toLowerCase() === 'pm' ? 12 : 0);
  const d = new Date(now);
  let at = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), hour, minute);
  if (at <= now) at += 24 * 60 * 60 * 1000;
  return at;
}
