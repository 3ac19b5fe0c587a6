// Time that SPF, DKIM, DMARC and ARC add to each message before the reply to
// DATA, with a warm and a cold DNS cache. Usage: node bench/auth.ts [iterations]
//
// The sender is typical of mail from an email service provider: SPF through two
// levels of include (3 DNS-querying terms), one RSA-2048 DKIM signature, a DMARC
// record, a 4 KB body. DNS is a server on loopback (test/support/dns-server.ts);
// "cold" rows start each message with an empty cache, and the last rows add 20 ms
// to every DNS answer, as a recursive resolver without the answer cached would.
// mailauth's own authenticate() (its checks one after another) is measured
// beside mxpost's for comparison.
import { generateKeyPairSync } from 'node:crypto';
import { cpus } from 'node:os';
import { authenticate as mailauthAuthenticate, dkimSign, type DNSResolver } from 'mailauth';
import { createAuthenticator } from '../src/auth/authenticate.ts';
import { createResolver } from '../src/auth/resolver.ts';
import { startDnsServer } from '../test/support/dns-server.ts';

const iterations = Number(process.argv[2] ?? 300);

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const dns = await startDnsServer({
  'sender.test': [{ TXT: 'v=spf1 include:_spf.esp.test -all' }],
  '_spf.esp.test': [{ TXT: 'v=spf1 ip4:192.0.2.0/24 include:_spf2.esp.test ~all' }],
  '_spf2.esp.test': [{ TXT: 'v=spf1 ip4:198.51.100.0/24 -all' }],
  '_dmarc.sender.test': [{ TXT: 'v=DMARC1; p=reject; rua=mailto:dmarc@sender.test' }],
  's1._domainkey.sender.test': [{ TXT: `v=DKIM1; k=rsa; p=${publicKey.export({ format: 'der', type: 'spki' }).toString('base64')}` }],
});
const servers = [{ host: '127.0.0.1', port: dns.port }];

const body = 'Hello,\r\n\r\nThis is a benchmark message of a typical size for a reply to a support ticket.\r\n'.repeat(50);
const unsigned = Buffer.from(
  `From: Alice <alice@sender.test>\r\nTo: support@example.test\r\nSubject: Re: ticket 4821\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\nMessage-ID: <bench@sender.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}`,
);
const signature = await dkimSign(unsigned, {
  canonicalization: 'relaxed/relaxed',
  signatureData: [{ signingDomain: 'sender.test', selector: 's1', privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), algorithm: 'rsa-sha256' }],
} as Parameters<typeof dkimSign>[1]);
const raw = Buffer.concat([Buffer.from(signature.signatures), unsigned]);
const input = { raw, remoteAddress: '198.51.100.7', helo: 'mta1.esp.test', mailFrom: 'bounce@sender.test' };

const newAuthenticator = () =>
  createAuthenticator({ resolver: createResolver({ servers, timeoutMs: 2000 }), authservId: 'mx.bench.test', hostname: 'mx.bench.test', timeoutMs: 5000 });

async function measure(label: string, count: number, run: () => Promise<unknown>): Promise<string> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(2);
  return `| ${label} | ${count} | ${at(0.5)} | ${at(0.9)} | ${at(0.99)} |`;
}

// Check the setup once: everything must pass, or the figures mean nothing.
const check = await newAuthenticator()(input);
const v = check.verdicts;
if (v.spf.result !== 'pass' || v.dkim[0]?.result !== 'pass' || v.dmarc.result !== 'pass') throw new Error(`bench setup: ${v.authenticationResults}`);

const rows: string[] = [];
for (let i = 0; i < 20; i++) await newAuthenticator()(input); // JIT warm-up
const warm = newAuthenticator();
await warm(input);
rows.push(await measure('mxpost, warm cache', iterations, () => warm(input)));
rows.push(await measure('mxpost, cold cache', iterations, () => newAuthenticator()(input)));

dns.delay(20);
const slow = Math.max(20, Math.floor(iterations / 6));
rows.push(await measure('mxpost, cold cache, 20 ms per DNS answer', slow, () => newAuthenticator()(input)));
rows.push(
  await measure('mailauth authenticate(), cold cache, 20 ms per DNS answer', slow, () =>
    mailauthAuthenticate(raw, { ...input, ip: input.remoteAddress, sender: input.mailFrom, mta: 'mx.bench.test', resolver: createResolver({ servers, timeoutMs: 2000 }).resolve as unknown as DNSResolver, disableBimi: true }),
  ),
);
await dns.stop();

console.log(`Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim()}, ${iterations} iterations`);
console.log('| case | messages | median ms | p90 ms | p99 ms |');
console.log('| --- | --- | --- | --- | --- |');
for (const row of rows) console.log(row);
