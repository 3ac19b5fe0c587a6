import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_INLINE_LIMIT, parseRoutes, RoutesError } from '../../src/config/routes.ts';

// The routes-file keys that shape a domain's payloads: raw and attachments.inlineLimit.
const route = (options: string) =>
  parseRoutes(`domains:\n  example.test:\n    url: https://app.example/inbound\n    recipients: ["*"]\n${options}`, { source: 'routes.yaml', env: {} });
const payloadOptions = (options: string) => route(options).domains.get('example.test')!.payload;
const problems = (options: string): string[] => {
  try {
    route(options);
    return [];
  } catch (err) {
    assert.ok(err instanceof RoutesError);
    return err.problems.map((p) => `${p.line}:${p.path}: ${p.message}`);
  }
};

test('leaves out the raw MIME and inlines 5 MiB of attachments by default', () => {
  assert.deepEqual(payloadOptions(''), { raw: false, inlineLimit: DEFAULT_INLINE_LIMIT });
  assert.equal(DEFAULT_INLINE_LIMIT, 5 * 1024 * 1024);
});

test('reads raw and an inline limit given in bytes or with a binary unit', () => {
  assert.deepEqual(payloadOptions('    raw: true\n    attachments: { inlineLimit: 1048576 }\n'), { raw: true, inlineLimit: 1024 * 1024 });
  assert.equal(payloadOptions('    attachments: { inlineLimit: 512KiB }\n').inlineLimit, 512 * 1024);
  assert.equal(payloadOptions('    attachments: { inlineLimit: "10 MiB" }\n').inlineLimit, 10 * 1024 * 1024);
  assert.equal(payloadOptions('    attachments: { inlineLimit: 0 }\n').inlineLimit, 0);
});

test('refuses an inline limit that is not a size, with its line', () => {
  assert.deepEqual(problems('    attachments: { inlineLimit: 5MB }\n'), [
    '5:domains."example.test".attachments.inlineLimit: must be a number of bytes or a size such as 512KiB or 5MiB, from 0 to 1GiB, got "5MB"',
  ]);
  assert.equal(problems('    attachments: { inlineLimit: -1 }\n').length, 1);
  assert.equal(problems('    attachments: { inlineLimit: 2GiB }\n').length, 1);
});

test('refuses unknown keys under attachments and a raw that is not a boolean', () => {
  assert.match(problems('    attachments: { limit: 5 }\n')[0]!, /allowed keys are inlineLimit/);
  assert.match(problems('    raw: yes please\n')[0]!, /raw/);
});

test('gives per-address endpoints their domain\'s payload options', async () => {
  const { resolveRecipient } = await import('../../src/routing/resolve.ts');
  const routes = route('    raw: true\n    addresses:\n      billing: { url: https://app.example/billing }\n');
  const resolution = resolveRecipient(routes, 'billing@example.test');
  assert.ok(resolution.ok);
  assert.equal(resolution.target.payload.raw, true);
});
