import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { cpuTicksUsed, idleCheckIntervalMs, isIdle, usedCpu, type CpuSnapshot, type IdleWatch } from './idle.js';

/**
 * Runs one command as the leader of its own process group and guarantees it is gone afterwards.
 *
 * Why a process group and not just a pid: agent CLIs start tool processes (shells, test runners, dev servers). Killing
 * the leader alone leaves those behind. Claude Code puts its Bash tool children in *their own* process groups and only
 * kills them on SIGTERM, so the kill sequence is: SIGTERM to the group, a grace period, then SIGKILL to the group and to
 * every descendant group we saw while it was alive.
 */

export type KillReason = 'timeout' | 'idle_timeout' | 'aborted';

export interface ProcessGroupOptions {
  file: string;
  args: readonly string[];
  cwd: string;
  /** Written to the child's standard input, which is then closed; without it stdin is /dev/null. */
  input?: string;
  /** The complete environment (not merged with process.env here). */
  env: NodeJS.ProcessEnv;
  /** Whole-run limit. */
  timeoutMs?: number;
  /**
   * Longest allowed time without a sign of life (start-up counts): a stdout line and, with `idleWatch`, CPU use by
   * the process tree or a change in a watched folder. Checked every `idleCheckIntervalMs` while the process is silent
   * only, so it is stopped between 1x and 1.25x this long after its last sign of life.
   */
  idleTimeoutMs?: number;
  /** Signs of life other than output (see `util/activity.ts`, `idleWatchFor`); without it, output only. */
  idleWatch?: IdleWatch;
  signal?: AbortSignal;
  /** Between SIGTERM and SIGKILL. */
  killGraceMs: number;
  /** Every stdout line as it arrives, without its newline. */
  onStdoutLine: (line: string) => void;
  /** How much stderr to keep (the tail). */
  maxStderrChars?: number;
  /** Called once the process exists, with its pid (= its process group id), e.g. to record it for a crash-resume. */
  onSpawn?: (pid: number) => void;
}

export interface ProcessGroupResult {
  /** False when the process could not be spawned at all (see spawnError) or the signal was already aborted. */
  started: boolean;
  pid?: number;
  exitCode: number | null;
  signal?: string;
  /** Set when we killed it, and why. */
  killReason?: KillReason;
  /** Set when the executable could not be started (ENOENT, EACCES, …). */
  spawnError?: { code?: string; message: string };
  stderr: string;
  stderrTruncated: boolean;
  /** The first exception thrown by onStdoutLine (the line was skipped, the run went on). */
  listenerError?: unknown;
  durationMs: number;
}

const DEFAULT_MAX_STDERR = 64 * 1024;

export async function runProcessGroup(opts: ProcessGroupOptions): Promise<ProcessGroupResult> {
  const startedAt = Date.now();
  if (opts.signal?.aborted) {
    return notStarted(startedAt, { killReason: 'aborted' });
  }
  const sub = execa(opts.file, [...opts.args], {
    cwd: opts.cwd,
    env: opts.env,
    extendEnv: false,
    // detached => setsid(): the child leads a new session and process group, so -pid reaches the whole group.
    detached: true,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    // We do our own group-wide kill sequence; execa's only reaches the leader.
    cleanup: false,
    forceKillAfterDelay: false,
  });
  const pid = sub.pid;
  const run = new GroupRun(opts, pid);
  run.attach(sub);
  if (pid !== undefined) opts.onSpawn?.(pid);
  const execaResult = await sub;
  run.finish();
  if (pid === undefined) {
    return notStarted(startedAt, {
      spawnError: { code: execaResult.code, message: execaResult.originalMessage ?? execaResult.shortMessage ?? 'spawn failed' },
    });
  }
  return {
    started: true,
    pid,
    exitCode: run.exit?.code ?? execaResult.exitCode ?? null,
    signal: run.exit?.signal ?? execaResult.signal ?? undefined,
    killReason: run.killReason,
    stderr: run.stderr.text(),
    stderrTruncated: run.stderr.truncated,
    listenerError: run.listenerError,
    durationMs: Date.now() - startedAt,
  };
}

function notStarted(startedAt: number, extra: Partial<ProcessGroupResult>): ProcessGroupResult {
  return { started: false, exitCode: null, stderr: '', stderrTruncated: false, durationMs: Date.now() - startedAt, ...extra };
}

type Subprocess = ReturnType<typeof execa>;

/** The mutable state of one run: timers, kill sequence, output capture. */
class GroupRun {
  killReason?: KillReason;
  exit?: { code: number | null; signal?: string };
  listenerError?: unknown;
  readonly stderr: TailBuffer;
  private readonly timers = new Set<NodeJS.Timeout>();
  private idleTimer?: NodeJS.Timeout;
  /** Epoch ms of the last stdout line; the spawn before the first. */
  private lastOutputAt = Date.now();
  /** Epoch ms of the last idle check that saw the process tree use CPU. */
  private lastCpuAt?: number;
  /** The previous silent check's CPU snapshot (none after output: the next silent check starts afresh). */
  private cpuBefore?: { at: number; snapshot: CpuSnapshot };
  private seen = new Map<number, ProcInfo>();
  private readonly onAbort = (): void => this.terminate('aborted');

