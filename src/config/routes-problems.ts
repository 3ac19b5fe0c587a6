import { isAlias, isMap, isNode, isScalar, isSeq } from 'yaml';
import type { Document, Node } from 'yaml';
import type { z } from 'zod';

/** One thing wrong with a routes file, placed where the operator must edit it. */
export interface RoutesProblem {
  /** 1-based; 0 when the problem is the file as a whole (it could not be read). */
  readonly line: number;
  readonly column: number;
  /** Where in the file's structure, e.g. `domains."tickets.test".url`; empty for the whole file. */
  readonly path: string;
  readonly message: string;
}

/**
 * Every problem of a routes file at once, so an operator fixes them in one pass.
 * The message lists them one per line as `source:line:col: path: message`.
 */
export class RoutesError extends Error {
  override readonly name = 'RoutesError';
  readonly source: string;
  readonly problems: readonly RoutesProblem[];

  constructor(source: string, problems: readonly RoutesProblem[]) {
    super(problems.map((problem) => formatProblem(source, problem)).join('\n'));
    this.source = source;
    this.problems = Object.freeze(problems.map((problem) => Object.freeze({ ...problem })));
  }
}

export function formatProblem(source: string, problem: RoutesProblem): string {
  const where = problem.line === 0 ? source : `${source}:${problem.line}:${problem.column}`;
  const path = problem.path === '' ? '' : `${problem.path}: `;
  return `${where}: ${path}${problem.message}`;
}

/** `domains."tickets.test".recipients[1]`: bare names where they read unambiguously. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') {
      text += `[${segment}]`;
      continue;
    }
    const name = String(segment);
    const shown = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(name) ? name : JSON.stringify(name);
    text += text === '' ? shown : `.${shown}`;
  }
  return text;
}

/** What a problem is about: a mapping key itself (a bad domain name) or the value under it. */
export type Target = 'key' | 'value';

/**
 * The YAML node a path points at. When the path runs out of document (a required key
 * is missing) the deepest node that exists is returned, which is the mapping the key
 * belongs in. Null only for an empty document.
 */
export function locateNode(doc: Document, path: readonly PropertyKey[], target: Target): Node | null {
  let node: Node | null = isNode(doc.contents) ? doc.contents : null;
  for (const [index, segment] of path.entries()) {
    if (isAlias(node)) node = node.resolve(doc) ?? node;
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((item) => keyText(item.key) === String(segment));
      if (pair === undefined) return node;
      if (target === 'key' && index === path.length - 1 && isNode(pair.key)) return pair.key;
      // `key:` with nothing after it: point at the key, the only text there is.
      next = isNode(pair.value) ? pair.value : pair.key;
    } else if (isSeq(node) && typeof segment === 'number') {
      next = node.items[segment];
    }
    if (!isNode(next)) return node;
    node = next;
  }
  return node;
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

/** Places a path in the file: line and column of the node it names. */
export type Locator = (path: readonly PropertyKey[], target: Target) => { line: number; column: number };

/** One problem per zod issue, except that each unknown key is a problem of its own, placed at the key. */
export function problemsFromIssues(issues: readonly z.core.$ZodIssue[], locate: Locator): RoutesProblem[] {
  const problems: RoutesProblem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        problems.push({
          ...locate([...issue.path, key], 'key'),
          path: formatPath(issue.path),
          message: `unknown key ${JSON.stringify(key)}; ${issue.message}`,
        });
      }
      continue;
    }
    problems.push({ ...locate(issue.path, 'value'), path: formatPath(issue.path), message: issue.message });
  }
  return problems;
}

/** File order, so the list reads top to bottom like the file; the sort is stable. */
export function sortProblems(problems: readonly RoutesProblem[]): RoutesProblem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.column - b.column);
}
