import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

/** One Kubernetes object as YAML gives it; schema.ts checks its shape. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // Each kind has its own fields; policy.ts reads them through kubernetes-models' types.
  [field: string]: unknown;
}

export function parseManifests(text: string, source: string): Manifest[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0]!.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return [];
    if (typeof value !== 'object' || !('kind' in value) || !('apiVersion' in value)) {
      throw new Error(`${source}: a document without apiVersion and kind`);
    }
    return [value as Manifest];
  });
}

export function readManifests(path: string): Manifest[] {
  return parseManifests(readFileSync(path, 'utf8'), path);
}

// Components (kustomize v3.7), `labels` (v4.1) and the patches we use need a
// recent kustomize; Debian's kubernetes-client 1.20 embeds v2.0.3.
const MIN_KUSTOMIZE_MAJOR = 5;

let probe: { available: true } | { available: false; reason: string } | undefined;

/** Whether `kubectl kustomize` can render the overlays here, and if not, why. */
export function kustomizeStatus(): { available: true } | { available: false; reason: string } {
  probe ??= (() => {
    let out: string;
    try {
      out = execFileSync('kubectl', ['version', '--client'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return { available: false, reason: code === 'ENOENT' ? 'kubectl is not installed' : `kubectl version failed: ${(err as Error).message}` };
    }
    const version = /Kustomize Version: v(\d+)\.\d+/.exec(out);
    if (!version) return { available: false, reason: `kubectl reports no Kustomize version:\n${out}` };
    if (Number(version[1]) < MIN_KUSTOMIZE_MAJOR) {
      return { available: false, reason: `kubectl embeds kustomize v${version[1]}; rendering needs v${MIN_KUSTOMIZE_MAJOR} or newer` };
    }
    return { available: true };
  })();
  return probe;
}

/** `kubectl kustomize <dir>`: offline, no cluster needed. */
export function render(dir: string): Manifest[] {
  const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseManifests(out, `kubectl kustomize ${dir}`);
}
