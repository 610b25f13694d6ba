/**
 * Keeps secrets out of transcripts and messages. An agent can echo its environment (`env`, a failing curl), and the
 * transcript is a plain file next to the repository, so every value of a secret-looking environment variable and
 * anything shaped like an Anthropic key is replaced before it is written.
 */

const SECRET_NAME = /(?:^|_)(?:API_KEY|KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)$/i;
const ANTHROPIC_KEY = /sk-ant-[A-Za-z0-9_-]{8,}/g;
/** Shorter values are too likely to occur by chance ("1", "true") to be worth replacing. */
const MIN_SECRET_LENGTH = 8;

export type Redactor = (text: string) => string;

export function createRedactor(env: NodeJS.ProcessEnv): Redactor {
  const secrets = Object.entries(env)
    .filter(([name, value]) => SECRET_NAME.test(name) && value !== undefined && value.length >= MIN_SECRET_LENGTH)
    .map(([name, value]) => ({ name, value: value! }))
    // Longest first, so a secret containing another is replaced whole.
    .sort((a, b) => b.value.length - a.value.length);
  return (text) => {
    let out = text;
    for (const { name, value } of secrets) if (out.includes(value)) out = out.split(value).join(`[REDACTED:${name}]`);
    return out.replace(ANTHROPIC_KEY, '[REDACTED:sk-ant-…]');
  };
}
