/** A scripted Anthropic Messages API for running the real `claude` CLI in tests and demos. See README.md. */
export { startScriptedServer, type ScriptedServer, type ScriptedServerOptions } from './server.js';
export { loadScenario, parseScenario, ScenarioError, type ScenarioInput, type ScenarioProblem } from './scenario.js';
export { claudeTestEnv, TEST_API_KEY, TEST_OAUTH_TOKEN, type ClaudeTestEnvOptions } from './claude-env.js';
export type * from './types.js';
