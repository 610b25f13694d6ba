/** A milestone id: stage digit 1-9 followed by a task letter A-Z, e.g. `1A`. */
export type MilestoneId = string;

export const MILESTONE_FILE_PATTERN = /^([1-9])([A-Z])\.md$/;
export const MILESTONE_ID_PATTERN = /^([1-9])([A-Z])$/;

export type SectionKey =
  | 'description'
  | 'entryRequirements'
  | 'tasks'
  | 'exitCriteria'
  | 'dependencies'
  | 'estimatedTime';

export interface Section {
  /** The heading text as written. */
  heading: string;
  /** The section's markdown source, without its heading, trimmed. */
  text: string;
  /** 1-based line of the heading in the file (front matter included). */
  line: number;
}

export interface DependencyRef {
  id: MilestoneId;
  source: 'section' | 'front_matter';
  /** 1-based location in the file where the dependency is written. */
  line: number;
  col: number;
}

/** Per-task settings from YAML front matter, already type-checked and normalised. */
export interface TaskSettings {
  depends_on?: MilestoneId[];
  /** Seconds. */
  timeout?: number;
  model?: string;
  max_turns?: number;
  max_budget_usd?: number;
  allowed_tools?: string[];
  setup?: string[];
  checks?: string[];
  review?: boolean;
}

export interface Milestone {
  id: MilestoneId;
  stage: number;
  letter: string;
  /** Path relative to the repository root, forward slashes: what diagnostics print. */
  file: string;
  absPath: string;
  title: string;
  titleLine: number;
  sections: Partial<Record<SectionKey, Section>>;
  /** Union of the Dependencies section and front matter `depends_on`, first mention wins, no duplicates. */
  dependencies: DependencyRef[];
  /** From Estimated Time, in minutes; null when absent or unreadable (a warning says which). */
  estimateMinutes: number | null;
  settings: TaskSettings;
  /** The markdown body without front matter: what the agent's prompt is built from. */
  body: string;
}
