import type { IContainer } from 'kubernetes-models/v1/Container';
import { checkReferences } from './references.ts';
import type { Manifest } from './render.ts';
import { allContainers, podTemplates, preStopSeconds, runsMxpost, settingOf, findConfigMap, type PodTemplate } from './pods.ts';

/**
 * What the schemas cannot say about our manifests: the restricted security
 * profile, probes, resources, pinned images, and the ties between settings and
 * the manifests around them. Each rule has a test that feeds it a manifest
 * breaking it (policy.test.ts).
 */

export interface Violation {
  readonly rule: string;
  readonly where: string;
  readonly message: string;
}

export interface PolicyOptions {
  /** The MXPOST_* defaults, for settings a manifest leaves unset. */
  readonly defaults: Readonly<Record<string, string>>;
  /** Secrets the operator creates (none is in the repository), with their keys. */
  readonly externalSecrets: Readonly<Record<string, readonly string[]>>;
}

export type Report = (rule: string, where: string, message: string) => void;

export function checkPolicy(manifests: readonly Manifest[], options: PolicyOptions): Violation[] {
  const violations: Violation[] = [];
  const report: Report = (rule, where, message) => violations.push({ rule, where, message });
  for (const pod of podTemplates(manifests)) checkPod(pod, manifests, options, report);
  checkReferences(manifests, options, report);
  return violations;
}

function checkPod(pod: PodTemplate, manifests: readonly Manifest[], options: PolicyOptions, report: Report): void {
  const { spec, where } = pod;
  const podSecurity = spec.securityContext ?? {};
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) report('host-namespaces', where, 'shares a host namespace');
  for (const volume of spec.volumes ?? []) {
    if (volume.hostPath) report('host-namespaces', where, `volume ${volume.name} mounts a host path`);
  }
  if (spec.automountServiceAccountToken !== false) report('service-account-token', where, 'mounts a service account token it has no use for');

  for (const c of allContainers(spec)) {
    const at = `${where} container ${c.name}`;
    const security = c.securityContext ?? {};
    if (!(security.runAsNonRoot ?? podSecurity.runAsNonRoot)) report('non-root', at, 'runAsNonRoot is not true');
    if ((security.runAsUser ?? podSecurity.runAsUser) === 0) report('non-root', at, 'runs as user 0');
    if (security.allowPrivilegeEscalation !== false || security.privileged) report('privilege-escalation', at, 'allowPrivilegeEscalation is not false');
    if (security.readOnlyRootFilesystem !== true) report('read-only-root', at, 'readOnlyRootFilesystem is not true');
    if (!security.capabilities?.drop?.includes('ALL')) report('capabilities', at, 'does not drop ALL capabilities');
    // The restricted Pod Security Standard allows adding back this one alone.
    for (const cap of security.capabilities?.add ?? []) {
      if (cap !== 'NET_BIND_SERVICE') report('capabilities', at, `adds capability ${cap}`);
    }
    const seccomp = (security.seccompProfile ?? podSecurity.seccompProfile)?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') report('seccomp', at, 'no RuntimeDefault seccomp profile');
    if (c.ports?.some((p) => p.hostPort)) report('host-namespaces', at, 'binds a host port');
    checkResources(c, at, report);
    checkImage(c, at, report);
    checkEnv(c, at, pod, manifests, options, report);
  }
  if (pod.longRunning) {
    for (const c of spec.containers) {
      const at = `${where} container ${c.name}`;
      if (!c.readinessProbe) report('probes', at, 'no readinessProbe');
      if (!c.livenessProbe) report('probes', at, 'no livenessProbe');
    }
  }
  for (const c of spec.containers.filter(runsMxpost)) checkMxpost(c, pod, manifests, options, report);
}

function checkResources(c: IContainer, at: string, report: Report): void {
  const { requests = {}, limits = {} } = c.resources ?? {};
  if (requests.cpu === undefined) report('resources', at, 'no CPU request');
  if (requests.memory === undefined) report('resources', at, 'no memory request');
  // A CPU limit is left to taste (it throttles); a memory limit is not.
  if (limits.memory === undefined) report('resources', at, 'no memory limit');
}

