import { z } from 'zod';

/**
 * A strict mapping of the routes file: a misspelt key is a problem, never
 * silently ignored, and the problem lists the keys allowed. `notMapping` words
 * the complaint when the value is something else (the default suits a nested
 * value). Every mapping of the file (routes, endpoints, rules, options) is one.
 */
export function mapping<Shape extends z.core.$ZodShape>(shape: Shape, notMapping = 'must be a mapping') {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') return `allowed keys are ${allowed}`;
      if (issue.code === 'invalid_type' && issue.input !== undefined) return `${notMapping}, got ${describeValue(issue.input)}`;
      return undefined;
    },
  });
}

/** Names a value's kind the way the file's author sees it (YAML, not JavaScript). */
export function describeValue(value: unknown): string {
  if (value === null) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}
