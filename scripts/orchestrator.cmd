@echo off
rem orchestrator.cmd - runs milestone-orchestrator on the git repository in the current directory.
rem Forwards everything to orchestrator.ps1 beside it (same commands: setup, run, single, status, clean,
rem validate, help, or no argument for the menu), with PowerShell 7 when installed, else Windows PowerShell.
rem -ExecutionPolicy Bypass applies to this one process only, so an unsigned local script can run.
setlocal
set "PS_EXE=powershell.exe"
where pwsh.exe >nul 2>nul && set "PS_EXE=pwsh.exe"
"%PS_EXE%" -NoLogo -NoProfile -ExecutionPolicy Bypass -File "%~dp0orchestrator.ps1" %*
exit /b %ERRORLEVEL%
