import type { ILabelSelector } from '@kubernetes-models/apimachinery/apis/meta/v1/LabelSelector';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import type { Manifest } from './render.ts';

/** A pod that a manifest asks for: a workload's template, or a bare Pod. */
export interface PodTemplate {
  readonly owner: Manifest;
  readonly where: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly spec: IPodSpec;
  /** Long-running pods need probes; a Job's do not. */
  readonly longRunning: boolean;
}

export function describe(m: Manifest): string {
  return `${m.kind}/${m.metadata.name}`;
}

export function namespaceOf(m: Manifest): string {
  return m.metadata.namespace ?? '';
}

export function podTemplates(manifests: readonly Manifest[]): PodTemplate[] {
  return manifests.flatMap((m): PodTemplate[] => {
    const spec = m.spec as { template?: IPodTemplateSpec; jobTemplate?: { spec?: { template?: IPodTemplateSpec } } } | undefined;
    let template: IPodTemplateSpec | undefined;
    if (m.kind === 'Pod') template = { metadata: m.metadata, spec: m.spec as IPodSpec };
    else if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(m.kind)) template = spec?.template;
    else if (m.kind === 'CronJob') template = spec?.jobTemplate?.spec?.template;
    if (!template?.spec) return [];
    return [{
      owner: m,
      where: describe(m),
      namespace: namespaceOf(m),
      labels: template.metadata?.labels ?? {},
      spec: template.spec,
      longRunning: !['Job', 'CronJob'].includes(m.kind),
    }];
  });
}

export function allContainers(spec: IPodSpec): IContainer[] {
  return [...(spec.initContainers ?? []), ...spec.containers];
}

/** The Kubernetes rule: every matchLabels pair and every expression holds. */
export function selects(selector: ILabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  const pairs = Object.entries(selector.matchLabels ?? {});
  const expressions = selector.matchExpressions ?? [];
  if (pairs.length === 0 && expressions.length === 0) return true;
  return (
    pairs.every(([k, v]) => labels[k] === v) &&
    expressions.every(({ key, operator, values = [] }) => {
      const has = key in labels;
      if (operator === 'In') return has && values.includes(labels[key]!);
      if (operator === 'NotIn') return !has || !values.includes(labels[key]!);
      if (operator === 'Exists') return has;
      return !has; // DoesNotExist
    })
  );
}

/** A Service's selector is a plain map: the same rule without expressions. */
export function selectsByMap(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return !!selector && Object.keys(selector).length > 0 && selects({ matchLabels: selector }, labels);
}

export function findConfigMap(manifests: readonly Manifest[], namespace: string, name: string): Manifest | undefined {
  return manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === name && namespaceOf(m) === namespace);
}

/** Whether the container runs the mxpost image (the image kustomize names `…/mxpost`). */
export function runsMxpost(container: IContainer): boolean {
  return /(^|\/)mxpost([:@]|$)/.test(container.image ?? '');
}

/**
 * A setting as the container will see it: its own env, else the ConfigMaps it
 * imports (the last one wins), else `defaults`. Undefined when its env entry
 * reads a Secret, whose content no manifest shows; imported Secrets are taken
 * to hold secrets only, none of the settings checked here.
 */
export function settingOf(
  container: IContainer,
  name: string,
  context: { manifests: readonly Manifest[]; namespace: string; defaults: Readonly<Record<string, string>> },
): string | undefined {
  const own = container.env?.find((e) => e.name === name);
  if (own) return own.valueFrom ? undefined : (own.value ?? '');
  for (const source of [...(container.envFrom ?? [])].reverse()) {
    if (source.secretRef) continue;
    const cm = source.configMapRef && findConfigMap(context.manifests, context.namespace, source.configMapRef.name ?? '');
    const data = (cm?.data ?? {}) as Record<string, string>;
    const key = name.slice((source.prefix ?? '').length);
    if (name.startsWith(source.prefix ?? '') && key in data) return data[key];
  }
  return context.defaults[name];
}

/** Seconds a preStop hook waits, by `sleep N` or the kubelet's own sleep action. */
export function preStopSeconds(container: IContainer): number {
  const preStop = container.lifecycle?.preStop;
  if (preStop?.sleep) return preStop.sleep.seconds;
  const command = preStop?.exec?.command ?? [];
  const i = command.findIndex((word) => /(^|\/)sleep$/.test(word));
  return i >= 0 ? Number(command[i + 1] ?? 0) : 0;
}
