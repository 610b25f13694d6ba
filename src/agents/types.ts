/**
 * The contract between the engine and one agent CLI. One adapter per CLI (Claude Code first); the engine only
 * ever sees these types.
 */

export interface AgentRunRequest {
  /** The worktree the agent works in (its cwd). */
  cwd: string;
  prompt: string;
  /** Continue this earlier session instead of starting a new one (remediation, crash-resume). */
  resumeSessionId?: string;
  model?: string;
  maxTurns?: number;
  maxBudgetUsd?: number;
  permissionMode?: string;
  allowedTools?: string[];
  disallowedTools?: string[];
  appendSystemPrompt?: string;
  /**
   * The shell may change nothing in `cwd` either (the reviewer): with the sandbox on, the working directory is
   * write-protected too. Without the sandbox the allowed tools alone keep the agent read-only.
   */
  readOnly?: boolean;
  /** Ask for structured output matching this JSON Schema (review verdicts). */
  jsonSchema?: object;
  extraArgs?: string[];
  /** Extra environment on top of the orchestrator's own. */
  env?: Record<string, string>;
  /** Whole-run limit: SIGTERM, then SIGKILL of the process group after a grace period. */
  timeoutMs?: number;
  /** No output line for this long counts as stuck: same kill sequence. */
  idleTimeoutMs?: number;
  /** Where the raw transcript (every stdout line, then stderr) is written. */
  transcriptPath: string;
  signal?: AbortSignal;
  /** Called once the agent process exists: its pid is also its process group id. */
  onSpawn?: (pid: number) => void;
  /** Called for every parsed event, for live progress (turns, tokens, last tool). */
  onProgress?: (progress: AgentProgress) => void;
}

export interface AgentProgress {
  sessionId?: string;
  turns: number;
  lastTool?: string;
  /** Running totals where the CLI reports them (the final figures come from the result). */
  costUsd?: number;
  outputTokens?: number;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
}

export interface PermissionDenial {
  toolName: string;
  toolUseId?: string;
  toolInput?: unknown;
}

/** Why a run did not succeed, as one union the engine switches over. */
export type AgentFailureKind =
  | 'usage_limit' // subscription limit: wait until resetsAt
  | 'rate_limited' // API 429/529 left after the CLI's own retries
  | 'api_error' // any other API error
  | 'auth' // not logged in / invalid key
  | 'max_turns'
  | 'budget'
  | 'permission_denied'
  | 'timeout'
  | 'idle_timeout'
  | 'aborted' // our signal
  | 'cannot_start' // the CLI could not be started at all (missing, not executable, command line too long): never retried
  | 'crashed' // non-zero exit / killed without a result line
  | 'bad_output' // no parsable result
  | 'structured_output_missing'
  | 'resume_failed'; // the session to resume does not exist

export interface AgentRunResult {
  ok: boolean;
  failure?: { kind: AgentFailureKind; message: string };
  sessionId?: string;
  exitCode: number | null;
  signal?: string;
  numTurns: number;
  costUsd: number;
  usage: TokenUsage;
  durationMs: number;
  isError: boolean;
  subtype?: string;
  terminalReason?: string;
  apiErrorStatus?: number | null;
  permissionDenials: PermissionDenial[];
  /** The final text (`result`). */
  resultText?: string;
  structuredOutput?: unknown;
  /** Epoch milliseconds when a usage limit resets, when the CLI said so. */
  resetsAt?: number;
  /** Shell actions the sandbox refused (writes outside the worktree, blocked hosts): tool errors the agent saw. */
  sandboxRefusals?: number;
  /** Lines that were not JSON (kept in the transcript, counted here). */
  malformedLines: number;
  /** The CLI's `errors[]` (the error_* subtypes carry these instead of `result`). */
  errors?: string[];
  /** The run's stderr (tail, secrets redacted), when there was any. */
  stderr?: string;
  /** Problems that did not decide the outcome (transcript write errors, a throwing onProgress). */
  warnings?: string[];
}

export interface AgentAvailability {
  ok: boolean;
  /** The executable and leading args that will be run. */
  command?: string[];
  version?: string;
  /** Where the credentials come from (an env var name or a file path); never the secret itself. */
  credentialSource?: string;
  /** What is wrong and how to fix it, when not ok. */
  problem?: string;
}

export interface AgentAdapter {
  readonly name: string;
  /** Cheap check before a run creates anything: is the CLI there, does it start, are there credentials. */
  preflight(env: NodeJS.ProcessEnv): Promise<AgentAvailability>;
  run(request: AgentRunRequest): Promise<AgentRunResult>;
  /**
   * The successful result an earlier run left in its transcript (the orchestrator died before recording it), or
   * undefined when the transcript holds none. Optional: without it an interrupted call is always continued.
   */
  recover?(transcriptPath: string, opts: { expectStructuredOutput: boolean }): AgentRunResult | undefined;
  /**
   * The settings a person must pass (`claude --resume <id> --settings <file>`) to continue a worker's session by
   * hand in `cwd` (its worktree, absolute) under the same sandbox as the run: the JSON the run passes per call.
   * Undefined (or absent) when the run adds no settings (no sandbox).
   */
  handSettings?(cwd: string): object | undefined;
}
