import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../src/observability/logger.ts';

test('redacts secrets and webhook signatures wherever they are logged', async () => {
  const lines: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  // pino writes synchronously to stdout by default: capture it for this test.
  process.stdout.write = ((chunk: string | Uint8Array) => (lines.push(String(chunk)), true)) as typeof process.stdout.write;
  try {
    const logger = createLogger({ level: 'info' });
    logger.info({ secret: 'whsec_AAAA', route: { secrets: ['whsec_BBBB'] }, request: { headers: { 'webhook-signature': 'v1,CCCC' } } }, 'x');
    logger.flush();
  } finally {
    process.stdout.write = original;
  }
  const line = lines.join('');
  for (const leaked of ['whsec_AAAA', 'whsec_BBBB', 'v1,CCCC']) assert.ok(!line.includes(leaked), `${leaked} is not in ${line}`);
  assert.equal((line.match(/\[redacted\]/g) ?? []).length, 3);
});
