<#
.SYNOPSIS
  Runs milestone-orchestrator on the git repository in the current directory.

.DESCRIPTION
  orchestrator.ps1 <command> [orchestrate flags...]

    setup      install dependencies and build (checks Node.js >= 20.12 and git)
    run        run the milestones; after a usage-limit pause (exit 75) wait for the reset, then --resume
    single     one run without auto-resume (AUTO_RESUME=false): a usage limit saves the state and exits 75
    status     what the last run did, and the orchestrator's worktrees on disk
    clean      remove the orchestrator's worktrees (--merged by default; --all, --force)
    validate   check milestones and configuration and print the plan; changes nothing
    help       this text
    (none)     an interactive menu

  The same commands as scripts/orchestrator.sh, for Windows PowerShell 5.1 and PowerShell 7. The script finds the
  orchestrator through its own folder, so it can be called from anywhere; the repository it works on is the
  current directory, passed as --cwd, unless you give --cwd yourself. Flags pass through to orchestrate.

  Environment: ORCHESTRATOR_RESUME_WAIT (seconds 'run' waits when a pause has no known end, default 300),
  ORCHESTRATE_JS (the orchestrate entry point to use, default <project>\dist\cli\bin.js).
#>

# No param() block on purpose: every argument after the command reaches orchestrate untouched, --flags included.
Set-StrictMode -Version 3
# 'Continue', not 'Stop': Windows PowerShell turns a native program's redirected stderr into error records, and
# 'Stop' would make any warning from node or git abort the script. Exit codes are checked explicitly instead.
$ErrorActionPreference = 'Continue'

# Exit codes shared with orchestrate: 2 usage error, 3 environment not ready, 75 paused on a usage limit.
$ExitUsage = 2
$ExitEnvironment = 3
$ExitPaused = 75

$ProjectDir = Split-Path -Parent $PSScriptRoot
$Cli = if ($env:ORCHESTRATE_JS) { $env:ORCHESTRATE_JS } else { [IO.Path]::Combine($ProjectDir, 'dist', 'cli', 'bin.js') }

function Show-Usage {
  @'
Usage: orchestrator.ps1 <command> [orchestrate flags...]

Commands:
  setup      install dependencies and build (checks Node.js >= 20.12 and git)
  run        run the milestones; after a usage-limit pause (exit 75) wait for the reset, then --resume
  single     one run without auto-resume (AUTO_RESUME=false): a usage limit saves the state and exits 75
  status     what the last run did, and the orchestrator's worktrees on disk
  clean      remove the orchestrator's worktrees (--merged by default; --all, --force)
  validate   check milestones and configuration and print the plan; changes nothing
  help       this text
  (none)     an interactive menu

Flags pass through, e.g.  orchestrator.ps1 run --stage 1   orchestrator.ps1 status --json
The repository is the current directory unless --cwd <dir> is given.
'orchestrator.ps1 run --help' shows every run flag.
'@ | Write-Host
}

function Write-Note([string]$Text) {
  [Console]::Error.WriteLine($Text)
}

# The flags that name the repository and the configuration, kept for the status and resume calls.
function Get-Target([string[]]$Rest) {
  $target = [pscustomobject]@{ HasCwd = $false; Cwd = $null; Config = $null }
  for ($i = 0; $i -lt $Rest.Count; $i++) {
    $a = $Rest[$i]
    $next = if ($i + 1 -lt $Rest.Count) { $Rest[$i + 1] } else { $null }
    if ($a -eq '--cwd') { $target.HasCwd = $true; $target.Cwd = $next }
    elseif ($a.StartsWith('--cwd=')) { $target.HasCwd = $true; $target.Cwd = $a.Substring(6) }
    elseif ($a -eq '--config') { $target.Config = $next }
    elseif ($a.StartsWith('--config=')) { $target.Config = $a.Substring(9) }
  }
  return $target
}

# orchestrate <args> on the current directory's repository unless the user named one. Its output goes to the
# caller's pipeline (the console, or a variable); the exit code is in $LASTEXITCODE.
function Invoke-Cli([string[]]$CliArgs) {
  $all = @($Cli)
  if ($null -ne $CliArgs -and $CliArgs.Count -gt 0) { $all += $CliArgs }
  if (-not $script:Target.HasCwd) { $all += @('--cwd', (Get-Location).ProviderPath) }
  & node @all
}

