import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fixture, fixtureOptions, parts } from './fixture.ts';
import { checkPolicy, imageTag } from './policy.ts';
import type { Manifest } from './render.ts';

// Each case breaks the fixture in one way; the checker must name that rule and
// no other. A checker that passed everything would fail every case here.
const breakages: [rule: string, what: string, breakIt: (m: Manifest[]) => void][] = [
  ['non-root', 'runAsNonRoot missing', (m) => delete parts(m).pod.securityContext.runAsNonRoot],
  ['non-root', 'a container running as user 0', (m) => (parts(m).container.securityContext.runAsUser = 0)],
  ['privilege-escalation', 'allowPrivilegeEscalation left out', (m) => delete parts(m).container.securityContext.allowPrivilegeEscalation],
  ['privilege-escalation', 'a privileged container', (m) => (parts(m).container.securityContext.privileged = true)],
  ['read-only-root', 'a writable root filesystem', (m) => (parts(m).container.securityContext.readOnlyRootFilesystem = false)],
  ['capabilities', 'capabilities not dropped', (m) => delete parts(m).container.securityContext.capabilities],
  ['capabilities', 'NET_ADMIN added', (m) => (parts(m).container.securityContext.capabilities.add = ['NET_ADMIN'])],
  ['seccomp', 'no seccomp profile', (m) => delete parts(m).pod.securityContext.seccompProfile],
  ['host-namespaces', 'hostNetwork', (m) => (parts(m).pod.hostNetwork = true)],
  ['host-namespaces', 'a hostPath volume', (m) => {
    parts(m).pod.volumes.push({ name: 'h', hostPath: { path: '/var/run' } });
  }],
  ['service-account-token', 'a mounted service account token', (m) => delete parts(m).pod.automountServiceAccountToken],
  ['probes', 'no readiness probe', (m) => delete parts(m).container.readinessProbe],
  ['probes', 'no liveness probe', (m) => delete parts(m).container.livenessProbe],
  ['resources', 'no memory limit', (m) => delete parts(m).container.resources.limits],
  ['resources', 'no CPU request', (m) => delete parts(m).container.resources.requests.cpu],
  ['image-tag', 'the latest tag', (m) => (parts(m).container.image = 'registry.example.test/mxpost:latest')],
  ['image-tag', 'no tag at all', (m) => (parts(m).container.image = 'registry.example.test:5000/mxpost')],
  ['grace-period', 'a grace period shorter than the drain', (m) => (parts(m).pod.terminationGracePeriodSeconds = 30)],
  ['grace-period', 'a preStop sleep that eats the margin', (m) => {
    parts(m).container.lifecycle = { preStop: { exec: { command: ['sleep', '10'] } } };
  }],
  ['worker-drain', 'a worker drain shorter than a request', (m) => {
    parts(m).container.env[1].value = '20000';
  }],
  ['env-reference', 'a $(VAR) nothing defines', (m) => (parts(m).container.env[2].value = 'redis://:$(REDIS_PASWORD)@redis:6379')],
  ['env-reference', 'a $(VAR) defined only after it', (m) => {
    const { container } = parts(m);
    container.env[2].value = 'redis://$(REDIS_HOST):6379';
    container.env.push({ name: 'REDIS_HOST', value: 'redis' });
  }],
  ['env-duplicate', 'the same variable twice', (m) => parts(m).container.env.push({ name: 'MXPOST_ROUTES', value: '/etc/mxpost/routes/routes.yaml' })],
  ['file-mounted', 'the routes file outside any mount', (m) => (parts(m).container.env[0].value = '/app/routes.yaml')],
  ['file-mounted', 'MXPOST_ROUTES left at its relative default', (m) => parts(m).container.env.splice(0, 1)],
  ['client-address', 'a LoadBalancer with externalTrafficPolicy Cluster', (m) => (parts(m).service.spec.externalTrafficPolicy = 'Cluster')],
  ['selects-nothing', 'a Service selecting no pod', (m) => (parts(m).service.spec.selector = { app: 'mxpots' })],
  ['port-name', 'a Service targeting a port no container names', (m) => (parts(m).service.spec.ports[0].targetPort = 'metrics')],
  ['port-name', 'a probe on a port the container does not name', (m) => (parts(m).container.readinessProbe.httpGet.port = 'admin')],
  ['scale-target', 'a ScaledObject scaling a missing Deployment', (m) => {
    (m.find((x) => x.kind === 'ScaledObject')!.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name = 'workers';
  }],
  ['scale-target', 'an autoscaled Deployment that sets replicas', (m) => (parts(m).deployment.spec.replicas = 2)],
  ['config-map', 'a ConfigMap that does not exist', (m) => (parts(m).pod.volumes[0].configMap.name = 'route')],
  ['secret', 'a Secret nobody documents', (m) => parts(m).container.envFrom.push({ secretRef: { name: 'webhook-secrets' } })],
  ['secret', 'a key the Secret does not have', (m) => {
    parts(m).container.env.push({ name: 'X', valueFrom: { secretKeyRef: { name: 'redis', key: 'password' } } });
  }],
  ['network-policy', 'pods no NetworkPolicy selects', (m) => m.splice(m.findIndex((x) => x.kind === 'NetworkPolicy'), 1)],
  ['disruption-budget', 'mxpost pods without a PodDisruptionBudget', (m) => m.splice(m.findIndex((x) => x.kind === 'PodDisruptionBudget'), 1)],
];

describe('deployment policy', () => {
  test('passes the fixture, which keeps every rule', () => {
    assert.deepEqual(checkPolicy(fixture(), fixtureOptions), []);
  });

  for (const [rule, what, breakIt] of breakages) {
    test(`rule ${rule} refuses ${what}`, () => {
      const manifests = fixture();
      breakIt(manifests);
      const rules = [...new Set(checkPolicy(manifests, fixtureOptions).map((v) => v.rule))];
      assert.deepEqual(rules, [rule]);
    });
  }

  test('a digest pins an image whatever its tag says', () => {
    const manifests = fixture();
    parts(manifests).container.image = `registry.example.test/mxpost:latest@sha256:${'a'.repeat(64)}`;
    assert.deepEqual(checkPolicy(manifests, fixtureOptions), []);
  });

  test('reads the tag after the last colon of the last path part, not a registry port', () => {
    assert.deepEqual(imageTag('registry:5000/team/mxpost'), { tag: null, digest: null });
    assert.deepEqual(imageTag('registry:5000/team/mxpost:1.0'), { tag: '1.0', digest: null });
  });

  test('a $(VAR) from a ConfigMap that envFrom imports is defined', () => {
    const manifests = fixture();
    parts(manifests).container.env[2].value = 'redis://$(MXPOST_HOSTNAME):6379';
    assert.deepEqual(checkPolicy(manifests, fixtureOptions), []);
  });
});
