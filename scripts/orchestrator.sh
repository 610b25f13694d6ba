#!/bin/sh
# orchestrator.sh - runs milestone-orchestrator on the git repository in the current directory.
#
# It finds the orchestrator through its own path (symlinks followed), so it can be called from anywhere; the
# repository it works on is the current directory, passed as --cwd "$PWD", unless you give --cwd yourself.
# POSIX sh on purpose: the same file runs under bash, dash, zsh's sh mode, macOS and Git Bash on Windows.

set -u

# Exit codes shared with orchestrate: 2 usage error, 3 environment not ready, 75 paused on a usage limit.
EXIT_USAGE=2
EXIT_ENVIRONMENT=3
EXIT_PAUSED=75

usage() {
  cat <<EOF
Usage: orchestrator.sh <command> [orchestrate flags...]

Commands:
  setup      install dependencies and build (checks Node.js >= 20.12 and git)
  run        run the milestones; after a usage-limit pause (exit 75) wait for the reset, then --resume
  single     one run without auto-resume (AUTO_RESUME=false): a usage limit saves the state and exits 75
  status     what the last run did, and the orchestrator's worktrees on disk
  clean      remove the orchestrator's worktrees (--merged by default; --all, --force)
  validate   check milestones and configuration and print the plan; changes nothing
  help       this text
  (none)     an interactive menu

Flags pass through, e.g.  orchestrator.sh run --stage 1   orchestrator.sh status --json
The repository is the current directory unless --cwd <dir> is given.
'orchestrator.sh run --help' shows every run flag.

Environment:
  ORCHESTRATOR_RESUME_WAIT  seconds 'run' waits before resuming when the pause has no known end (default 300)
  ORCHESTRATE_JS            the orchestrate entry point to use (default: <project>/dist/cli/bin.js)
EOF
}

say() {
  printf '%s\n' "$*" >&2
}

