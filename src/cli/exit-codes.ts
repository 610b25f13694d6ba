/** Every exit code the CLI uses; the README's table is written from this. */
export const EXIT = {
  /** Run completed (every selected task done and merged), or validation found no errors. */
  ok: 0,
  /** The run ended with failed, skipped or needs-attention tasks, or stopped on a failure or merge conflict. */
  runFailed: 1,
  /** Usage or input error: unknown flag, stage or milestone; invalid milestones or configuration. */
  usage: 2,
  /** The environment is not ready: not a git repository, no usable agent, leftovers from an earlier run. */
  environment: 3,
  /** Another run holds this repository's lock. */
  locked: 4,
  /** Paused on a usage limit with auto_resume off: state saved, come back later with --resume. */
  paused: 75,
  /** Interrupted by Ctrl-C (SIGINT) or SIGTERM; state saved, continue with --resume. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
