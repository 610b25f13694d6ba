import { createRedactor } from '../agents/redact.js';
import type { LogLevel } from '../report/logger.js';
import type { RunEvent } from '../run/events.js';
import type { RunState } from '../state/run-state.js';
import { LiveView, localClock, showAboveBlock, styler, wantsColor, type LiveTerminal } from './live-view.js';
import { NdjsonWriter, redactStrings, runFinishedFrom } from './ndjson.js';
import { terminalSafe } from './terminal-safe.js';

/**
 * How a run talks to its terminal:
 * - `json`  (`--json`): NDJSON events on stdout, everything for people on stderr (see ndjson.ts).
 * - `live`  (stdout is a TTY, not CI, TERM is not dumb): the live view (live-view.ts) on stdout, log lines worth
 *   reading printed above it, the summary below it at the end.
 * - `plain` (anything else: a pipe, a file, CI): one timestamped line per log line, info on stdout, warnings and
 *   errors on stderr, then the summary. Events are not shown.
 */
export type OutputMode = 'json' | 'live' | 'plain';

/**
 * How much of the log reaches the terminal (the log file keeps `logging.level` either way):
 * - `quiet` (`--quiet`): warnings, errors and the final summary; no live view, no finished-task lines.
 * - `normal`: the live view with the lines worth reading above it, or every info line in plain mode.
 * - `verbose` (`--verbose`): every line down to debug, per-task detail included, also above the live view.
 */
export type Verbosity = 'quiet' | 'normal' | 'verbose';

/** Whether a log line of `level` reaches the terminal at `verbosity` (before the live view's own choice). */
export function shownAt(verbosity: Verbosity, level: LogLevel): boolean {
  switch (verbosity) {
    case 'quiet':
      return level === 'warn' || level === 'error';
    case 'normal':
      return level !== 'debug';
    case 'verbose':
      return true;
    default: {
      const never: never = verbosity;
      return never;
    }
  }
}

/** CI=true (or any value other than empty, `0` or `false`) means a log, not a screen, is reading. */
export function isCi(env: NodeJS.ProcessEnv): boolean {
  const ci = env.CI?.trim().toLowerCase();
  return ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false';
}

export function chooseOutputMode(opts: { json: boolean; isTTY: boolean; env: NodeJS.ProcessEnv }): OutputMode {
  if (opts.json) return 'json';
  if (!opts.isTTY || isCi(opts.env) || opts.env.TERM === 'dumb') return 'plain';
  return 'live';
}

export interface RunOutput {
  readonly mode: OutputMode;
  /** The logger's echo. */
  echo: (level: LogLevel, line: string) => void;
  /** The engine's event sink (absent in plain mode: nothing shows events there). */
  onEvent?: (event: RunEvent) => void;
  /** Text for people that would go to stdout (the summary, "nothing to run"); stderr in json mode. */
  info: (text: string) => void;
  /** Text for people on stderr (errors, the Ctrl-C notice), printed above the live block when there is one. */
  error: (text: string) => void;
  /** The run is over: a final `run_finished` if the engine sent none, the live block drawn one last time and left. */
  finish: (state?: RunState) => void;
}

export interface OutputIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

/**
 * `terminal` is the stream stdout writes to (process.stdout): the live view draws on it when it is a TTY, in colour
 * unless NO_COLOR is set, with a bell / OSC 9 notification when a task needs attention and when the run ends.
 */
export function createRunOutput(opts: { json: boolean; io: OutputIo; terminal?: LiveTerminal & { isTTY?: boolean }; now?: () => number; verbosity?: Verbosity }): RunOutput {
  const { io } = opts;
  const verbosity = opts.verbosity ?? 'normal';
  const chosen = chooseOutputMode({ json: opts.json, isTTY: opts.terminal?.isTTY === true, env: io.env });
  // Quiet on a terminal is quiet: no block redrawing under the warnings.
  const mode = chosen === 'live' && verbosity === 'quiet' ? 'plain' : chosen;
  // The same rules as the log file and the transcripts.
  const redact = createRedactor(io.env);
  // Local time, as the run id and the user's clock.
  const stamp = (line: string) => `${localClock(Date.now())} ${terminalSafe(redact(line))}\n`;
  const info = (text: string) => io.stdout(terminalSafe(text));
  const error = (text: string) => io.stderr(terminalSafe(text));

  if (mode === 'json') {
    const writer = new NdjsonWriter(io.stdout, redact);
    return {
      mode,
      echo: (level, line) => {
        if (level === 'debug') return;
        // The event stream is for tools and always complete; the people's copy on stderr follows --quiet.
        if (shownAt(verbosity, level)) io.stderr(stamp(line));
        writer.log(level, line);
      },
      onEvent: (event) => writer.event(event),
      info: (text) => io.stderr(terminalSafe(text)),
      error,
      finish: (state) => {
        if (state && !writer.done) writer.event(runFinishedFrom(state));
      },
    };
  }

  if (mode === 'live' && opts.terminal) {
    const color = wantsColor(io.env);
    const style = styler(color);
    const view = new LiveView(opts.terminal, { ...(opts.now ? { now: opts.now } : {}), color, notify: true });
    let sawFinish = false;
    return {
      mode,
      echo: (level, line) => {
        if (verbosity === 'verbose' ? !shownAt(verbosity, level) : !showAboveBlock(level, line)) return;
        view.print(level === 'info' || level === 'debug' ? io.stdout : io.stderr, style.level(level, stamp(line).trimEnd()) + '\n');
      },
      onEvent: (event) => {
        if (event.type === 'run_finished') sawFinish = true;
        view.event(redactStrings(event, redact));
      },
      info,
      error: (text) => view.print(io.stderr, terminalSafe(text)),
      finish: (state) => {
        if (state && !sawFinish && view.view.runId !== undefined) view.event(redactStrings(runFinishedFrom(state), redact));
        view.stop();
      },
    };
  }

  // Plain: what the logger's echo always did.
  return {
    mode: 'plain',
    echo: (level, line) => {
      if (!shownAt(verbosity, level)) return;
      (level === 'info' || level === 'debug' ? io.stdout : io.stderr)(stamp(line));
    },
    info,
    error,
    finish: () => undefined,
  };
}
