// The benchmark is measured by hand (npm run bench); here it only has to still
// work: `--quick` runs every system once under a small load and must print the
// table with a rate for each. No timing is asserted.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { SYSTEMS } from '../../bench/harness/systems.ts';

const RUN = new URL('../../bench/run.ts', import.meta.url).pathname;
// bench/run.ts exits with this when it cannot install smtp-source or Haraka here.
const EXIT_SKIP = 77;

test('bench/run.ts --quick prints a rate for every system, and the end-to-end and memory tables', { timeout: 240_000 }, async (t) => {
  const child = spawn(process.execPath, [RUN, '--quick'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code === EXIT_SKIP) {
    t.skip(/skipped: (.*)/.exec(stderr)?.[1] ?? 'the benchmark cannot run on this machine');
    return;
  }
  assert.equal(code, 0, `bench/run.ts --quick failed:\n${stderr}`);
  for (const system of SYSTEMS) {
    const escaped = system.label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    assert.match(stdout, new RegExp(`\\| ${escaped} \\| \\d+ \\|`), `no rate for ${system.label}:\n${stdout}`);
  }
  assert.match(stdout, /\| mxpost serve \| \d+ \| [\d.]+ \| \d+ \| 0 \|/, 'end to end: every paced message accepted');
  assert.match(stdout, /## Memory: peak RSS/);
  assert.match(stdout, /## Redis memory per queued message/);
});