  constructor(
    private readonly opts: ProcessGroupOptions,
    private readonly pid: number | undefined,
  ) {
    this.stderr = new TailBuffer(opts.maxStderrChars ?? DEFAULT_MAX_STDERR);
  }

  attach(sub: Subprocess): void {
    if (this.pid === undefined) return;
    liveGroups.add(this.pid);
    installExitHook();
    createInterface({ input: sub.stdout!, crlfDelay: Infinity }).on('line', (line) => this.onLine(line));
    sub.stderr!.setEncoding('utf8');
    sub.stderr!.on('data', (chunk: string) => this.stderr.push(chunk));
    sub.once('exit', (code, signal) => this.onExit(sub, code, signal ?? undefined));
    if (this.opts.timeoutMs !== undefined) this.after(this.opts.timeoutMs, () => this.terminate('timeout'));
    this.scheduleIdleCheck();
    this.opts.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  finish(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    if (this.pid !== undefined) liveGroups.delete(this.pid);
  }

  private onLine(line: string): void {
    // The hot path: no timer is re-armed per line; the periodic check reads this.
    this.lastOutputAt = Date.now();
    try {
      this.opts.onStdoutLine(line);
    } catch (err) {
      this.listenerError ??= err;
    }
  }

  private onExit(sub: Subprocess, code: number | null, signal: string | undefined): void {
    this.exit = { code, signal };
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const pid = this.pid!;
    if (this.killReason) {
      // We already sent SIGTERM and the leader is gone: whatever is left (its group, or descendant groups it failed
      // to stop) gets no second chance.
      signalGroup(pid, 'SIGKILL');
      this.killSeen();
    } else {
      // Normal exit: anything still in the leader's group (background jobs) is a leftover of this run. The SIGKILL
      // follow-up must outlive this run's timers, but must not keep the orchestrator alive.
      signalGroup(pid, 'SIGTERM');
      setTimeout(() => signalGroup(pid, 'SIGKILL'), this.opts.killGraceMs).unref();
    }
    // A leftover in another group may still hold our pipes open; don't wait for it forever.
    this.after(this.opts.killGraceMs, () => {
      sub.stdout?.destroy();
      sub.stderr?.destroy();
    });
  }

  private scheduleIdleCheck(): void {
    const idleTimeoutMs = this.opts.idleTimeoutMs;
    if (idleTimeoutMs === undefined || this.exit || this.killReason) return;
    this.idleTimer = setTimeout(() => {
      this.checkIdle(idleTimeoutMs).then(
        (idle) => (idle ? this.terminate('idle_timeout') : this.scheduleIdleCheck()),
        () => this.scheduleIdleCheck(),
      );
    }, idleCheckIntervalMs(idleTimeoutMs));
  }

  /**
   * Whether the process has shown no sign of life for `idleTimeoutMs` (see util/idle.ts). Costs nothing while it
   * prints; while silent, one CPU snapshot of its tree per check, and a scan of the watched folder only when neither
   * output nor CPU shows life.
   */
  private async checkIdle(idleTimeoutMs: number): Promise<boolean> {
    const now = Date.now();
    const watch = this.opts.idleWatch;
    if (now - this.lastOutputAt < idleCheckIntervalMs(idleTimeoutMs)) {
      this.cpuBefore = undefined;
      return false;
    }
    const snapshot = this.pid !== undefined ? watch?.cpu?.(this.pid) : undefined;
    if (snapshot && this.cpuBefore) {
      const ticks = cpuTicksUsed(this.cpuBefore.snapshot, snapshot);
      if (usedCpu({ ticks, intervalMs: now - this.cpuBefore.at, ticksPerSecond: watch?.ticksPerSecond ?? 100 })) this.lastCpuAt = now;
    }
    this.cpuBefore = snapshot ? { at: now, snapshot } : undefined;
    const input = { now, idleTimeoutMs, lastOutputAt: this.lastOutputAt, ...(this.lastCpuAt !== undefined ? { lastCpuAt: this.lastCpuAt } : {}) };
    if (!isIdle(input) || !watch?.newestChange) return isIdle(input);
    const changed = await watch.newestChange();
    if (this.exit || this.killReason) return false;
    return isIdle({ ...input, now: Date.now(), ...(changed !== undefined ? { worktreeChangedAt: changed } : {}) });
  }

  /** SIGTERM the group now, SIGKILL it (and every descendant group seen) after the grace period. */
  private terminate(reason: KillReason): void {
    if (this.killReason || this.exit || this.pid === undefined) return;
    this.killReason = reason;
    const pid = this.pid;
    this.remember(listDescendants(pid));
    signalGroup(pid, 'SIGTERM');
    this.after(this.opts.killGraceMs, () => {
      if (this.exit) return;
      this.remember(listDescendants(pid));
      signalGroup(pid, 'SIGKILL');
      this.killSeen();
    });
  }

  private remember(procs: ProcInfo[]): void {
    for (const p of procs) this.seen.set(p.pid, p);
  }

  /** SIGKILL descendants recorded while the leader lived; they were reparented, so the tree no longer finds them. */
  private killSeen(): void {
    for (const p of this.seen.values()) {
      if (!isSameProcess(p)) continue;
      if (p.pgid === p.pid) signalGroup(p.pid, 'SIGKILL');
      else signalPid(p.pid, 'SIGKILL');
    }
  }

  private after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }
}

