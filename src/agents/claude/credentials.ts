import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * A cheap, offline guess at whether Claude Code has credentials. It names where they come from and never reads or
 * returns a secret's value. Where the CLI keeps things (checked against 2.1.330): the config dir is
 * $CLAUDE_CONFIG_DIR or ~/.claude and holds `.credentials.json` (OAuth tokens, Linux) and `settings.json`
 * (`apiKeyHelper`); the global config is $CLAUDE_CONFIG_DIR/.claude.json or ~/.claude.json and gets `oauthAccount`
 * (or `primaryApiKey`) after /login. The CLI creates ~/.claude.json on first start even when not logged in, so its
 * mere presence proves nothing.
 */

const ENV_CREDENTIALS = ['ANTHROPIC_API_KEY', 'CLAUDE_CODE_OAUTH_TOKEN', 'ANTHROPIC_AUTH_TOKEN'] as const;
const CLOUD_PROVIDERS = ['CLAUDE_CODE_USE_BEDROCK', 'CLAUDE_CODE_USE_VERTEX', 'CLAUDE_CODE_USE_FOUNDRY'] as const;

/** Where credentials come from (e.g. "ANTHROPIC_API_KEY", "~/.claude/.credentials.json"), or undefined. */
export function findCredentialSource(env: NodeJS.ProcessEnv): string | undefined {
  for (const name of ENV_CREDENTIALS) if (env[name]?.trim()) return name;
  for (const name of CLOUD_PROVIDERS) if (isTruthy(env[name])) return name;
  const home = env.HOME || homedir();
  const configDir = env.CLAUDE_CONFIG_DIR || join(home, '.claude');
  const credentialsFile = join(configDir, '.credentials.json');
  if (existsSync(credentialsFile)) return credentialsFile;
  const globalConfig = join(env.CLAUDE_CONFIG_DIR || home, '.claude.json');
  const config = readJsonObject(globalConfig);
  if (config && (config.oauthAccount != null || config.primaryApiKey != null)) return `${globalConfig} (logged in)`;
  const settingsFile = join(configDir, 'settings.json');
  if (typeof readJsonObject(settingsFile)?.apiKeyHelper === 'string') return `${settingsFile} (apiKeyHelper)`;
  return undefined;
}

function isTruthy(v: string | undefined): boolean {
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

function readJsonObject(path: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
