/**
 * Whether git would accept `name` as a branch name: the rules of `git check-ref-format --branch`, checked without
 * spawning git (validation runs before anything exists, and a pure check is cheap to call per field).
 * Returns undefined when the name is fine, else a short reason ("contains a space", "starts with -").
 *
 * Rules (git-check-ref-format(1)): no component starts with "." or ends with ".lock"; no "..", no "@{", no
 * control character, space, ~ ^ : ? * [ or \; does not start or end with "/", no "//"; does not end with "."; is
 * not "@"; a branch does not start with "-" and is not "HEAD".
 */
export function refNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name.startsWith('-')) return 'starts with "-" (git would read it as an option)';
  if (name === '@') return 'is "@"';
  if (name === 'HEAD') return 'is "HEAD"';
  const bad = /[\x00-\x20\x7f~^:?*[\\]/.exec(name);
  if (bad) return bad[0] === ' ' ? 'contains a space' : `contains ${JSON.stringify(bad[0])}`;
  if (name.includes('..')) return 'contains ".."';
  if (name.includes('@{')) return 'contains "@{"';
  if (name.startsWith('/') || name.endsWith('/')) return 'starts or ends with "/"';
  if (name.includes('//')) return 'contains "//"';
  if (name.endsWith('.')) return 'ends with "."';
  for (const component of name.split('/')) {
    if (component.startsWith('.')) return `has a part starting with "." (${JSON.stringify(component)})`;
    if (component.endsWith('.lock')) return `has a part ending with ".lock" (${JSON.stringify(component)})`;
  }
  return undefined;
}
