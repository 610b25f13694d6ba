import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { idleWatchFor } from '../../util/activity.js';
import { runProcessGroup, type ProcessGroupResult } from '../../util/process.js';
import { createRedactor, type Redactor } from '../redact.js';
import { TranscriptWriter } from '../transcript.js';
import type { AgentAdapter, AgentAvailability, AgentRunRequest, AgentRunResult, PermissionDenial } from '../types.js';
import { buildClaudeArgs, buildClaudeEnv } from './args.js';
import { findCredentialSource } from './credentials.js';
import { consumeLine, createStreamState, emptyUsage, progressOf, type StreamState } from './events.js';
import { sandboxSettings, type SandboxPolicy } from './sandbox.js';
import { decideOutcome, type Failure, type Outcome } from './outcome.js';
import { recoverClaudeResult } from './recover.js';
import { commandLabel, describeSearch, resolveClaudeCommand, type ResolvedCommand } from './resolve.js';

export interface ClaudeAdapterOptions {
  /** Explicit executable and leading args (config `agent.command`). */
  command?: string[];
  /** The orchestrator's package root, to find its pinned node_modules/.bin/claude. Found automatically if omitted. */
  projectRoot?: string;
  /** Between SIGTERM and SIGKILL of the process group. Default 5 s: Claude Code needs ~0.2 s to stop its tools. */
  killGraceMs?: number;
  /** Limit for `--version` in preflight. Default 30 s: start-up is CPU-bound and slows down when agents are busy. */
  versionTimeoutMs?: number;
  /** Whether we run as root (decides IS_SANDBOX for bypassPermissions). Defaults to the real uid. */
  isRoot?: boolean;
  /** Run every agent's shell in Claude Code's sandbox with this policy (see sandbox.ts); absent = no sandbox. */
  sandbox?: SandboxPolicy;
}

const DEFAULT_KILL_GRACE_MS = 5_000;
const DEFAULT_VERSION_TIMEOUT_MS = 30_000;

const INSTALL_HINT = 'Install it with `npm i -g @anthropic-ai/claude-code`, or set `agent.command` in the config.';
const LOGIN_HINT =
  'Run `claude` and then `/login` (subscription), or set ANTHROPIC_API_KEY (or CLAUDE_CODE_OAUTH_TOKEN from ' +
  '`claude setup-token`) in the environment the orchestrator runs in.';

export function createClaudeAdapter(opts: ClaudeAdapterOptions = {}): AgentAdapter {
  return {
    name: 'claude',
    preflight: (env) => preflight(opts, env),
    run: (req) => runClaude(opts, req),
    handSettings: (cwd) => (opts.sandbox ? sandboxSettings(opts.sandbox, { cwd, readOnly: false }) : undefined),
    recover: (transcriptPath, o) => recoverClaudeResult(transcriptPath, o),
  };
}

// ---- preflight ---------------------------------------------------------------------------------------------------

async function preflight(opts: ClaudeAdapterOptions, env: NodeJS.ProcessEnv): Promise<AgentAvailability> {
  const cmd = resolveClaudeCommand(opts, env);
  if (!cmd) return { ok: false, problem: `Claude Code CLI not found (looked for ${describeSearch(opts)}). ${INSTALL_HINT}` };
  const command = [cmd.file, ...cmd.args];
  const probe = await probeVersion(cmd, env, opts.versionTimeoutMs ?? DEFAULT_VERSION_TIMEOUT_MS);
  if ('problem' in probe) return { ok: false, command, problem: probe.problem };
  const credentialSource = findCredentialSource(env);
  if (!credentialSource) {
    return { ok: false, command, version: probe.version, problem: `Claude Code has no credentials. ${LOGIN_HINT}` };
  }
  return { ok: true, command, version: probe.version, credentialSource };
}

