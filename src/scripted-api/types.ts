/**
 * Normalised scenario types: what the server works with after `parseScenario` has expanded every shorthand
 * (`reply: "text"`, `fault: 429`, `verdict: approve`, ...). The accepted input forms are in README.md.
 */

/** Substring (case-sensitive) or regular expression test on a piece of request text. */
export type TextMatcher = { substring: string } | { regex: RegExp };

export interface RuleMatch {
  /** Text of the last `user` message (text blocks and tool_result contents, system reminders removed). */
  lastUser?: TextMatcher;
  /** Text of every user and assistant message, tool_use inputs as JSON. */
  conversation?: TextMatcher;
  /** The system prompt plus any `role: "system"` messages (where the CLI puts its environment block). */
  system?: TextMatcher;
  model?: TextMatcher;
  /** Number of assistant messages already in `messages`. */
  turn?: number;
  /** Name of a tool the request must offer, e.g. `StructuredOutput`. */
  toolOffered?: string;
  /** Match the CLI's side requests (classifiers, probes) instead of the agent's own turns. */
  side: boolean;
}

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export interface ToolUseSpec {
  name: string;
  input: Record<string, unknown>;
}

export interface MessageReply {
  kind: 'message';
  text?: string;
  toolUses: ToolUseSpec[];
  /** Input for a `StructuredOutput` tool call (sent as plain JSON text when the request offers no such tool). */
  structuredOutput?: Record<string, unknown>;
  usage: Partial<Usage>;
}

export type Fault =
  | { kind: 'http'; status: number; retryAfter?: number; ratelimitHeaders: boolean; bodyMessage?: string }
  | { kind: 'stall' }
  | { kind: 'hang' }
  /** `resetsAt`: epoch seconds; `resetsIn`: seconds after the fault is sent (for a reset a few seconds ahead). */
  | { kind: 'usage_limit'; resetsAt?: number; resetsIn?: number; limitType: 'five_hour' | 'seven_day' };

export interface FaultReply {
  kind: 'fault';
  fault: Fault;
}

export type Reply = MessageReply | FaultReply;

export interface Rule {
  name?: string;
  match: RuleMatch;
  /** How many times the rule may fire; unlimited when absent. */
  times?: number;
  reply: Reply;
}

export interface Scenario {
  rules: Rule[];
  /** Answer to main requests no rule matched (default: the text "done"). */
  defaultReply: MessageReply;
  /** Usage numbers for replies that do not set their own. */
  usage: Usage;
}

/** What the server did with a request, for assertions. */
export type RequestOutcome =
  | 'rule' // a scenario rule answered
  | 'unmatched' // a main request no rule matched: answered with the default reply
  | 'side' // a side request (classifier, probe) answered with a cheap default
  | 'count_tokens'
  | 'hello'
  | 'unknown_route'
  | 'bad_request' // unparsable body or a reply the server could not build (e.g. {{cwd}} with no cwd)
  | 'server_error'; // a bug in this server: answered 500

export interface RecordedRequest {
  seq: number;
  /** ISO timestamp of arrival. */
  time: string;
  method: string;
  /** Path with query string, e.g. `/v1/messages?beta=true`. */
  path: string;
  /** Lower-case header names; credential values replaced by `[redacted]`. */
  headers: Record<string, string>;
  /** Parsed JSON body, the raw text when it is not JSON, or null when empty. */
  body: unknown;
  outcome: RequestOutcome;
  /** The rule that answered, when `outcome` is `rule` (index into `scenario.rules`). */
  rule?: { index: number; name?: string };
  /** The HTTP status sent (absent for `hang`). */
  status?: number;
  /** Why the request was rejected, for `bad_request`. */
  error?: string;
}
