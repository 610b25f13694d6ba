import { join } from 'node:path';

export interface ClaudeTestEnvOptions {
  /** The scripted server's url, e.g. `http://127.0.0.1:40123`. */
  serverUrl: string;
  /** A fresh temporary directory used as HOME (the CLI keeps config, sessions and transcripts there). */
  home: string;
  /**
   * Authenticate as a subscription (CLAUDE_CODE_OAUTH_TOKEN) instead of with an API key. Only then does the CLI
   * read `anthropic-ratelimit-unified-*` headers and report usage limits as a `rate_limit_event` with `resetsAt`.
   */
  oauth?: boolean;
  /**
   * Keep `--permission-mode auto` working. Its safety classifier is switched off by DISABLE_TELEMETRY, DO_NOT_TRACK
   * and CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC (every action that needs it is then denied with
   * `auto_mode_no_check_in_session`), so this leaves those out. The price: the CLI also sends `HEAD /api/hello` to
   * the server and tries to resolve api.anthropic.com, which fails quickly offline.
   */
  autoMode?: boolean;
  /** CLAUDE_CODE_MAX_RETRIES (default 2: a fault that keeps failing ends the run in about 3 s, not 3 minutes). */
  maxRetries?: number;
  /** The environment to start from (default `process.env`); variables that steer the CLI are dropped (see below). */
  base?: NodeJS.ProcessEnv;
}

/** Dummy credentials: the scripted server accepts anything, and they must never be real ones. */
export const TEST_API_KEY = 'sk-test';
export const TEST_OAUTH_TOKEN = 'sk-ant-oat01-scripted-test';

/**
 * The environment for running the real `claude` CLI against a scripted server.
 *
 * - Variables from the caller's environment that steer the CLI (ANTHROPIC_*, CLAUDE_*, CLAUDECODE, DISABLE_*,
 *   DO_NOT_TRACK; e.g. when the tests themselves run inside Claude Code) are removed so a run depends only on what
 *   is set here. IS_SANDBOX passes through: it decides whether root may use --dangerously-skip-permissions.
 * - DISABLE_AUTOUPDATER and DISABLE_ERROR_REPORTING stop update checks and error reports. Unless `autoMode` is set,
 *   CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC and DISABLE_TELEMETRY stop everything else: the CLI then connects to
 *   ANTHROPIC_BASE_URL only (checked with strace; without them it looks up api.anthropic.com and sends
 *   `HEAD /api/hello`).
 * - NO_PROXY keeps a proxy configured on the machine away from the loopback server.
 * - CLAUDE_CODE_TMPDIR puts the CLI's scratch folders (`claude-<uid>/`, `cc-socks/`) under HOME instead of /tmp,
 *   so deleting HOME after a test leaves nothing behind.
 * A fresh HOME needs no onboarding file in `-p` mode: the CLI writes `~/.claude.json` itself on first start.
 */
export function claudeTestEnv(opts: ClaudeTestEnvOptions): NodeJS.ProcessEnv {
  const env = withoutClaudeVariables(opts.base ?? process.env);
  return {
    ...env,
    HOME: opts.home,
    ANTHROPIC_BASE_URL: opts.serverUrl,
    ...(opts.oauth ? { CLAUDE_CODE_OAUTH_TOKEN: TEST_OAUTH_TOKEN } : { ANTHROPIC_API_KEY: TEST_API_KEY }),
    CLAUDE_CODE_MAX_RETRIES: String(opts.maxRetries ?? 2),
    DISABLE_AUTOUPDATER: '1',
    DISABLE_ERROR_REPORTING: '1',
    ...(!opts.autoMode && { DISABLE_TELEMETRY: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' }),
    CLAUDE_CODE_TMPDIR: join(opts.home, 'tmp'),
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
  };
}

/** DO_NOT_TRACK is dropped too: like DISABLE_TELEMETRY it switches auto mode's classifier off. */
const CLAUDE_VARIABLE = /^(ANTHROPIC_|CLAUDE_|CLAUDECODE$|DO_NOT_TRACK$|DISABLE_)/;

function withoutClaudeVariables(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(base).filter(([name]) => !CLAUDE_VARIABLE.test(name)));
}