async function probeVersion(
  cmd: ResolvedCommand,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ version: string } | { problem: string }> {
  const label = `${commandLabel(cmd)} --version`;
  const r = await execa(cmd.file, [...cmd.args, '--version'], {
    env,
    extendEnv: false,
    stdin: 'ignore',
    reject: false,
    timeout: timeoutMs,
  });
  if (r.code === 'ENOENT' || r.code === 'EACCES') {
    return { problem: `\`${commandLabel(cmd)}\` could not be started (${r.code}). ${INSTALL_HINT}` };
  }
  if (r.timedOut) return { problem: `\`${label}\` did not answer within ${timeoutMs / 1000}s. Check that it is Claude Code.` };
  const out = String(r.stdout ?? '').trim();
  const version = /\d+\.\d+\.\d+\S*/.exec(out)?.[0];
  if (r.exitCode !== 0 || !version) {
    const said = [out, String(r.stderr ?? '').trim()].filter(Boolean).join(' / ').slice(0, 300);
    return { problem: `\`${label}\` failed (exit ${r.exitCode ?? r.signal ?? '?'})${said ? `: ${said}` : ''}. ${INSTALL_HINT}` };
  }
  return { version };
}

// ---- run ---------------------------------------------------------------------------------------------------------

async function runClaude(opts: ClaudeAdapterOptions, req: AgentRunRequest): Promise<AgentRunResult> {
  const startedAt = Date.now();
  const isRoot = opts.isRoot ?? process.getuid?.() === 0;
  const env = { ...process.env, ...buildClaudeEnv(req, isRoot) };
  const redact = createRedactor(env);
  const prepared = prepare(opts, req, env, redact);
  if ('failure' in prepared) return resultBeforeStart(req, startedAt, prepared.failure);
  const { cmd, args, transcript } = prepared;
  const killGraceMs = opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const state = createStreamState();
  const warnings: string[] = [];
  const idleWatch = req.idleTimeoutMs !== undefined ? idleWatchFor(req.cwd) : undefined;
  try {
    const proc = await runProcessGroup({
      file: cmd.file,
      args,
      // The prompt goes on standard input, never on the command line (see buildClaudeArgs).
      input: req.prompt,
      cwd: req.cwd,
      env,
      timeoutMs: req.timeoutMs,
      idleTimeoutMs: req.idleTimeoutMs,
      // Claude Code prints nothing while a shell tool runs: a build's CPU or its files in the worktree are signs of life too.
      ...(idleWatch ? { idleWatch } : {}),
      signal: req.signal,
      killGraceMs,
      ...(req.onSpawn ? { onSpawn: req.onSpawn } : {}),
      onStdoutLine: (line) => {
        transcript.line(line);
        if (consumeLine(state, line) !== undefined) notifyProgress(req, state, warnings);
      },
    });
    transcript.stderr(proc.stderr);
    if (transcript.error) warnings.push(`transcript ${req.transcriptPath} is incomplete: ${transcript.error.message}`);
    const outcome = decideOutcome({
      state,
      exitCode: proc.exitCode,
      signal: proc.signal,
      killReason: proc.killReason,
      started: proc.started,
      stderr: proc.stderr,
      spawnError: proc.spawnError,
      expectStructuredOutput: req.jsonSchema !== undefined,
      resumeSessionId: req.resumeSessionId,
      timeoutMs: req.timeoutMs,
      idleTimeoutMs: req.idleTimeoutMs,
      idleWatched: { cpu: idleWatch?.cpu !== undefined, worktree: idleWatch?.newestChange !== undefined },
      killGraceMs,
      commandLabel: commandLabel(cmd),
      now: Date.now(),
      sandboxed: opts.sandbox !== undefined,
    });
    return buildResult({ req, state, proc, outcome, redact, warnings, startedAt });
  } finally {
    transcript.close();
  }
}

type Prepared = { cmd: ResolvedCommand; args: string[]; transcript: TranscriptWriter } | { failure: Failure };