# orchestrate <args> with only the user's --config and --cwd added: for the calls the wrapper makes itself.
function Invoke-CliSameTarget([string[]]$CliArgs) {
  $all = @($CliArgs)
  if ($script:Target.Config) { $all += @('--config', $script:Target.Config) }
  if ($script:Target.HasCwd) { $all += @('--cwd', $script:Target.Cwd) }
  Invoke-Cli $all
}

function Test-Node {
  if (-not (Get-Command node -ErrorAction SilentlyContinue)) {
    Write-Note 'error: Node.js is not installed; milestone-orchestrator needs Node.js 20.12 or later (https://nodejs.org)'
    return $false
  }
  $text = (& node --version | Out-String).Trim()
  $version = [version]($text.TrimStart('v') -replace '[^0-9.].*$', '')
  if ($version -lt [version]'20.12.0') {
    Write-Note "error: Node.js $text is too old; milestone-orchestrator needs 20.12 or later"
    return $false
  }
  return $true
}

function Test-Git {
  if (Get-Command git -ErrorAction SilentlyContinue) { return $true }
  Write-Note 'error: git is not installed; milestone-orchestrator needs git 2.15 or later'
  return $false
}

function Test-Built {
  if (-not (Test-Node)) { return $false }
  if (Test-Path -LiteralPath $Cli -PathType Leaf) { return $true }
  Write-Note "error: the orchestrator is not built yet ($Cli is missing)"
  Write-Note "  hint: run: $PSCommandPath setup"
  return $false
}

# The command functions below leave their exit code in $script:Code rather than returning it: a PowerShell
# function's return value shares the output stream with the programs it runs, and their output must go
# straight to the console.
$script:Code = 0

function Invoke-Setup {
  if (-not (Test-Node) -or -not (Test-Git)) { $script:Code = $ExitEnvironment; return }
  Write-Note "Installing dependencies and building in $ProjectDir ..."
  Push-Location -LiteralPath $ProjectDir
  try {
    & npm ci --no-audit --no-fund
    $script:Code = $LASTEXITCODE
    if ($script:Code -ne 0) { return }
    & npm run build
    $script:Code = $LASTEXITCODE
    if ($script:Code -ne 0) { return }
  } finally {
    Pop-Location
  }
  Write-Note "Ready. In your repository run: $PSCommandPath validate, then $PSCommandPath run"
}

# Seconds to wait for the usage limit to reset (the run recorded when: status --json pause.until) plus a
# 2-second margin, or $null when no pause end is known.
function Get-PauseWait {
  $json = (Invoke-CliSameTarget @('status', '--json') 2>$null | Out-String)
  if ($LASTEXITCODE -ne 0 -or -not $json.Trim()) { return $null }
  $pause = ($json | ConvertFrom-Json).pause
  if ($null -eq $pause) { return $null }
  # PowerShell 7 turns ISO dates into DateTime by itself; Windows PowerShell leaves a string.
  $until = if ($pause.until -is [datetime]) { [DateTimeOffset]$pause.until } else { [DateTimeOffset]::Parse([string]$pause.until, [Globalization.CultureInfo]::InvariantCulture) }
  $seconds = [math]::Ceiling(($until - [DateTimeOffset]::UtcNow).TotalSeconds)
  return [int]([math]::Max(0, $seconds) + 2)
}

function Wait-ForReset {
  $seconds = Get-PauseWait
  if ($null -ne $seconds) {
    Write-Note "orchestrator.ps1: paused on a usage limit; waiting ${seconds}s, then resuming (Ctrl-C to stop; later: orchestrator.ps1 run --resume)"
  } else {
    $fallback = if ($env:ORCHESTRATOR_RESUME_WAIT) { $env:ORCHESTRATOR_RESUME_WAIT } else { '300' }
    if ($fallback -notmatch '^[0-9]+$') {
      Write-Note "error: ORCHESTRATOR_RESUME_WAIT must be a number of seconds, got '$fallback'"
      return $false
    }
    $seconds = [int]$fallback
    Write-Note "orchestrator.ps1: paused on a usage limit with no known reset time; waiting ${seconds}s, then resuming (Ctrl-C to stop)"
  }
  Start-Sleep -Seconds $seconds
  return $true
}