/** Keeps the last `max` characters of a stream. */
class TailBuffer {
  private buf = '';
  truncated = false;
  constructor(private readonly max: number) {}
  push(chunk: string): void {
    this.buf += chunk;
    if (this.buf.length > this.max * 2) this.trim();
  }
  text(): string {
    this.trim();
    return this.buf;
  }
  private trim(): void {
    if (this.buf.length <= this.max) return;
    this.buf = this.buf.slice(this.buf.length - this.max);
    this.truncated = true;
  }
}

// ---- process-tree helpers ----------------------------------------------------------------------------------------

export interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
  /** Kernel start time (Linux, clock ticks since boot): tells a reused pid from the original. */
  startTime?: string;
  /** CPU time used (Linux, clock ticks): user + system, its own and its reaped children's. */
  cpuTicks?: number;
}

/** Every live descendant of `rootPid` (children, grandchildren, …), whatever their process group. */
export function listDescendants(rootPid: number): ProcInfo[] {
  const all = listProcesses();
  const byParent = new Map<number, ProcInfo[]>();
  for (const p of all) {
    const list = byParent.get(p.ppid) ?? [];
    list.push(p);
    byParent.set(p.ppid, list);
  }
  const out: ProcInfo[] = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    for (const child of byParent.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child.pid);
    }
  }
  return out;
}

function listProcesses(): ProcInfo[] {
  try {
    return process.platform === 'linux' ? listProcLinux() : listProcPs();
  } catch {
    return [];
  }
}

function listProcLinux(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const info = readProcStat(Number(name));
    if (info) out.push(info);
  }
  return out;
}

/** Parses /proc/<pid>/stat. The command name (field 2) may contain spaces and parentheses, so split after the last ')'. */
export function readProcStat(pid: number): (ProcInfo & { state: string }) | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); ppid = field 4, pgrp = field 5, utime/stime/cutime/cstime = fields 14-17,
  // starttime = field 22 (proc(5)).
  const cpu = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  return {
    pid,
    state: fields[0] ?? '?',
    ppid: Number(fields[1]),
    pgid: Number(fields[2]),
    startTime: fields[19],
    ...(Number.isFinite(cpu) ? { cpuTicks: cpu } : {}),
  };
}

function listProcPs(): ProcInfo[] {
  const text = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,pgid='], { encoding: 'utf8' });
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter((f) => f.length === 3 && f.every(Number.isFinite))
    .map(([pid, ppid, pgid]) => ({ pid: pid!, ppid: ppid!, pgid: pgid! }));
}

/** Still the process we recorded (not dead, not a zombie, not a reused pid)? */
function isSameProcess(p: ProcInfo): boolean {
  if (process.platform !== 'linux') return isPidAlive(p.pid);
  const now = readProcStat(p.pid);
  return now !== undefined && now.state !== 'Z' && now.startTime === p.startTime;
}

/** True while the pid exists and is not a zombie (an unreaped corpse is dead for our purposes). */
export function isPidAlive(pid: number): boolean {
  if (process.platform === 'linux') {
    const info = readProcStat(pid);
    return info !== undefined && info.state !== 'Z' && info.state !== 'X';
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Signals a whole process group; a group that no longer exists is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  // Never pgid 0/1 (our own group / init) and never our own pid.
  if (pgid <= 1 || pgid === process.pid) return;
  signalPid(-pgid, signal);
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: already gone. EPERM: not ours to kill. Either way there is nothing more to do.
  }
}

// ---- last resort when the orchestrator itself exits --------------------------------------------------------------

const liveGroups = new Set<number>();
let exitHookInstalled = false;

/** If the orchestrator exits with agents still running, SIGTERM them so they clean up their own tool processes. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => signalAllProcessGroups('SIGTERM'));
}

/**
 * Signals every process group started by runProcessGroup that is still running. The children run in their own
 * sessions, so a Ctrl-C in the terminal does not reach them: a CLI's SIGINT/SIGTERM handler should abort the runs'
 * AbortSignals (the graceful path, which also resolves their results) and may call this as a last resort.
 */
export function signalAllProcessGroups(signal: NodeJS.Signals): void {
  for (const pgid of liveGroups) signalGroup(pgid, signal);
}

/**
 * The second Ctrl-C: no grace. Every process tree started by runProcessGroup gets SIGKILL, including descendants
 * that moved to their own process group (Claude Code runs its Bash tools that way), found through /proc first.
 */
export function killAllProcessTreesNow(): void {
  for (const pgid of liveGroups) {
    for (const d of listDescendants(pgid)) {
      try {
        process.kill(d.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    signalGroup(pgid, 'SIGKILL');
  }
}
