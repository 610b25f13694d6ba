/**
 * Keeps secrets out of everything the orchestrator writes: transcripts, the log, the state file, TASKS.md,
 * metrics.json, the NDJSON stream and the terminal. An agent can echo its environment (`env`, a failing curl), a
 * check can print a connection string, and all of those end up in plain files next to the repository.
 *
 * What is replaced (README "Secrets"):
 * - by value: every value (8 characters or more) of an environment variable whose name looks secret
 *   (`…_TOKEN`, `…_KEY`, `…_SECRET`, `…_PASSWORD`, `…_PAT`, `…_CREDENTIALS`, …) in the orchestrator's environment;
 *   every value (8 characters or more) of `agent.env`, whatever its name (registered with `addSecretValues`);
 *   the password of any URL with credentials held in an environment variable (`DATABASE_URL=postgres://u:p@h`);
 * - by shape, wherever it appears: the password in any `scheme://user:password@host`; GitHub tokens (`ghp_`,
 *   `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`), npm tokens (`npm_`), AWS access key ids (`AKIA…`, `ASIA…`),
 *   Google API keys (`AIza…`), Slack tokens (`xoxb-`, `xoxp-` …), `sk-…` keys (Anthropic, OpenAI) and Stripe
 *   `sk_live_`/`rk_live_` keys, JSON web tokens, the token after `Bearer`, and PEM private key blocks.
 * Shorter values are not replaced by value: "1" or "true" occur by chance everywhere (and replacing them would
 * corrupt the JSON lines of a transcript).
 */

const SECRET_NAME =
  /(?:^|_)(?:API_?KEY|KEY|KEYS|TOKEN|TOKENS|SECRET|SECRETS|PASSWORD|PASSWD|PASSPHRASE|PAT|CREDENTIALS?|COOKIE)(?:_|$)/i;
/** Shorter values are too likely to occur by chance ("1", "true") to be worth replacing. */
export const MIN_SECRET_LENGTH = 8;

/**
 * Credentials in a URL: `scheme://user:password@` (the user stays, it helps to read the log). No pattern here can
 * match a quote or a backslash, so a replacement inside JSON text (a transcript line) never breaks the JSON.
 */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:@/?#"\\]*):([^\s@/?#"\\]+)@/gi;

const TOKEN_SHAPES: ReadonlyArray<{ pattern: RegExp; label: string }> = [
  { pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[^"]*?-----END [A-Z0-9 ]*PRIVATE KEY-----/g, label: 'private key' },
  { pattern: /\bsk-ant-[A-Za-z0-9_-]{8,}/g, label: 'sk-ant-…' },
  { pattern: /\bsk-[A-Za-z0-9_-]{20,}/g, label: 'sk-…' },
  { pattern: /\b[rs]k_live_[A-Za-z0-9]{16,}/g, label: 'stripe key' },
  { pattern: /\bgh[pousr]_[A-Za-z0-9]{20,}/g, label: 'github token' },
  { pattern: /\bgithub_pat_[A-Za-z0-9_]{20,}/g, label: 'github token' },
  { pattern: /\bnpm_[A-Za-z0-9]{30,}/g, label: 'npm token' },
  { pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, label: 'aws key id' },
  { pattern: /\bAIza[0-9A-Za-z_-]{35}/g, label: 'google api key' },
  { pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g, label: 'slack token' },
  { pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, label: 'jwt' },
];
/** `Authorization: Bearer <token>`: the scheme stays, the credential goes (16+ characters: prose is left alone). */
const AUTH_SCHEME = /\b(Bearer)(\s+)([A-Za-z0-9._~+/=-]{16,})/g;

/**
 * A literal every match of URL_CREDENTIALS, TOKEN_SHAPES and AUTH_SCHEME contains: text without any of them cannot
 * match a shape, so the dozen replace passes are skipped (most strings redacted are ids, times and short lines).
 */
const MAYBE_SHAPED = /-----BEGIN |sk-|k_live_|gh[pousr]_|github_pat_|npm_|AKIA|ASIA|AIza|xox[abposr]-|eyJ|:\/\/|Bearer/;

export type Redactor = (text: string) => string;

interface Secret {
  value: string;
  label: string;
}

/**
 * Values that are secret whatever their name, for every redactor of this process: `agent.env` is set once the
 * configuration is loaded (`addSecretValues`), and every writer — many of them created before or far from that —
 * must hide those values too. A registry means no writer can be handed an incomplete list.
 */
const registered: Secret[] = [];

/** Adds values that must be redacted everywhere from now on (values shorter than MIN_SECRET_LENGTH are ignored). */
export function addSecretValues(values: Record<string, string>, source: string): void {
  for (const [name, value] of Object.entries(values)) {
    if (value.length < MIN_SECRET_LENGTH) continue;
    for (const form of withJsonForm(value)) if (!registered.some((s) => s.value === form)) registered.push({ value: form, label: `${source}.${name}` });
  }
}

/**
 * The value, and its JSON-escaped form (a secret with a quote, seen inside a JSON line) and URL-encoded form (a
 * secret put in a query string or a connection URL) when those differ.
 */
function withJsonForm(value: string): string[] {
  const forms = [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)];
  return forms.filter((form, i) => forms.indexOf(form) === i);
}

/** A copy with `redact` applied to every string, so a replacement can never break the JSON around it. */
export function redactStrings<T>(value: T, redact: Redactor): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactStrings(v, redact)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redactStrings(v, redact)])) as T;
  }
  return value;
}

/**
 * A redactor for `env` (the environment of the orchestrator or of the process whose output is redacted) plus the
 * registered values and the token shapes above. Pure apart from reading the registry on each call.
 */
export function createRedactor(env: NodeJS.ProcessEnv): Redactor {
  const fromEnv = secretsOfEnv(env);
  // Longest first, so a secret containing another is replaced whole. Sorted again only when the registry grew.
  let secrets: Secret[] = [];
  let sortedWith = -1;
  return (text) => {
    if (sortedWith !== registered.length) {
      secrets = [...fromEnv, ...registered].sort((a, b) => b.value.length - a.value.length);
      sortedWith = registered.length;
    }
    let out = text;
    for (const { value, label } of secrets) if (out.includes(value)) out = out.split(value).join(`[REDACTED:${label}]`);
    if (!MAYBE_SHAPED.test(out)) return out;
    out = out.replace(URL_CREDENTIALS, (_match, scheme: string, user: string) => `${scheme}${user}:[REDACTED]@`);
    for (const { pattern, label } of TOKEN_SHAPES) out = out.replace(pattern, `[REDACTED:${label}]`);
    return out.replace(AUTH_SCHEME, (_match, scheme: string, space: string) => `${scheme}${space}[REDACTED]`);
  };
}

function secretsOfEnv(env: NodeJS.ProcessEnv): Secret[] {
  const secrets: Secret[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (SECRET_NAME.test(name) && value.length >= MIN_SECRET_LENGTH) for (const form of withJsonForm(value)) secrets.push({ value: form, label: name });
    for (const match of value.matchAll(URL_CREDENTIALS)) {
      const password = decodeOrKeep(match[3]!);
      if (password.length >= MIN_SECRET_LENGTH) secrets.push({ value: password, label: `${name} password` });
      if (match[3]!.length >= MIN_SECRET_LENGTH && match[3] !== password) secrets.push({ value: match[3]!, label: `${name} password` });
    }
  }
  return secrets;
}

function decodeOrKeep(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
