import type { Manifest } from './render.ts';

/**
 * Validates a manifest against the OpenAPI schema of its apiVersion and kind,
 * offline, with the kubernetes-models packages (Kubernetes itself, KEDA and
 * cert-manager). They check types, required fields, enums and formats such as
 * quantities; they do not reject unknown fields, which policy.ts's checks of
 * the fields that matter make up for.
 */

// API groups served by packages other than kubernetes-models.
const GROUP_PACKAGES: Record<string, string> = {
  'keda.sh': '@kubernetes-models/keda',
  'cert-manager.io': '@kubernetes-models/cert-manager',
};

// kubernetes-models still carries these; the API server has stopped serving them
// (the Kubernetes release that removed each).
const REMOVED_API_VERSIONS: Record<string, string> = {
  'apps/v1beta1': '1.16',
  'apps/v1beta2': '1.16',
  'extensions/v1beta1': '1.22',
  'networking.k8s.io/v1beta1': '1.22',
  'batch/v1beta1': '1.25',
  'policy/v1beta1': '1.25',
  'autoscaling/v2beta1': '1.25',
  'autoscaling/v2beta2': '1.26',
};

interface ModelClass {
  readonly apiVersion: string;
  readonly kind: string;
  new (data: unknown): { validate(): void };
}

/** Returns the problems found; an apiVersion and kind with no schema is one. */
export async function validateSchema(manifest: Manifest): Promise<string[]> {
  const { apiVersion, kind } = manifest;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !/^[A-Za-z0-9.\/-]+$/.test(apiVersion) || !/^[A-Za-z]+$/.test(kind)) {
    return [`not a Kubernetes object: apiVersion ${JSON.stringify(apiVersion)}, kind ${JSON.stringify(kind)}`];
  }
  const removed = REMOVED_API_VERSIONS[apiVersion];
  if (removed) return [`${apiVersion} is no longer served (removed in Kubernetes ${removed})`];
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  const pkg = GROUP_PACKAGES[group] ?? 'kubernetes-models';
  let Model: ModelClass | undefined;
  try {
    const module = (await import(`${pkg}/${apiVersion}/${kind}`)) as Record<string, ModelClass>;
    Model = module[kind];
  } catch {
    Model = undefined;
  }
  if (!Model || Model.apiVersion !== apiVersion || Model.kind !== kind) {
    return [`no schema for ${apiVersion} ${kind}: a misspelt kind or API version`];
  }
  try {
    new Model(manifest).validate();
    return [];
  } catch (err) {
    // An ajv ValidationError: one entry per problem, each with its path.
    const errors = (err as { errors?: { instancePath: string; message?: string }[] }).errors;
    if (!errors) throw err;
    return errors.map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
  }
}
