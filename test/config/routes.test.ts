import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadRoutes, parseRoutes, RoutesError } from '../../src/config/routes.ts';
import type { RoutesProblem } from '../../src/config/routes.ts';

const EXAMPLE = new URL('../fixtures/routes/example.yaml', import.meta.url).pathname;
const SOURCE = 'routes.yaml';

/** One YAML line per argument, so a test reads its expected line number off the list. */
function yaml(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

function parse(text: string, env: NodeJS.ProcessEnv = {}) {
  return parseRoutes(text, { source: SOURCE, env });
}

/** The problems a routes file is refused with; fails the test if it is accepted. */
function problemsOf(text: string, env: NodeJS.ProcessEnv = {}): readonly RoutesProblem[] {
  try {
    parse(text, env);
  } catch (err) {
    assert.ok(err instanceof RoutesError, `expected a RoutesError, got ${String(err)}`);
    assert.equal(err.name, 'RoutesError');
    return err.problems;
  }
  assert.fail('the routes file was accepted');
}

/** The only problem of a file; fails when there are none or several. */
function onlyProblem(text: string, env: NodeJS.ProcessEnv = {}): RoutesProblem {
  const problems = problemsOf(text, env);
  assert.equal(problems.length, 1, `expected one problem, got:\n${problems.map((p) => p.message).join('\n')}`);
  return problems[0]!;
}

describe('routes file: accepted shapes', () => {
  test('the documented example loads: env secret, catch-all, listed recipients, address override', async () => {
    const routes = await loadRoutes(EXAMPLE, { EXAMPLE_TEST_WEBHOOK_SECRET: 'whsec_AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=' });

    assert.equal(routes.source, EXAMPLE);
    assert.deepEqual([...routes.domains.keys()], ['example.test', 'tickets.test']);

    const example = routes.domains.get('example.test');
    assert.ok(example);
    assert.equal(example.domain, 'example.test');
    assert.deepEqual(example.endpoint, { url: 'http://127.0.0.1:9000/inbound', secrets: ['whsec_AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE='] });
    assert.equal(example.catchAll, true);
    assert.deepEqual([...example.recipients], []);
    assert.equal(example.addresses.size, 0);

    const tickets = routes.domains.get('tickets.test');
    assert.ok(tickets);
    assert.deepEqual(tickets.endpoint, { url: 'http://127.0.0.1:9000/tickets', secrets: [] });
    assert.equal(tickets.catchAll, false);
    assert.deepEqual([...tickets.recipients], ['support', 'billing']);
    assert.deepEqual(tickets.addresses.get('billing'), { url: 'http://127.0.0.1:9000/billing', secrets: [] });
  });

  test('a per-address endpoint without a secret inherits its domain secrets; one with a secret keeps its own', () => {
    const routes = parse(
      yaml(
        'domains:',
        '  tickets.test:',
        '    url: https://hooks.test/tickets',
        '    secret: [whsec_AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=, whsec_AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=]',
        '    recipients: [support]',
        '    addresses:',
        '      billing: { url: https://hooks.test/billing }',
        '      sales: { url: https://hooks.test/sales, secret: whsec_BAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ= }',
      ),
    );
    const tickets = routes.domains.get('tickets.test');
    assert.deepEqual(tickets?.addresses.get('billing')?.secrets, ['whsec_AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=', 'whsec_AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=']);
    assert.deepEqual(tickets?.addresses.get('sales')?.secrets, ['whsec_BAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ=']);
  });

  test('an address listed under addresses is accepted without being in recipients', () => {
    const routes = parse(
      yaml(
        'domains:',
        '  tickets.test:',
        '    url: https://hooks.test/',
        '    recipients: [support]',
        '    addresses:',
        '      billing: { url: https://hooks.test/billing }',
      ),
    );
    const tickets = routes.domains.get('tickets.test');
    assert.equal(tickets?.recipients.has('billing'), false);
    assert.equal(tickets?.addresses.has('billing'), true);
  });

  test('a secret list keeps its order, newest first, and mixes env: and inline literals', () => {
    const routes = parse(
      yaml(
        'domains:',
        '  a.test:',
        '    url: https://hooks.test/',
        '    secret: [env:NEW_SECRET, whsec_BgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgY=]',
        '    recipients: ["*"]',
      ),
      { NEW_SECRET: 'whsec_BQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU=' },
    );
    assert.deepEqual(routes.domains.get('a.test')?.endpoint.secrets, ['whsec_BQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU=', 'whsec_BgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgY=']);
  });

  describe('secret from the file named by NAME_FILE', () => {
    let dir = '';
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'mxpost-routes-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    test('env:NAME reads NAME_FILE when NAME is unset, without the trailing newline', async () => {
      const secretFile = join(dir, 'secret');
      await writeFile(secretFile, 'whsec_BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n');
      const routes = parse(
        yaml('domains:', '  a.test:', '    url: https://hooks.test/', '    secret: env:HOOK_SECRET', '    recipients: ["*"]'),
        { HOOK_SECRET_FILE: secretFile },
      );
      assert.deepEqual(routes.domains.get('a.test')?.endpoint.secrets, ['whsec_BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=']);
    });

    test('env:NAME with both NAME and NAME_FILE set is refused at the secret line', async () => {
      const secretFile = join(dir, 'both');
      await writeFile(secretFile, 'x');
      const problem = onlyProblem(
        yaml('domains:', '  a.test:', '    url: https://hooks.test/', '    secret: env:HOOK_SECRET', '    recipients: ["*"]'),
        { HOOK_SECRET: 'y', HOOK_SECRET_FILE: secretFile },
      );
      assert.equal(problem.line, 4);
      assert.match(problem.message, /HOOK_SECRET and HOOK_SECRET_FILE are both set/);
    });
  });

  test('a Unicode domain and its xn-- form give the same ASCII lower-case key', () => {
    const route = (domain: string) =>
      yaml('domains:', `  ${domain}:`, '    url: https://hooks.test/', '    recipients: ["*"]');
    const unicode = parse(route('Bücher.TEST'));
    const ascii = parse(route('xn--bcher-kva.test'));
    assert.deepEqual([...unicode.domains.keys()], ['xn--bcher-kva.test']);
    assert.deepEqual([...ascii.domains.keys()], ['xn--bcher-kva.test']);
    assert.equal(unicode.domains.get('xn--bcher-kva.test')?.domain, 'xn--bcher-kva.test');
  });

  test('local parts are compared case-insensitively: recipients and addresses are stored lower-cased', () => {
    const routes = parse(
      yaml(
        'domains:',
        '  a.test:',
        '    url: https://hooks.test/',
        '    recipients: [Support, SALES]',
        '    addresses:',
        '      Billing: { url: https://hooks.test/billing }',
      ),
    );
    const route = routes.domains.get('a.test');
    assert.deepEqual([...(route?.recipients ?? [])], ['support', 'sales']);
    assert.deepEqual([...(route?.addresses.keys() ?? [])], ['billing']);
  });

  test('"*" among named recipients sets catchAll and is not itself a recipient', () => {
    const routes = parse(yaml('domains:', '  a.test:', '    url: https://hooks.test/', '    recipients: [support, "*"]'));
    const route = routes.domains.get('a.test');
    assert.equal(route?.catchAll, true);
    assert.deepEqual([...(route?.recipients ?? [])], ['support']);
  });

  test('the loaded routes are frozen', () => {
    const routes = parse(yaml('domains:', '  a.test:', '    url: https://hooks.test/', '    secret: whsec_CAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg=', '    recipients: ["*"]'));
    const route = routes.domains.get('a.test');
    assert.ok(Object.isFrozen(routes));
    assert.ok(Object.isFrozen(route));
    assert.ok(Object.isFrozen(route?.endpoint));
    assert.ok(Object.isFrozen(route?.endpoint.secrets));
  });
});

