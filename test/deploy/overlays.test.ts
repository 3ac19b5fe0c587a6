import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { QueueKeys } from 'bullmq';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { parseRoutes } from '../../src/config/routes.ts';
import { DELIVERY_QUEUE } from '../../src/queue/deliveries.ts';
import { envExample, EXTERNAL_SECRETS, ROOT, SETTING_DEFAULTS } from './contract.ts';
import { checkPolicy } from './policy.ts';
import { findConfigMap, settingOf } from './pods.ts';
import { kustomizeStatus, render, type Manifest } from './render.ts';
import { validateSchema } from './schema.ts';

// What each overlay promises (deploy/README.md); checked both ways, so an
// overlay that grows a part it should not have fails too.
// `safe`: what makes a 250 survive a crash of Redis's machine: the AOF on disk
// (fsync), a replica's copy (replica), or whatever the operator's Redis gives.
interface Expected {
  redis: 'external' | 'bundled';
  keda: boolean;
  tls: boolean;
  proxy: boolean;
  namespace: string;
  safe: 'fsync' | 'replica' | 'unknown';
}
const OVERLAYS: Record<string, Expected> = {
  minimal: { redis: 'external', keda: false, tls: false, proxy: false, namespace: '', safe: 'unknown' },
  'bundled-redis': { redis: 'bundled', keda: false, tls: false, proxy: false, namespace: '', safe: 'fsync' },
  production: { redis: 'external', keda: true, tls: true, proxy: false, namespace: 'mxpost', safe: 'fsync' },
  'production-aws': { redis: 'external', keda: true, tls: true, proxy: true, namespace: 'mxpost', safe: 'replica' },
};

const kustomize = kustomizeStatus();
// Only the render step depends on kubectl; say why it did not run.
const renderStep = kustomize.available ? {} : { skip: `render step skipped: ${kustomize.reason}` };

test('every overlay under deploy/overlays is tested here', () => {
  assert.deepEqual(readdirSync(`${ROOT}deploy/overlays`).sort(), Object.keys(OVERLAYS).sort());
});

