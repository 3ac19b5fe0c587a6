import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dkimSign, dkimVerify, type DNSResolver } from 'mailauth';
import { MAX_DKIM_SIGNATURES } from '../../src/auth/authenticate.ts';
import { createDkimVerifier } from '../../src/auth/dkim.ts';
import { senderZone, startAuthHarness, type AuthHarness } from './harness.ts';
import { composeSignedByNodemailer, makeKey, message, sign, type DkimKey } from './signing.ts';

// DKIM verdicts on messages signed by real signers with keys made here, the keys
// published by a DNS server on loopback.
describe('DKIM', () => {
  const rsa = makeKey('sender.test', 'rsa1');
  const ed = makeKey('sender.test', 'ed1', 'ed25519');
  const other = makeKey('other.test', 'o1');
  // Signs as other.test, but DNS publishes a different key under that selector.
  const impostor = { ...makeKey('other.test', 'o2'), zone: {} };
  const published = makeKey('other.test', 'o2');
  const many = Array.from({ length: MAX_DKIM_SIGNATURES + 2 }, (_, i) => makeKey('many.test', `s${i + 1}`, 'ed25519'));
  const slow = makeKey('slowkey.test', 'k1');
  let harness: AuthHarness;

  before(async () => {
    harness = await startAuthHarness({
      ...senderZone('sender.test', 'v=DMARC1; p=reject'),
      ...rsa.zone,
      ...ed.zone,
      ...other.zone,
      ...published.zone,
      ...Object.assign({}, ...many.map((k) => k.zone)),
      [`${slow.selector}._domainkey.${slow.domain}`]: ['TIMEOUT'],
    });
  });
  after(async () => {
    assert.deepEqual(harness.errors, [], 'no check threw');
    await harness.stop();
  });

  const dkimOf = async (raw: Buffer | string) => (await harness.check(raw, { ip: '198.51.100.7' })).verdicts.dkim;

  test('passes an RSA-SHA256 signature, aligned with the From domain', async () => {
    const verdicts = await dkimOf(await sign(message(), rsa));
    assert.deepEqual(verdicts, [{ result: 'pass', domain: 'sender.test', selector: 'rsa1', algorithm: 'rsa-sha256', reason: null, aligned: true }]);
  });

  test('passes an Ed25519-SHA256 signature (RFC 8463)', async () => {
    const [verdict] = await dkimOf(await sign(message(), ed));
    assert.equal(verdict?.result, 'pass');
    assert.equal(verdict?.algorithm, 'ed25519-sha256');
  });

  test('passes a signature made by nodemailer, an independent signer', async () => {
    const raw = await composeSignedByNodemailer(rsa, { from: 'alice@sender.test', to: 'bob@example.test', subject: 'Signed elsewhere', text: 'Hi' });
    assert.deepEqual((await dkimOf(raw)).map((v) => [v.result, v.domain]), [['pass', 'sender.test']]);
  });

  test('fails a signature whose body was changed after signing: fail, not neutral (RFC 6376 6.1.3)', async () => {
    const signed = await sign(message({ body: 'Pay 10 EUR.' }), rsa, ed);
    const [first, second] = await dkimOf(signed.toString().replace('Pay 10 EUR.', 'Pay 1000 EUR.'));
    assert.deepEqual([first?.result, first?.reason], ['fail', 'body hash did not verify']);
    assert.deepEqual([second?.result, second?.reason], ['fail', 'body hash did not verify']);
    assert.equal(first?.aligned, false);

    // mailauth's default mode, which mxpost corrects: the same message reads neutral.
    const tampered = Buffer.from(signed.toString().replace('Pay 10 EUR.', 'Pay 1000 EUR.'));
    const raw = await dkimVerify(tampered, { resolver: harness.resolver.resolve as unknown as DNSResolver });
    assert.deepEqual(raw.results.map((r) => r.status.result), ['neutral', 'neutral']);
  });

  test('fails a signature when a signed header was changed after signing', async () => {
    const signed = await sign(message({ subject: 'Invoice 12' }), rsa);
    const [verdict] = await dkimOf(signed.toString().replace('Subject: Invoice 12', 'Subject: Invoice 13'));
    assert.deepEqual([verdict?.result, verdict?.reason], ['fail', 'bad signature']);
  });

  test('an unsigned message has no signature entries and reads dkim=none in Authentication-Results', async () => {
    const report = await harness.check(message(), { ip: '198.51.100.7' });
    assert.deepEqual(report.verdicts.dkim, []);
    assert.match(report.verdicts.authenticationResults, /dkim=none/);
  });

  test('reports each of two signatures, top first: a bad one from other.test and a good one from sender.test', async () => {
    const signed = await sign(message(), impostor, rsa);
    const verdicts = await dkimOf(signed);
    assert.deepEqual(
      verdicts.map((v) => [v.domain, v.selector, v.result, v.aligned]),
      [
        ['other.test', 'o2', 'fail', false],
        ['sender.test', 'rsa1', 'pass', true],
      ],
    );
    const report = await harness.check(signed, { ip: '198.51.100.7' });
    assert.equal(report.verdicts.dmarc.result, 'pass', 'the good signature is enough for DMARC');
  });

  test(`verifies at most ${MAX_DKIM_SIGNATURES} signatures; the rest read policy and cost no DNS lookup`, async () => {
    const signed = await sign(message({ from: 'x@many.test' }), ...many);
    harness.dns.queries.length = 0;
    const verdicts = await dkimOf(signed);
    assert.equal(verdicts.length, MAX_DKIM_SIGNATURES + 2, 'every signature is listed');
    assert.deepEqual(
      verdicts.map((v) => v.result),
      [...Array<string>(MAX_DKIM_SIGNATURES).fill('pass'), 'policy', 'policy'],
    );
    assert.match(verdicts.at(-1)!.reason!, /only the first 5 signatures/);
    const keyLookups = harness.dns.queries.filter((q) => q.includes('_domainkey.many.test'));
    assert.equal(keyLookups.length, MAX_DKIM_SIGNATURES);
    assert.ok(!keyLookups.some((q) => q.includes(`s${MAX_DKIM_SIGNATURES + 1}.`)));
  });

  test('lists a signature that cannot be processed (unknown algorithm) as neutral rather than leaving it out', async () => {
    const bogus = 'DKIM-Signature: v=1; a=rsa-md5; d=sender.test; s=rsa1; c=relaxed/relaxed; h=from; bh=AAAA; b=BBBB';
    const signed = await sign(message(), rsa);
    const verdicts = await dkimOf(`${bogus}\r\n${signed.toString()}`);
    assert.deepEqual(
      verdicts.map((v) => [v.result, v.algorithm]),
      [
        ['neutral', 'rsa-md5'],
        ['pass', 'rsa-sha256'],
      ],
    );

    // mailauth's default mode, which mxpost corrects: the signature is silently left out.
    const raw = await dkimVerify(Buffer.from(`${bogus}\r\n${signed.toString()}`), { resolver: harness.resolver.resolve as unknown as DNSResolver });
    assert.deepEqual(raw.results.map((r) => r.algo), ['rsa-sha256']);
  });

  test('an rsa-sha1 signature reads policy: RFC 8301 forbids accepting it', async () => {
    const result = await dkimSign(Buffer.from(message()), {
      signatureData: [{ signingDomain: rsa.domain, selector: rsa.selector, privateKey: rsa.privateKey, algorithm: 'rsa-sha1' }],
    } as Parameters<typeof dkimSign>[1]);
    const [verdict] = await dkimOf(Buffer.concat([Buffer.from(result.signatures), Buffer.from(message())]));
    assert.deepEqual([verdict?.result, verdict?.algorithm], ['policy', 'rsa-sha1']);
  });

  test('a key that is not published reads neutral, "no key"', async () => {
    const unpublished = makeKey('sender.test', 'gone');
    const [verdict] = await dkimOf(await sign(message(), unpublished));
    assert.deepEqual([verdict?.result, verdict?.reason], ['neutral', 'no key']);
  });

  test('a key lookup that times out reads temperror', async () => {
    const [verdict] = await dkimOf(await sign(message({ from: 'a@slowkey.test' }), slow));
    assert.equal(verdict?.result, 'temperror');
  });
});