/** Splits `registry:port/name:tag@sha256:…`; the tag is after the last colon of the last path part. */
export function imageTag(image: string): { tag: string | null; digest: string | null } {
  const [ref = '', digest = null] = image.split('@');
  const last = ref.slice(ref.lastIndexOf('/') + 1);
  return { tag: last.includes(':') ? last.slice(last.indexOf(':') + 1) : null, digest };
}

function checkImage(c: IContainer, at: string, report: Report): void {
  const { tag, digest } = imageTag(c.image ?? '');
  if (!c.image) report('image-tag', at, 'no image');
  else if (!digest && (tag === null || tag === 'latest')) report('image-tag', at, `image ${c.image} is not pinned to a version`);
}

function checkEnv(c: IContainer, at: string, pod: PodTemplate, manifests: readonly Manifest[], options: PolicyOptions, report: Report): void {
  // What $(NAME) can refer to (kubelet: every envFrom variable, then each env
  // entry above the one being expanded).
  const known = new Set<string>();
  for (const source of c.envFrom ?? []) {
    const prefix = source.prefix ?? '';
    const keys = source.configMapRef
      ? Object.keys((findConfigMap(manifests, pod.namespace, source.configMapRef.name ?? '')?.data ?? {}) as object)
      : (options.externalSecrets[source.secretRef?.name ?? ''] ?? []);
    for (const key of keys) known.add(prefix + key);
  }
  const seen = new Set<string>();
  for (const e of c.env ?? []) {
    if (seen.has(e.name)) report('env-duplicate', at, `${e.name} is set twice`);
    seen.add(e.name);
    for (const [, ref] of (e.value ?? '').matchAll(/(?<!\$)\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
      if (!known.has(ref!)) report('env-reference', at, `${e.name} refers to $(${ref}), which is not defined before it; the kubelet would leave it as text`);
    }
    known.add(e.name);
  }
}

// Settings that name a file the process must find in the container.
const FILE_SETTINGS = ['MXPOST_ROUTES', 'MXPOST_TLS_CERT', 'MXPOST_TLS_KEY'];

function checkMxpost(c: IContainer, pod: PodTemplate, manifests: readonly Manifest[], options: PolicyOptions, report: Report): void {
  const at = `${pod.where} container ${c.name}`;
  const context = { manifests, namespace: pod.namespace, defaults: options.defaults };
  const ms = (name: string) => Number(settingOf(c, name, context));

  // SIGKILL must not cut the drain short: the preStop wait, then the drain.
  const grace = pod.spec.terminationGracePeriodSeconds ?? 30;
  const needed = preStopSeconds(c) + ms('MXPOST_SHUTDOWN_TIMEOUT_MS') / 1000;
  if (!(grace > needed)) {
    report('grace-period', at, `terminationGracePeriodSeconds ${grace} is not longer than preStop ${preStopSeconds(c)} s + MXPOST_SHUTDOWN_TIMEOUT_MS`);
  }
  // A worker stopped mid-request leaves the job to a lapsing lock, and the
  // endpoint gets the delivery twice.
  if (c.args?.includes('worker') && ms('MXPOST_SHUTDOWN_TIMEOUT_MS') < ms('MXPOST_DELIVERY_TIMEOUT_MS')) {
    report('worker-drain', at, 'MXPOST_SHUTDOWN_TIMEOUT_MS is shorter than one delivery request (MXPOST_DELIVERY_TIMEOUT_MS)');
  }

  const mounts = (c.volumeMounts ?? []).map((m) => m.mountPath.replace(/\/$/, '') + '/');
  const names = [...FILE_SETTINGS, ...(c.env ?? []).map((e) => e.name).filter((n) => n.endsWith('_FILE'))];
  for (const name of names) {
    const path = settingOf(c, name, context);
    if (path === undefined || path === '') continue;
    if (!mounts.some((m) => path.startsWith(m))) report('file-mounted', at, `${name}=${path} is not inside a mounted volume`);
  }
}