for (const [overlay, expected] of Object.entries(OVERLAYS)) {
  describe(`deploy/overlays/${overlay}`, renderStep, () => {
    let manifests: Manifest[] = [];
    const find = (kind: string, name: string) => manifests.find((m) => m.kind === kind && m.metadata.name === name);
    const pod = (name: string) => (find('Deployment', name) ?? find('StatefulSet', name))!.spec as { template: { spec: IPodSpec } };
    const mxpost = (name: string) => pod(name).template.spec.containers.find((c) => c.name === 'mxpost')!;
    const setting = (c: IContainer, name: string) => settingOf(c, name, { manifests, namespace: expected.namespace, defaults: SETTING_DEFAULTS });

    before(() => {
      manifests = render(`${ROOT}deploy/overlays/${overlay}`);
    });

    test('every manifest is valid against its Kubernetes schema', async () => {
      const problems = await Promise.all(manifests.map(async (m) => (await validateSchema(m)).map((p) => `${m.kind}/${m.metadata.name}: ${p}`)));
      assert.deepEqual(problems.flat(), []);
    });

    test('keeps the deployment policy', () => {
      assert.deepEqual(checkPolicy(manifests, { defaults: SETTING_DEFAULTS, externalSecrets: EXTERNAL_SECRETS }), []);
    });

    test('runs receivers and workers as separate Deployments', () => {
      assert.deepEqual(mxpost('mxpost-receiver').args, ['receiver']);
      assert.deepEqual(mxpost('mxpost-worker').args, ['worker']);
      assert.equal(manifests.filter((m) => m.kind === 'Deployment').length, 2);
    });

    test('takes port 25 on a LoadBalancer into the port the receivers listen on', () => {
      const service = find('Service', 'mxpost-smtp')!.spec as { type: string; externalTrafficPolicy: string; ports: { port: number; targetPort: string }[] };
      assert.equal(service.type, 'LoadBalancer');
      assert.equal(service.externalTrafficPolicy, 'Local');
      assert.equal(service.ports.length, 1);
      assert.equal(service.ports[0]!.port, 25);
      const receiver = mxpost('mxpost-receiver');
      const target = receiver.ports!.find((p) => p.name === service.ports[0]!.targetPort)!;
      assert.equal(String(target.containerPort), setting(receiver, 'MXPOST_SMTP_PORT'));
      for (const c of [receiver, mxpost('mxpost-worker')]) {
        assert.equal(String(c.ports!.find((p) => p.name === 'http')!.containerPort), setting(c, 'MXPOST_HTTP_PORT'));
      }
    });

    test('scales receivers with a HorizontalPodAutoscaler and workers with KEDA or a fixed count', () => {
      const hpa = find('HorizontalPodAutoscaler', 'mxpost-receiver')!.spec as { scaleTargetRef: { name: string }; minReplicas: number };
      assert.equal(hpa.scaleTargetRef.name, 'mxpost-receiver');
      const scaled = find('ScaledObject', 'mxpost-worker')?.spec as { scaleTargetRef: { name: string }; minReplicaCount: number } | undefined;
      assert.equal(!!scaled, expected.keda);
      if (scaled) {
        assert.equal(scaled.scaleTargetRef.name, 'mxpost-worker');
        // With no worker, no delayed retry is ever moved back to waiting.
        assert.ok(scaled.minReplicaCount >= 1, 'KEDA must keep at least one worker');
      } else {
        assert.ok((find('Deployment', 'mxpost-worker')!.spec as { replicas: number }).replicas >= 1);
      }
      if (expected.namespace === 'mxpost') assert.ok(hpa.minReplicas >= 3, 'production keeps a receiver per zone');
    });

    test('points receivers and workers at one Redis', () => {
      const url = setting(mxpost('mxpost-receiver'), 'MXPOST_REDIS_URL')!;
      assert.equal(setting(mxpost('mxpost-worker'), 'MXPOST_REDIS_URL'), url);
      const { hostname, port } = redisUrl(url);
      const service = find('Service', hostname);
      assert.equal(!!service, expected.redis === 'bundled', `Redis host ${hostname}`);
      if (service) assert.ok((service.spec as { ports: { port: number }[] }).ports.some((p) => String(p.port) === port));
      assert.equal(!!find('StatefulSet', 'mxpost-redis'), expected.redis === 'bundled');
    });

    test('answers 250 only once the deliveries survive a crash of Redis', { skip: expected.safe === 'unknown' && 'depends on your Redis' }, () => {
      for (const c of [mxpost('mxpost-receiver'), mxpost('mxpost-worker')]) {
        if (expected.safe === 'fsync') assert.equal(setting(c, 'MXPOST_DURABILITY'), 'fsync');
        else assert.ok(Number(setting(c, 'MXPOST_REDIS_MIN_REPLICAS')) >= 1);
      }
    });

    test('has KEDA watch the Redis list where BullMQ keeps waiting deliveries', { skip: !expected.keda && 'no KEDA in this overlay' }, () => {
      const [trigger] = (find('ScaledObject', 'mxpost-worker')!.spec as { triggers: { type: string; metadata: Record<string, string> }[] }).triggers;
      const worker = mxpost('mxpost-worker');
      assert.equal(trigger!.type, 'redis');
      assert.equal(trigger!.metadata.listName, new QueueKeys(setting(worker, 'MXPOST_REDIS_PREFIX')).toKey(DELIVERY_QUEUE, 'wait'));
      const url = redisUrl(setting(worker, 'MXPOST_REDIS_URL')!);
      assert.equal(trigger!.metadata.address, `${url.hostname}:${url.port}`);
      assert.equal(trigger!.metadata.enableTLS, String(url.protocol === 'rediss:'));
      assert.equal(trigger!.metadata.databaseIndex ?? '0', url.pathname.slice(1) || '0');
    });

    test('runs the bundled Redis with an append-only file and noeviction', { skip: expected.redis !== 'bundled' && 'Redis is external' }, () => {
      const spec = pod('mxpost-redis').template.spec;
      const redis = spec.containers[0]!;
      const configVolume = spec.volumes!.find((v) => v.configMap)!;
      const mount = redis.volumeMounts!.find((m) => m.name === configVolume.name)!;
      const file = redis.args![0]!;
      assert.ok(file.startsWith(`${mount.mountPath}/`), `${file} is in the mounted config`);
      const config = (findConfigMap(manifests, '', configVolume.configMap!.name!)!.data as Record<string, string>)[file.slice(mount.mountPath.length + 1)]!;
      const directives = new Map([...config.matchAll(/^(\S+)\s+(.*)$/gm)].filter(([, k]) => !k!.startsWith('#')).map(([, k, v]) => [k!, v!]));
      assert.equal(directives.get('appendonly'), 'yes');
      assert.match(directives.get('appendfsync') ?? '', /^(always|everysec)$/);
      assert.equal(directives.get('maxmemory-policy'), 'noeviction');
      // On the persistent volume, not in the container's own (read-only) filesystem.
      const claim = (find('StatefulSet', 'mxpost-redis')!.spec as { volumeClaimTemplates: { metadata: { name: string } }[] }).volumeClaimTemplates[0]!;
      assert.equal(redis.volumeMounts!.find((m) => m.name === claim.metadata.name)!.mountPath, directives.get('dir'));
    });

    test('mounts a routes file that passes mxpost\'s own validation', () => {
      for (const name of ['mxpost-receiver', 'mxpost-worker']) {
        const c = mxpost(name);
        const path = setting(c, 'MXPOST_ROUTES')!;
        const mount = c.volumeMounts!.find((m) => path.startsWith(`${m.mountPath}/`))!;
        const volume = pod(name).template.spec.volumes!.find((v) => v.name === mount.name)!;
        const data = findConfigMap(manifests, expected.namespace, volume.configMap!.name!)!.data as Record<string, string>;
        const env = Object.fromEntries(EXTERNAL_SECRETS['mxpost-secrets']!.map((k) => [k, `whsec_${Buffer.alloc(24, 7).toString('base64')}`]));
        const routes = parseRoutes(data[path.slice(mount.mountPath.length + 1)]!, { source: path, env });
        assert.ok(routes.domains.size > 0);
      }
    });

    test('serves STARTTLS from a certificate for the MX host name only where it should', () => {
      const receiver = mxpost('mxpost-receiver');
      assert.equal((setting(receiver, 'MXPOST_TLS_CERT') ?? '') !== '', expected.tls);
      const certificate = find('Certificate', 'mxpost-tls')?.spec as { dnsNames: string[]; secretName: string } | undefined;
      assert.equal(!!certificate, expected.tls);
      if (certificate) {
        assert.ok(certificate.dnsNames.includes(setting(receiver, 'MXPOST_HOSTNAME')!));
        assert.ok(pod('mxpost-receiver').template.spec.volumes!.some((v) => v.secret?.secretName === certificate.secretName));
      }
    });

    test('expects the PROXY protocol only behind a load balancer that sends it', () => {
      const receiver = mxpost('mxpost-receiver');
      const mode = setting(receiver, 'MXPOST_PROXY_PROTOCOL') || 'off';
      assert.equal(mode !== 'off', expected.proxy);
      if (expected.proxy) {
        assert.match(mode, /^(v1|v2|auto)$/);
        assert.ok(setting(receiver, 'MXPOST_PROXY_TRUSTED'), 'PROXY headers need a trusted source range');
      }
    });

    test('puts everything in its namespace, under the restricted Pod Security Standard', { skip: !expected.namespace && 'applies to the current namespace' }, () => {
      const namespace = find('Namespace', expected.namespace)!;
      assert.equal(namespace.metadata.labels!['pod-security.kubernetes.io/enforce'], 'restricted');
      for (const m of manifests.filter((x) => x.kind !== 'Namespace')) assert.equal(m.metadata.namespace, expected.namespace, `${m.kind}/${m.metadata.name}`);
    });

    test('sets only settings that mxpost documents', () => {
      const known = new Set(envExample().keys());
      const used = manifests.flatMap((m) => [
        ...(m.kind === 'ConfigMap' ? Object.keys((m.data ?? {}) as object) : []),
        ...[...JSON.stringify(m.spec ?? {}).matchAll(/"name":"(MXPOST_[A-Z0-9_]+)"/g)].map(([, name]) => name!),
      ]);
      assert.deepEqual(used.filter((name) => name.startsWith('MXPOST_') && !known.has(name)), []);
    });
  });
}

function redisUrl(url: string): URL {
  // The kubelet fills in the password; any text parses the same.
  return new URL(url.replace('$(REDIS_PASSWORD)', 'x'));
}
