import { generateKeyPairSync } from 'node:crypto';
import { dkimSign, sealMessage } from 'mailauth';
import nodemailer from 'nodemailer';
import type { Zone } from '../support/dns-server.ts';

/**
 * DKIM keys made by the test, with the TXT record that publishes each, and real
 * signers: mailauth's (RSA-SHA256 and Ed25519, and ARC sealing) and nodemailer's
 * (RSA-SHA256, an independent implementation).
 */
export interface DkimKey {
  readonly domain: string;
  readonly selector: string;
  readonly algorithm: 'rsa-sha256' | 'ed25519-sha256';
  readonly privateKey: string;
  /** The key's DNS name and record. */
  readonly zone: Zone;
}

export function makeKey(domain: string, selector: string, kind: 'rsa' | 'ed25519' = 'rsa'): DkimKey {
  const dnsName = `${selector}._domainkey.${domain}`;
  if (kind === 'ed25519') {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    // RFC 8463 section 4: the bare 32-byte key, the tail of its SPKI encoding.
    const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    return {
      domain,
      selector,
      algorithm: 'ed25519-sha256',
      privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      zone: { [dnsName]: [{ TXT: `v=DKIM1; k=ed25519; p=${raw.toString('base64')}` }] },
    };
  }
  // 1024 bits is the least RFC 8301 accepts, and quick to generate.
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const spki = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  return {
    domain,
    selector,
    algorithm: 'rsa-sha256',
    privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    zone: { [dnsName]: [{ TXT: `v=DKIM1; k=rsa; p=${spki}` }] },
  };
}

/** The message with one DKIM-Signature per key prepended, the first key's on top. */
export async function sign(message: string | Buffer, ...keys: DkimKey[]): Promise<Buffer> {
  let signed = Buffer.from(message);
  for (const key of [...keys].reverse()) {
    const result = await dkimSign(signed, {
      canonicalization: 'relaxed/relaxed',
      signatureData: [{ signingDomain: key.domain, selector: key.selector, privateKey: key.privateKey, algorithm: key.algorithm }],
    } as Parameters<typeof dkimSign>[1]);
    if (result.signatures === '') throw new Error(`mailauth made no signature for ${key.selector}._domainkey.${key.domain}`);
    if (result.errors.length > 0) throw result.errors[0]!.err;
    signed = Buffer.concat([Buffer.from(result.signatures), signed]);
  }
  return signed;
}

/** A message composed and DKIM-signed by nodemailer (RSA-SHA256 only). */
export async function composeSignedByNodemailer(key: DkimKey, mail: { from: string; to: string; subject: string; text: string }): Promise<Buffer> {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  const info = await transport.sendMail({
    ...mail,
    dkim: { domainName: key.domain, keySelector: key.selector, privateKey: key.privateKey },
  });
  return info.message as Buffer;
}

/**
 * The next ARC set, added by a forwarding hop that recorded `authResults` about the
 * message it received; `cv` is its verdict on the chain so far (none for the first set).
 */
export async function arcSeal(message: Buffer, key: DkimKey, authResults: string, cv: 'none' | 'pass' | 'fail' = 'none'): Promise<Buffer> {
  const headers = await sealMessage(message, {
    signingDomain: key.domain,
    selector: key.selector,
    privateKey: key.privateKey,
    authResults,
    cv,
  });
  return Buffer.concat([headers, message]);
}

/** A plain message, CRLF line ends. */
export function message(fields: { from?: string; to?: string; subject?: string; body?: string; headers?: string[] } = {}): string {
  return [
    ...(fields.headers ?? []),
    `From: ${fields.from ?? 'Alice <alice@sender.test>'}`,
    `To: ${fields.to ?? 'someone@example.test'}`,
    `Subject: ${fields.subject ?? 'Hello'}`,
    'Date: Sat, 28 Nov 2026 10:00:00 +0000',
    'Message-ID: <auth-test@sender.test>',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    fields.body ?? 'Hello there.',
    '',
  ].join('\r\n');
}
