import type { ILabelSelector } from '@kubernetes-models/apimachinery/apis/meta/v1/LabelSelector';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IServiceSpec } from 'kubernetes-models/v1/ServiceSpec';
import type { PolicyOptions, Report } from './policy.ts';
import type { Manifest } from './render.ts';
import { allContainers, describe, findConfigMap, namespaceOf, podTemplates, runsMxpost, selects, selectsByMap, type PodTemplate } from './pods.ts';

/**
 * Names that must meet: a selector that selects no pod, a port name no
 * container has, a ConfigMap or Secret nobody provides. Kubernetes accepts
 * each of them and then quietly does nothing.
 */
export function checkReferences(manifests: readonly Manifest[], options: PolicyOptions, report: Report): void {
  const pods = podTemplates(manifests);
  const podsIn = (m: Manifest) => pods.filter((p) => p.namespace === namespaceOf(m));

  for (const m of manifests) {
    const where = describe(m);
    if (m.kind === 'Service') {
      const spec = m.spec as IServiceSpec;
      if (spec.type === 'LoadBalancer' && spec.externalTrafficPolicy !== 'Local') {
        report('client-address', where, 'a LoadBalancer without externalTrafficPolicy: Local hides the client address that SPF needs');
      }
      if (!spec.selector) continue;
      const selected = podsIn(m).filter((p) => selectsByMap(spec.selector, p.labels));
      if (selected.length === 0) report('selects-nothing', where, 'its selector matches no pod');
      for (const port of spec.ports ?? []) {
        const target = port.targetPort ?? port.port;
        for (const p of selected) {
          if (!hasPort(p, target)) report('port-name', where, `port ${port.name ?? port.port} targets ${target}, which ${p.where} does not expose`);
        }
      }
    }
    if (m.kind === 'PodDisruptionBudget') {
      const selector = (m.spec as { selector?: ILabelSelector }).selector;
      if (!podsIn(m).some((p) => selects(selector, p.labels))) report('selects-nothing', where, 'its selector matches no pod');
    }
    if (m.kind === 'NetworkPolicy') {
      const spec = m.spec as { podSelector: ILabelSelector; ingress?: { ports?: { port?: number | string }[] }[] };
      const selected = podsIn(m).filter((p) => selects(spec.podSelector, p.labels));
      if (selected.length === 0) report('selects-nothing', where, 'its podSelector matches no pod');
      for (const port of (spec.ingress ?? []).flatMap((rule) => rule.ports ?? [])) {
        if (typeof port.port !== 'string') continue;
        for (const p of selected) if (!hasPort(p, port.port)) report('port-name', where, `allows port ${port.port}, which ${p.where} does not name`);
      }
    }
    if (m.kind === 'HorizontalPodAutoscaler' || m.kind === 'ScaledObject') checkScaleTarget(m, manifests, report);
    if (m.kind === 'TriggerAuthentication') {
      for (const ref of (m.spec as { secretTargetRef?: { name: string; key: string }[] }).secretTargetRef ?? []) {
        checkSecret(m, ref.name, ref.key, manifests, options, report);
      }
    }
  }

  for (const p of pods) {
    checkPodReferences(p, manifests, options, report);
    const namespaced = manifests.filter((m) => namespaceOf(m) === p.namespace);
    const covered = (kind: string, selectorOf: (m: Manifest) => ILabelSelector) =>
      namespaced.some((m) => m.kind === kind && selects(selectorOf(m), p.labels));
    if (!covered('NetworkPolicy', (m) => (m.spec as { podSelector: ILabelSelector }).podSelector)) {
      report('network-policy', p.where, 'no NetworkPolicy selects its pods');
    }
    if (p.spec.containers.some(runsMxpost) && !covered('PodDisruptionBudget', (m) => (m.spec as { selector: ILabelSelector }).selector)) {
      report('disruption-budget', p.where, 'no PodDisruptionBudget covers its pods');
    }
  }
}

function hasPort(pod: PodTemplate, target: number | string): boolean {
  return pod.spec.containers.some((c) => (c.ports ?? []).some((port) => (typeof target === 'number' ? port.containerPort === target : port.name === target)));
}

function checkScaleTarget(m: Manifest, manifests: readonly Manifest[], report: Report): void {
  const ref = (m.spec as { scaleTargetRef: { kind?: string; name: string } }).scaleTargetRef;
  // KEDA's default kind is Deployment.
  const kind = ref.kind ?? 'Deployment';
  const target = manifests.find((t) => t.kind === kind && t.metadata.name === ref.name && namespaceOf(t) === namespaceOf(m));
  if (!target) {
    report('scale-target', describe(m), `scales ${kind}/${ref.name}, which is not in the manifests`);
  } else if ((target.spec as { replicas?: number }).replicas !== undefined) {
    report('scale-target', describe(target), `sets replicas while ${describe(m)} scales it: every apply would reset the count`);
  }
}

function checkPodReferences(p: PodTemplate, manifests: readonly Manifest[], options: PolicyOptions, report: Report): void {
  const configMap = (name: string | undefined, optional: boolean | undefined) => {
    if (!optional && !findConfigMap(manifests, p.namespace, name ?? '')) report('config-map', p.where, `refers to ConfigMap ${name}, which is not in the manifests`);
  };
  for (const v of p.spec.volumes ?? []) {
    if (v.configMap) configMap(v.configMap.name, v.configMap.optional);
    if (v.secret && !v.secret.optional) checkSecret(p.owner, v.secret.secretName ?? '', null, manifests, options, report);
  }
  for (const c of allContainers(p.spec)) {
    for (const source of c.envFrom ?? []) {
      if (source.configMapRef) configMap(source.configMapRef.name, source.configMapRef.optional);
      if (source.secretRef && !source.secretRef.optional) checkSecret(p.owner, source.secretRef.name ?? '', null, manifests, options, report);
    }
    for (const e of c.env ?? []) {
      const from = e.valueFrom;
      if (from?.configMapKeyRef) configMap(from.configMapKeyRef.name, from.configMapKeyRef.optional);
      if (from?.secretKeyRef && !from.secretKeyRef.optional) checkSecret(p.owner, from.secretKeyRef.name ?? '', from.secretKeyRef.key, manifests, options, report);
    }
    checkProbePorts(c, p, report);
  }
}

function checkProbePorts(c: IContainer, p: PodTemplate, report: Report): void {
  for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
    const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port;
    if (typeof port === 'string' && !(c.ports ?? []).some((cp) => cp.name === port)) {
      report('port-name', `${p.where} container ${c.name}`, `a probe uses port ${port}, which the container does not name`);
    }
  }
}

/** A Secret is either among the manifests or one the operator is told to create, with that key. */
function checkSecret(owner: Manifest, name: string, key: string | null, manifests: readonly Manifest[], options: PolicyOptions, report: Report): void {
  const rendered = manifests.find((m) => m.kind === 'Secret' && m.metadata.name === name && namespaceOf(m) === namespaceOf(owner));
  const keys = rendered
    ? Object.keys({ ...((rendered.data as object) ?? {}), ...((rendered.stringData as object) ?? {}) })
    : options.externalSecrets[name];
  if (!keys) report('secret', describe(owner), `refers to Secret ${name}, which is neither in the manifests nor documented`);
  else if (key !== null && !keys.includes(key)) report('secret', describe(owner), `reads key ${key} of Secret ${name}, which does not have it`);
}