// dkim.ts keeps parsed key records across messages; what DNS answers for each
// message still decides. (The resolver is a function here: the DNS edge.)
test('verifies each message against the key DNS publishes for it, when a parsed record is kept across messages', async () => {
  const first = makeKey('rotate.test', 'k1');
  const second = makeKey('rotate.test', 'k1');
  const name = `${first.selector}._domainkey.${first.domain}`;
  const recordOf = (key: DkimKey) => (key.zone[name]![0] as { TXT: string }).TXT;
  let published = recordOf(first);
  const asked: string[] = [];
  const resolver = (async (domain: string, type: string) => {
    asked.push(`${type} ${domain}`);
    return [[published]];
  }) as unknown as DNSResolver;
  const verify = createDkimVerifier();
  const signedByFirst = await sign(message({ from: 'a@rotate.test' }), first);
  const results = async (raw: Buffer) => (await verify(raw, { resolver })).results.map((r) => r.status.result);

  assert.deepEqual(await results(signedByFirst), ['pass']);
  assert.deepEqual(await results(signedByFirst), ['pass']);
  assert.deepEqual(asked, [`TXT ${name}`, `TXT ${name}`], 'DNS is asked for every message');
  published = recordOf(second);
  assert.deepEqual(await results(signedByFirst), ['fail'], 'the replaced key no longer verifies');
  assert.deepEqual(await results(await sign(message({ from: 'a@rotate.test' }), second)), ['pass']);
  published = 'v=DKIM1; k=rsa; p=';
  assert.deepEqual(await results(signedByFirst), ['neutral'], 'a revoked key (empty p=) is no key');
});
