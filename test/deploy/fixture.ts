import { parseManifests, type Manifest } from './render.ts';

/**
 * A small installation that keeps every rule of policy.ts: policy.test.ts
 * breaks one thing at a time and expects exactly that rule to object.
 */
const YAML = `
apiVersion: v1
kind: ConfigMap
metadata: { name: env }
data: { MXPOST_HOSTNAME: mx.example.test }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: routes }
data: { routes.yaml: "domains: {}" }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: worker }
spec:
  selector: { matchLabels: { app: mxpost, role: worker } }
  template:
    metadata: { labels: { app: mxpost, role: worker } }
    spec:
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: 45
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: RuntimeDefault } }
      containers:
        - name: mxpost
          image: registry.example.test/mxpost:1.2.3
          args: [worker]
          ports: [{ name: http, containerPort: 8080 }]
          env:
            - { name: MXPOST_ROUTES, value: /etc/mxpost/routes/routes.yaml }
            - { name: MXPOST_SHUTDOWN_TIMEOUT_MS, value: "35000" }
            - { name: MXPOST_REDIS_URL, value: "redis://:$(REDIS_PASSWORD)@redis:6379" }
          envFrom:
            - configMapRef: { name: env }
            - secretRef: { name: redis }
          readinessProbe: { httpGet: { path: /readyz, port: http } }
          livenessProbe: { httpGet: { path: /healthz, port: http } }
          resources: { requests: { cpu: 100m, memory: 256Mi }, limits: { memory: 1Gi } }
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: [ALL] } }
          volumeMounts: [{ name: routes, mountPath: /etc/mxpost/routes }]
      volumes:
        - { name: routes, configMap: { name: routes } }
---
apiVersion: v1
kind: Service
metadata: { name: smtp }
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: { app: mxpost }
  ports: [{ name: http, port: 80, targetPort: http }]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: worker }
spec: { maxUnavailable: 1, selector: { matchLabels: { app: mxpost } } }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: mxpost }
spec:
  podSelector: { matchLabels: { app: mxpost } }
  ingress: [{ ports: [{ port: http }] }]
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: { name: worker }
spec:
  scaleTargetRef: { name: worker }
  triggers: [{ type: redis, metadata: { listName: "mxpost:deliveries:wait", listLength: "5" } }]
`;

export function fixture(): Manifest[] {
  return parseManifests(YAML, 'fixture');
}

export const fixtureOptions = {
  defaults: { MXPOST_ROUTES: 'routes.yaml', MXPOST_SHUTDOWN_TIMEOUT_MS: '25000', MXPOST_DELIVERY_TIMEOUT_MS: '30000' },
  externalSecrets: { redis: ['REDIS_PASSWORD'] },
};

/** The fixture's one Deployment's pod spec and container, for tests to break. */
export function parts(manifests: Manifest[]) {
  const deployment = manifests.find((m) => m.kind === 'Deployment')! as Manifest & { spec: any };
  const pod = deployment.spec.template.spec;
  return { deployment, pod, container: pod.containers[0], service: manifests.find((m) => m.kind === 'Service')! as Manifest & { spec: any } };
}