describe('routes file: problems are placed at their line and named', () => {
  test('a non-http(s) URL is refused at the value, as source:line:col: path: message', () => {
    const problem = onlyProblem(
      yaml(
        'domains:',
        '  example.test:',
        '    url: http://127.0.0.1:9000/inbound',
        '    recipients: ["*"]',
        '  tickets.test:',
        '    recipients: [support]',
        '    url: ftp://x',
      ),
    );
    assert.deepEqual(problem, {
      line: 7,
      column: 10,
      path: 'domains."tickets.test".url',
      message: 'must be an http(s) URL, got "ftp://x"',
    });
    assert.throws(
      () => parse(yaml('domains:', '  tickets.test:', '    recipients: [support]', '    url: ftp://x')),
      { message: 'routes.yaml:4:10: domains."tickets.test".url: must be an http(s) URL, got "ftp://x"' },
    );
  });

  test('a URL with embedded credentials is refused, pointing to the signing secret, without echoing the password', () => {
    const problem = onlyProblem(
      yaml('domains:', '  a.test:', '    recipients: ["*"]', '    url: https://user:hunter2@hooks.test/'),
    );
    assert.equal(problem.line, 4);
    assert.match(problem.message, /credentials.*signing secret/);
    assert.doesNotMatch(problem.message, /hunter2/);
  });

  test('a missing required url is reported at the route mapping that lacks it', () => {
    const problem = onlyProblem(yaml('domains:', '  a.test:', '    recipients: ["*"]'));
    assert.equal(problem.line, 3);
    assert.equal(problem.path, 'domains."a.test".url');
    assert.equal(problem.message, 'is required');
  });

  test('missing or empty recipients are refused', () => {
    const missing = onlyProblem(yaml('domains:', '  a.test:', '    url: https://hooks.test/'));
    assert.equal(missing.line, 3);
    assert.equal(missing.path, 'domains."a.test".recipients');

    const empty = onlyProblem(yaml('domains:', '  a.test:', '    url: https://hooks.test/', '    recipients: []'));
    assert.equal(empty.line, 4);
    assert.match(empty.message, /at least one local part/);
  });

  test('a local part with "@", whitespace or "+" is refused at its list item', () => {
    const problems = problemsOf(
      yaml(
        'domains:',
        '  a.test:',
        '    url: https://hooks.test/',
        '    recipients:',
        '      - support@a.test',
        '      - "sales team"',
        '      - support+tag',
        '    addresses:',
        '      "bill ing": { url: https://hooks.test/billing }',
      ),
    );
    assert.deepEqual(
      problems.map((p) => [p.line, p.path]),
      [
        [5, 'domains."a.test".recipients[0]'],
        [6, 'domains."a.test".recipients[1]'],
        [7, 'domains."a.test".recipients[2]'],
        [9, 'domains."a.test".addresses."bill ing"'],
      ],
    );
    assert.match(problems[0]!.message, /"@"/);
    assert.match(problems[1]!.message, /whitespace/);
    assert.match(problems[2]!.message, /"\+".*sub-address/);
    assert.match(problems[3]!.message, /whitespace/);
  });

  test('"*" is refused as an address key and inside a local part: the catch-all stands alone', () => {
    const problems = problemsOf(
      yaml(
        'domains:',
        '  a.test:',
        '    url: https://hooks.test/',
        '    recipients: ["sup*"]',
        '    addresses:',
        '      "*": { url: https://hooks.test/any }',
      ),
    );
    assert.deepEqual(problems.map((p) => p.line), [4, 6]);
    assert.match(problems[0]!.message, /patterns are not supported/);
    assert.match(problems[1]!.message, /not an address/);
  });

  test('two addresses that differ only in case are a duplicate', () => {
    const problem = onlyProblem(
      yaml(
        'domains:',
        '  a.test:',
        '    url: https://hooks.test/',
        '    recipients: ["*"]',
        '    addresses:',
        '      billing: { url: https://hooks.test/1 }',
        '      Billing: { url: https://hooks.test/2 }',
      ),
    );
    assert.equal(problem.line, 7);
    assert.match(problem.message, /duplicate address/);
  });

  test('one domain listed in Unicode and in xn-- form is a duplicate domain, at the second key', () => {
    const problem = onlyProblem(
      yaml(
        'domains:',
        '  Bücher.test:',
        '    url: https://hooks.test/1',
        '    recipients: ["*"]',
        '  xn--bcher-kva.test:',
        '    url: https://hooks.test/2',
        '    recipients: ["*"]',
      ),
    );
    assert.equal(problem.line, 5);
    assert.equal(problem.column, 3);
    assert.match(problem.message, /duplicate domain/);
    assert.match(problem.message, /Bücher\.test/);
  });

  test('domains that differ only in case are a duplicate domain', () => {
    const problem = onlyProblem(
      yaml(
        'domains:',
        '  Example.test: { url: https://hooks.test/1, recipients: ["*"] }',
        '  example.test: { url: https://hooks.test/2, recipients: ["*"] }',
      ),
    );
    assert.equal(problem.line, 3);
    assert.match(problem.message, /duplicate domain/);
  });

  test('a domain key that is not a domain name is refused', () => {
    const problem = onlyProblem(
      yaml('domains:', '  a.test: { url: https://hooks.test/, recipients: ["*"] }', '  "[192.0.2.1]": { url: https://hooks.test/, recipients: ["*"] }'),
    );
    assert.equal(problem.line, 3);
    assert.equal(problem.path, 'domains."[192.0.2.1]"');
    assert.match(problem.message, /not a valid domain name/);
  });

  test('an unknown key is refused at the key and named, with the allowed keys', () => {
    const problem = onlyProblem(
      yaml('domains:', '  a.test:', '    url: https://hooks.test/', '    recipients: ["*"]', '    scret: env:X'),
    );
    assert.equal(problem.line, 5);
    assert.equal(problem.column, 5);
    assert.equal(problem.path, 'domains."a.test"');
    assert.match(problem.message, /unknown key "scret"/);
    assert.match(problem.message, /url, secret, recipients, addresses/);
  });

  test('unknown keys are refused at the top level and in address overrides too', () => {
    const problems = problemsOf(
      yaml(
        'domain: {}',
        'domains:',
        '  a.test:',
        '    url: https://hooks.test/',
        '    recipients: ["*"]',
        '    addresses:',
        '      billing: { url: https://hooks.test/b, recipients: [x] }',
      ),
    );
    assert.deepEqual(
      problems.map((p) => [p.line, p.message.split(';')[0]]),
      [
        [1, 'unknown key "domain"'],
        [7, 'unknown key "recipients"'],
      ],
    );
  });

  test('env:NAME with neither NAME nor NAME_FILE set names the variable', () => {
    const problem = onlyProblem(
      yaml('domains:', '  a.test:', '    url: https://hooks.test/', '    secret: env:A_TEST_SECRET', '    recipients: ["*"]'),
    );
    assert.equal(problem.line, 4);
    assert.equal(problem.path, 'domains."a.test".secret[0]');
    assert.match(problem.message, /A_TEST_SECRET is not set \(nor A_TEST_SECRET_FILE\)/);
  });

  test('an env: secret that resolves to the empty string is refused', () => {
    const problem = onlyProblem(
      yaml('domains:', '  a.test:', '    url: https://hooks.test/', '    secret: env:EMPTY', '    recipients: ["*"]'),
      { EMPTY: '' },
    );
    assert.match(problem.message, /EMPTY is set but empty/);
  });

  test('an empty file is refused', () => {
    assert.equal(onlyProblem('').line, 1);
    assert.match(onlyProblem('# only a comment\n').message, /empty/);
  });

  test('a file that is not a mapping is refused', () => {
    const problem = onlyProblem(yaml('- a.test'));
    assert.equal(problem.line, 1);
    assert.match(problem.message, /must be a mapping with a "domains" key, got a list/);
  });

  test('a file without domains, or with none listed, is refused', () => {
    assert.deepEqual(onlyProblem(yaml('# routes', 'domains: {}')), {
      line: 2,
      column: 10,
      path: 'domains',
      message: 'must list at least one domain',
    });
    const absent = problemsOf(yaml('# routes', 'other: 1'));
    assert.ok(absent.some((p) => p.path === 'domains' && p.message === 'is required'));
  });

  test('a YAML syntax error is reported at its line', () => {
    const problem = onlyProblem(yaml('domains:', '  a.test:', '    recipients: [support', '    url: https://hooks.test/'));
    assert.equal(problem.line, 4);
    assert.equal(problem.path, '');
  });

  test('a key written twice is a YAML error at the second one', () => {
    const problem = onlyProblem(
      yaml('domains:', '  a.test:', '    url: https://hooks.test/1', '    url: https://hooks.test/2', '    recipients: ["*"]'),
    );
    assert.equal(problem.line, 4);
    assert.match(problem.message, /unique/);
  });

  test('an unquoted number where text is expected says to quote it', () => {
    const problem = onlyProblem(yaml('domains:', '  a.test:', '    url: https://hooks.test/', '    recipients: [1234]'));
    assert.equal(problem.line, 4);
    assert.match(problem.message, /got 1234; quote it/);
  });

  test('every problem of the file is reported in one error, in file order', () => {
    const text = yaml(
      'domains:',
      '  a.test:',
      '    url: ftp://a',
      '    secret: env:MISSING_SECRET',
      '    recipients: []',
      '  b.test:',
      '    url: https://hooks.test/',
      '    recipients: [x@y]',
      '    extra: true',
    );
    const problems = problemsOf(text);
    assert.deepEqual(
      problems.map((p) => p.line),
      [3, 4, 5, 8, 9],
    );
    assert.throws(() => parse(text), (err: Error) => {
      const lines = err.message.split('\n');
      assert.equal(lines.length, 5);
      for (const line of lines) assert.match(line, /^routes\.yaml:\d+:\d+: domains\."[ab]\.test"/);
      return true;
    });
  });

  test('an unreadable file is a RoutesError at line 0', async () => {
    await assert.rejects(loadRoutes('/nonexistent/mxpost/routes.yaml', {}), (err: unknown) => {
      assert.ok(err instanceof RoutesError);
      assert.equal(err.problems.length, 1);
      assert.equal(err.problems[0]?.line, 0);
      assert.match(err.message, /^\/nonexistent\/mxpost\/routes\.yaml: cannot read the routes file: ENOENT/);
      return true;
    });
  });
});
