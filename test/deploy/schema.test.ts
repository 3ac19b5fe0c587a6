import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { ROOT } from './contract.ts';
import { fixture } from './fixture.ts';
import { readManifests } from './render.ts';
import { validateSchema } from './schema.ts';

describe('schema validation', () => {
  test('accepts valid manifests of Kubernetes and of KEDA', async () => {
    for (const m of fixture()) assert.deepEqual(await validateSchema(m), [], `${m.kind}`);
  });

  test('refuses a misspelt kind and an API version Kubernetes no longer serves', async () => {
    assert.match((await validateSchema({ apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'x' } }))[0]!, /no schema/);
    assert.match((await validateSchema({ apiVersion: 'autoscaling/v2beta2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x' } }))[0]!, /no longer served/);
  });

  test('refuses fields of the wrong type and missing required ones', async () => {
    const [, , deployment] = fixture();
    (deployment!.spec as { replicas: unknown }).replicas = 'two';
    delete (deployment!.spec as { selector?: unknown }).selector;
    assert.deepEqual((await validateSchema(deployment!)).sort(), ['/spec must have required property selector', '/spec/replicas must be integer']);
  });

  test('refuses a KEDA ScaledObject without a target', async () => {
    const scaled = fixture().find((m) => m.kind === 'ScaledObject')!;
    delete (scaled.spec as { scaleTargetRef?: unknown }).scaleTargetRef;
    assert.match((await validateSchema(scaled)).join(), /scaleTargetRef/);
  });

  test('refuses a resource quantity that is not one', async () => {
    const [, , deployment] = fixture();
    (deployment!.spec as { template: { spec: { containers: { resources: { limits: object } }[] } } }).template.spec.containers[0]!.resources.limits = { memory: '1 GB' };
    assert.notDeepEqual(await validateSchema(deployment!), []);
  });
});

// Runs without kubectl: the files kustomize would read, before it patches them.
test('every resource file that a kustomization under deploy/ lists is valid against its schema', async () => {
  const problems: string[] = [];
  for (const file of resourceFiles(join(ROOT, 'deploy'))) {
    for (const m of readManifests(file)) {
      for (const p of await validateSchema(m)) problems.push(`${relative(ROOT, file)} ${m.kind}/${m.metadata.name}: ${p}`);
    }
  }
  assert.deepEqual(problems, []);
});

function resourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) files.push(...resourceFiles(path));
    else if (entry === 'kustomization.yaml') {
      const { resources = [] } = parse(readFileSync(path, 'utf8')) as { resources?: string[] };
      for (const resource of resources) {
        const target = join(dirname(path), resource);
        if (existsSync(target) && statSync(target).isFile()) files.push(target);
      }
    }
  }
  return files;
}
