import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Milestone } from '../milestones/types.js';

export const DEFAULT_TASK_TEMPLATE = fileURLToPath(new URL('../../templates/task-prompt.md', import.meta.url));

export interface PromptVars {
  id: string;
  title: string;
  branch: string;
  body: string;
  file: string;
  stage: string;
}

export function promptVars(m: Milestone, branch: string): PromptVars {
  return { id: m.id, title: m.title, branch, body: m.body.trim(), file: m.file, stage: String(m.stage) };
}

/**
 * Fills `{{name}}` placeholders. Unknown placeholders are left as written, so a template mistake is visible in
 * the transcript instead of silently becoming empty.
 */
export function renderTemplate(template: string, vars: PromptVars): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(vars, name) ? vars[name as keyof PromptVars] : whole,
  );
}

export async function loadTemplate(path: string | null | undefined): Promise<string> {
  return readFile(path ?? DEFAULT_TASK_TEMPLATE, 'utf8');
}
