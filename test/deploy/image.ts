/**
 * Just enough of Docker's build-file rules to check ours without a Docker
 * engine: the instructions of a Dockerfile, and whether .dockerignore lets a
 * path into the build context.
 */

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  /** 0 for the first FROM's stage, 1 for the next… */
  readonly stage: number;
}

export function parseDockerfile(text: string): Instruction[] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  let stage = -1;
  return logical
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [, keyword = '', args = ''] = /^\s*(\S+)\s*(.*)$/.exec(line) ?? [];
      if (keyword.toUpperCase() === 'FROM') stage += 1;
      return { keyword: keyword.toUpperCase(), args: args.trim(), stage };
    });
}

/**
 * Docker's rule: the last pattern that matches the path, or one of its parent
 * directories, decides; a `!` pattern lets it back in. `*` stays within one
 * path segment, `**` spans any number.
 */
export function inBuildContext(path: string, dockerignore: string): boolean {
  const patterns = dockerignore
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => ({ include: line.startsWith('!'), regex: globToRegex(line.replace(/^!/, '').replace(/^\/+|\/+$/g, '')) }));
  const segments = path.replace(/^\.\/|\/$/g, '').split('/');
  const candidates = segments.map((_, i) => segments.slice(0, i + 1).join('/'));
  let included = true;
  for (const { include, regex } of patterns) {
    if (candidates.some((candidate) => regex.test(candidate))) included = include;
  }
  return included;
}

function globToRegex(glob: string): RegExp {
  const source = glob
    .split('**')
    .map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'))
    .join('.*')
    // `**/` also matches no directory at all: `**/*.md` takes a.md too.
    .replace(/\.\*\//g, '(?:.*/)?');
  return new RegExp(`^${source}$`);
}