/** Everything that can fail before a process exists, as a failure rather than an exception. */
function prepare(opts: ClaudeAdapterOptions, req: AgentRunRequest, env: NodeJS.ProcessEnv, redact: Redactor): Prepared {
  const cmd = resolveClaudeCommand(opts, env);
  if (!cmd) return { failure: { kind: 'cannot_start', message: `Claude Code CLI not found (looked for ${describeSearch(opts)}). ${INSTALL_HINT}` } };
  if (!existsSync(req.cwd)) {
    return { failure: { kind: 'crashed', message: `The agent's working directory ${req.cwd} does not exist (was the worktree removed?).` } };
  }
  let args: string[];
  try {
    args = [...cmd.args, ...buildClaudeArgs(req, opts.sandbox)];
  } catch (err) {
    return { failure: { kind: 'crashed', message: `Invalid agent settings: ${(err as Error).message}.` } };
  }
  try {
    return { cmd, args, transcript: TranscriptWriter.open(req.transcriptPath, redact) };
  } catch (err) {
    return {
      failure: {
        kind: 'crashed',
        message: `Could not create the transcript ${req.transcriptPath}: ${(err as Error).message}. Check that the run directory is writable.`,
      },
    };
  }
}

function notifyProgress(req: AgentRunRequest, state: StreamState, warnings: string[]): void {
  if (!req.onProgress) return;
  try {
    req.onProgress(progressOf(state));
  } catch (err) {
    // A broken progress display must not break the run; report it once.
    if (!warnings.some((w) => w.startsWith('onProgress'))) warnings.push(`onProgress threw: ${(err as Error).message}`);
  }
}

interface ResultParts {
  req: AgentRunRequest;
  state: StreamState;
  proc: ProcessGroupResult;
  outcome: Outcome;
  redact: Redactor;
  warnings: string[];
  startedAt: number;
}

function buildResult({ req, state, proc, outcome, redact, warnings, startedAt }: ResultParts): AgentRunResult {
  const r = state.result;
  const failure = outcome.failure ? { kind: outcome.failure.kind, message: redact(outcome.failure.message) } : undefined;
  if (proc.listenerError) warnings.push(`stdout handler threw: ${(proc.listenerError as Error).message}`);
  return {
    ok: outcome.ok,
    failure,
    // A run killed before init still belongs to the session it resumed; a session that does not exist does not.
    sessionId: state.sessionId ?? (failure?.kind === 'resume_failed' ? undefined : req.resumeSessionId),
    exitCode: proc.exitCode,
    signal: proc.signal,
    numTurns: r?.numTurns ?? state.turns,
    costUsd: r?.totalCostUsd ?? 0,
    usage: r?.usage ?? emptyUsage(),
    durationMs: Date.now() - startedAt,
    isError: r?.isError ?? true,
    subtype: r?.subtype,
    terminalReason: r?.terminalReason,
    apiErrorStatus: r?.apiErrorStatus,
    permissionDenials: r?.permissionDenials ?? deniedFromEvents(state),
    resultText: r?.resultText === undefined ? undefined : redact(r.resultText),
    structuredOutput: r?.structuredOutput,
    resetsAt: outcome.resetsAt,
    sandboxRefusals: state.sandboxRefusals,
    malformedLines: state.malformedLines,
    errors: r?.errors.length ? r.errors.map(redact) : undefined,
    stderr: proc.stderr ? redact(proc.stderr) : undefined,
    warnings: warnings.length ? warnings.map(redact) : undefined,
  };
}

function deniedFromEvents(state: StreamState): PermissionDenial[] {
  return state.permissionDenied.map((d) => ({ toolName: d.toolName ?? 'unknown', toolUseId: d.toolUseId }));
}

function resultBeforeStart(req: AgentRunRequest, startedAt: number, failure: Failure): AgentRunResult {
  return {
    ok: false,
    failure,
    sessionId: req.resumeSessionId,
    exitCode: null,
    numTurns: 0,
    costUsd: 0,
    usage: emptyUsage(),
    durationMs: Date.now() - startedAt,
    isError: true,
    permissionDenials: [],
    sandboxRefusals: 0,
    malformedLines: 0,
  };
}
