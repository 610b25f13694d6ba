import type { CommitResult } from '../git/commit.js';

type HookFailure = Extract<CommitResult, { kind: 'hook_failed' }>;

/**
 * Why a commit hook did not let the commit through, as one clause ("the pre-commit hook …"): refused (with its exit
 * code), stopped at its time limit (seconds), interrupted, or killed from outside. Never "exit ?": a hook that was
 * stopped has no exit code of its own. Said to the agent as well, so it holds no advice meant for the user.
 */
export function describeHookFailure(h: HookFailure): string {
  switch (h.stopped?.by) {
    case 'timeout':
      return `the ${h.hook} hook did not finish within ${h.stopped.afterS} s and was stopped, with everything it started`;
    case 'interrupt':
      return `the ${h.hook} hook was interrupted before it finished`;
    case 'protected':
      return `the ${h.hook} hook staged ${h.stopped.paths.join(', ')}, which no agent, check or hook may change (Claude Code would run what they name outside the sandbox); nothing it staged was kept`;
    case undefined:
      return h.exitCode === undefined ? `the ${h.hook} hook was killed before it finished` : `the ${h.hook} hook refused the commit (exit ${h.exitCode})`;
    default: {
      const never: never = h.stopped;
      return String(never);
    }
  }
}

/**
 * The same for the run's log, with what the user can do: a hook that runs out of time gets `checks.timeout`
 * (a hook gets a check's time limit), so that is the setting to raise, or the hook to make faster.
 */
export function hookFailureLogLine(h: HookFailure): string {
  const what = describeHookFailure(h);
  if (h.stopped?.by === 'timeout') return `${what}; the work stays staged, the agent is told. Make the hook faster, or raise checks.timeout (now ${h.stopped.afterS} s: hooks get a check's time limit)`;
  return what;
}