# The project is the folder above this script's own (real) folder.
locate_project() {
  self=$0
  while [ -L "$self" ]; do
    link=$(readlink "$self")
    case $link in
      /*) self=$link ;;
      *) self=$(dirname "$self")/$link ;;
    esac
  done
  CDPATH='' cd -- "$(dirname -- "$self")/.." && pwd -P
}

PROJECT_DIR=$(locate_project) || { say "error: cannot find the orchestrator's folder from $0"; exit "$EXIT_ENVIRONMENT"; }
CLI=${ORCHESTRATE_JS:-$PROJECT_DIR/dist/cli/bin.js}

# --- the flags that name the repository and the configuration, kept for status and resume calls ---

HAS_CWD=0
CWD_VAL=
CONFIG_VAL=

scan_args() {
  while [ $# -gt 0 ]; do
    case $1 in
      --cwd) HAS_CWD=1; CWD_VAL=${2-} ;;
      --cwd=*) HAS_CWD=1; CWD_VAL=${1#--cwd=} ;;
      --config) CONFIG_VAL=${2-} ;;
      --config=*) CONFIG_VAL=${1#--config=} ;;
    esac
    shift
  done
}

# orchestrate <args>, on the current directory's repository unless the user named one.
cli() {
  if [ "$HAS_CWD" = 1 ]; then
    node "$CLI" "$@"
  else
    node "$CLI" "$@" --cwd "$PWD"
  fi
}

# orchestrate <args> with only the user's --config and --cwd added: for the calls the wrapper makes itself.
cli_same_target() {
  if [ -n "$CONFIG_VAL" ]; then set -- "$@" --config "$CONFIG_VAL"; fi
  if [ "$HAS_CWD" = 1 ]; then set -- "$@" --cwd "$CWD_VAL"; fi
  cli "$@"
}

# --- prerequisites ---

require_node() {
  if ! command -v node >/dev/null 2>&1; then
    say "error: Node.js is not installed; milestone-orchestrator needs Node.js 20.12 or later (https://nodejs.org)"
    return 1
  fi
  if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 12) ? 0 : 1)'; then
    say "error: Node.js $(node --version) is too old; milestone-orchestrator needs 20.12 or later"
    return 1
  fi
}

require_git() {
  if ! command -v git >/dev/null 2>&1; then
    say "error: git is not installed; milestone-orchestrator needs git 2.15 or later"
    return 1
  fi
}

require_built() {
  require_node || return "$EXIT_ENVIRONMENT"
  if [ ! -f "$CLI" ]; then
    say "error: the orchestrator is not built yet ($CLI is missing)"
    say "  hint: run: $0 setup"
    return "$EXIT_ENVIRONMENT"
  fi
}

# --- commands ---

cmd_setup() {
  require_node || return "$EXIT_ENVIRONMENT"
  require_git || return "$EXIT_ENVIRONMENT"
  say "Installing dependencies and building in $PROJECT_DIR ..."
  (cd "$PROJECT_DIR" && npm ci --no-audit --no-fund && npm run build) || return
  say "Ready. In your repository run: $0 validate, then $0 run"
}

cmd_run() {
  cli "$@"
  rc=$?
  while [ "$rc" -eq "$EXIT_PAUSED" ]; do
    wait_for_reset || return "$rc"
    say "orchestrator.sh: resuming the paused run"
    cli_same_target --resume
    rc=$?
  done
  return "$rc"
}

cmd_single() {
  (AUTO_RESUME=false && export AUTO_RESUME && cli "$@")
}

# Sleeps until the usage limit resets: the run recorded when (status --json: pause.until), plus a margin.
wait_for_reset() {
  reset=$(cli_same_target status --json 2>/dev/null | node -e "$PAUSE_JS" 2>/dev/null)
  secs=${reset%% *}
  if [ -n "$reset" ]; then
    say "orchestrator.sh: paused on a usage limit until ${reset#* }; waiting ${secs}s, then resuming (Ctrl-C to stop; later: $0 run --resume)"
  else
    secs=${ORCHESTRATOR_RESUME_WAIT:-300}
    case $secs in
      '' | *[!0-9]*) say "error: ORCHESTRATOR_RESUME_WAIT must be a number of seconds, got '$secs'"; return 1 ;;
    esac
    say "orchestrator.sh: paused on a usage limit with no known reset time; waiting ${secs}s, then resuming (Ctrl-C to stop)"
  fi
  sleep "$secs"
}

# Reads status --json on stdin; prints "<seconds to wait> <until>" when a pause is recorded, nothing otherwise.
# The 2-second margin keeps a resume from arriving a moment before the limit actually lifts.
PAUSE_JS='
let text = "";
process.stdin.on("data", (c) => (text += c)).on("end", () => {
  const pause = JSON.parse(text).pause;
  const ms = pause ? Date.parse(pause.until) - Date.now() : NaN;
  if (Number.isFinite(ms)) console.log(Math.max(0, Math.ceil(ms / 1000)) + 2, pause.until);
});
'

menu() {
  while :; do
    cat <<EOF

milestone-orchestrator - repository: ${CWD_VAL:-$PWD}
  1) run       run the milestones, resuming after usage-limit pauses
  2) single    one run, no auto-resume
  3) status    the last run and the worktrees
  4) validate  check milestones and configuration, print the plan
  5) clean     remove merged worktrees
  6) setup     install dependencies and build
  7) help
  q) quit
EOF
    printf 'Choice: '
    # End of input (Ctrl-D, or a script piping in choices) ends the menu like q.
    if ! read -r choice; then
      printf '\n'
      return 0
    fi
    case $choice in
      1 | run) dispatch run ;;
      2 | single) dispatch single ;;
      3 | status) dispatch status ;;
      4 | validate) dispatch validate ;;
      5 | clean) dispatch clean ;;
      6 | setup) dispatch setup ;;
      7 | help) usage ;;
      q | Q | quit | exit) return 0 ;;
      '') continue ;;
      *) say "unknown choice '$choice': type a number from the menu, or q"; continue ;;
    esac
    rc=$?
    if [ "$rc" -ne 0 ]; then say "(exit code $rc)"; fi
  done
}

dispatch() {
  name=$1
  shift
  # orchestrate's usage errors then say "Run '<this script> <command> --help'", a command a wrapper user can type.
  ORCHESTRATE_HELP_COMMAND="$0 $name"
  export ORCHESTRATE_HELP_COMMAND
  case $name in
    setup) cmd_setup ;;
    run) require_built && cmd_run "$@" ;;
    single) require_built && cmd_single "$@" ;;
    status) require_built && cli status "$@" ;;
    clean) require_built && cli clean "$@" ;;
    validate) require_built && cli --validate-only "$@" ;;
    help | -h | --help) usage ;;
    *)
      say "error: unknown command '$name'"
      usage >&2
      return "$EXIT_USAGE"
      ;;
  esac
}

if [ $# -eq 0 ]; then
  menu
  exit
fi
scan_args "$@"
dispatch "$@"