function Invoke-Run([string[]]$Rest) {
  Invoke-Cli $Rest
  $script:Code = $LASTEXITCODE
  while ($script:Code -eq $ExitPaused) {
    if (-not (Wait-ForReset)) { return }
    Write-Note 'orchestrator.ps1: resuming the paused run'
    Invoke-CliSameTarget @('--resume')
    $script:Code = $LASTEXITCODE
  }
}

function Invoke-Single([string[]]$Rest) {
  $saved = $env:AUTO_RESUME
  $env:AUTO_RESUME = 'false'
  try {
    Invoke-Cli $Rest
    $script:Code = $LASTEXITCODE
  } finally {
    $env:AUTO_RESUME = $saved
  }
}

function Invoke-Orchestrator([string]$Name, [string[]]$Rest) {
  $known = @('run', 'single', 'status', 'clean', 'validate')
  if (@('help', '-h', '--help') -contains $Name) { Show-Usage; $script:Code = 0; return }
  if ($Name -eq 'setup') { Invoke-Setup; return }
  if ($known -notcontains $Name) {
    Write-Note "error: unknown command '$Name'"
    Show-Usage
    $script:Code = $ExitUsage
    return
  }
  if (-not (Test-Built)) { $script:Code = $ExitEnvironment; return }
  switch ($Name) {
    'run' { Invoke-Run $Rest }
    'single' { Invoke-Single $Rest }
    'status' { Invoke-Cli (@('status') + $Rest); $script:Code = $LASTEXITCODE }
    'clean' { Invoke-Cli (@('clean') + $Rest); $script:Code = $LASTEXITCODE }
    'validate' { Invoke-Cli (@('--validate-only') + $Rest); $script:Code = $LASTEXITCODE }
  }
}

function Show-Menu {
  while ($true) {
    $where = if ($script:Target.HasCwd) { $script:Target.Cwd } else { (Get-Location).ProviderPath }
    Write-Host ''
    Write-Host "milestone-orchestrator - repository: $where"
    Write-Host '  1) run       run the milestones, resuming after usage-limit pauses'
    Write-Host '  2) single    one run, no auto-resume'
    Write-Host '  3) status    the last run and the worktrees'
    Write-Host '  4) validate  check milestones and configuration, print the plan'
    Write-Host '  5) clean     remove merged worktrees'
    Write-Host '  6) setup     install dependencies and build'
    Write-Host '  7) help'
    Write-Host '  q) quit'
    $choice = Read-Host 'Choice'
    # End of input (a script piping in choices) ends the menu like q.
    if ($null -eq $choice) { return }
    $name = switch ($choice.Trim()) {
      { $_ -in '1', 'run' } { 'run' }
      { $_ -in '2', 'single' } { 'single' }
      { $_ -in '3', 'status' } { 'status' }
      { $_ -in '4', 'validate' } { 'validate' }
      { $_ -in '5', 'clean' } { 'clean' }
      { $_ -in '6', 'setup' } { 'setup' }
      { $_ -in '7', 'help' } { 'help' }
      { $_ -in 'q', 'quit', 'exit' } { 'quit' }
      '' { '' }
      default { $null }
    }
    if ($null -eq $name) { Write-Note "unknown choice '$choice': type a number from the menu, or q"; continue }
    if ($name -eq 'quit') { return }
    if ($name -eq '') { continue }
    Invoke-Orchestrator $name @()
    if ($script:Code -ne 0) { Write-Note "(exit code $($script:Code))" }
  }
}

$script:Target = Get-Target ([string[]]$args)
if ($args.Count -eq 0) {
  Show-Menu
  $script:Code = 0
} else {
  $rest = if ($args.Count -gt 1) { [string[]]$args[1..($args.Count - 1)] } else { [string[]]@() }
  Invoke-Orchestrator ([string]$args[0]) $rest
}
exit $script:Code
