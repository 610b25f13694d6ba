import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Milestone } from '../milestones/types.js';

export type TemplateName = 'task-prompt' | 'review-prompt' | 'conflict-prompt';

export function defaultTemplatePath(name: TemplateName): string {
  return fileURLToPath(new URL(`../../templates/${name}.md`, import.meta.url));
}

export type TemplateVars = Record<string, string>;

export function milestoneVars(m: Milestone, branch: string): TemplateVars {
  return { id: m.id, title: m.title, branch, body: m.body.trim(), file: m.file, stage: String(m.stage) };
}

/**
 * Fills `{{name}}` placeholders. Unknown placeholders are left as written, so a template mistake is visible in
 * the transcript instead of silently becoming empty.
 */
export function renderTemplate(template: string, vars: TemplateVars): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(vars, name) ? (vars[name] ?? '') : whole,
  );
}

/** The user's template when configured (a path), else the shipped one. */
export async function loadTemplate(userPath: string | undefined, name: TemplateName): Promise<string> {
  return readFile(userPath ?? defaultTemplatePath(name), 'utf8');
}
