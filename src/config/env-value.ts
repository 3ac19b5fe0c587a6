import { readFileSync } from 'node:fs';

/**
 * Reads a setting from the environment, or from the file named by `<NAME>_FILE`
 * (how Kubernetes mounts secrets). Setting both is ambiguous and refused, so an
 * operator never wonders which one won.
 */
export function readEnvValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const direct = env[name];
  const file = env[`${name}_FILE`];
  if (direct !== undefined && file !== undefined) {
    throw new Error(`${name} and ${name}_FILE are both set; set only one`);
  }
  if (file !== undefined) {
    try {
      // A trailing newline is an artefact of how the file was written, never part of a secret.
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new Error(`${name}_FILE: cannot read ${file}: ${(err as Error).message}`);
    }
  }
  return direct;
}
