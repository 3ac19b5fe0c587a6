// The messages every system under test receives, and the DNS zone that makes
// them authenticate. They are what an MX sees, not smtp-source's filler
// ('XXXX…' lines): a DKIM-signed (RSA-2048) multipart/alternative reply with
// quoted history, links and non-ASCII text (quoted-printable), and for the
// larger sizes a base64 PDF-like attachment. SPF, DKIM and DMARC all pass, so
// mxpost runs every check to the end.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dkimSign } from 'mailauth';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Zone } from '../../test/support/dns-server.ts';

export const SENDER_DOMAIN = 'sender.test';
export const BENCH_DOMAIN = 'bench.test';
export const MAIL_FROM = `alice@${SENDER_DOMAIN}`;
export const RCPT_TO = `support@${BENCH_DOMAIN}`;
export const HELO = `mail.${SENDER_DOMAIN}`;
const SELECTOR = 'bench';
const SIGNATURE = 560;

export interface MessageFile {
  readonly label: string;
  /** Bytes on the wire (CRLF line ends, before dot-stuffing). */
  readonly bytes: number;
  /** LF line ends, for smtp-source -F (which sends each line with CRLF). */
  readonly path: string;
  /** CRLF line ends, for the bench's own SMTP client. */
  readonly raw: Buffer;
}

export interface Fixtures {
  readonly zone: Zone;
  message(label: string, bytes: number): Promise<MessageFile>;
}

export function createFixtures(dir: string): Fixtures {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spki = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  const zone: Zone = {
    [SENDER_DOMAIN]: [{ TXT: 'v=spf1 ip4:127.0.0.0/8 -all' }, { MX: [10, HELO] }],
    [HELO]: [{ A: '127.0.0.1' }, { TXT: 'v=spf1 a -all' }],
    [`_dmarc.${SENDER_DOMAIN}`]: [{ TXT: 'v=DMARC1; p=reject; rua=mailto:dmarc@sender.test' }],
    [`${SELECTOR}._domainkey.${SENDER_DOMAIN}`]: [{ TXT: `v=DKIM1; k=rsa; p=${spki}` }],
    // The client's reverse name, in case a check asks for it.
    '1.0.0.127.in-addr.arpa': [{ PTR: HELO }],
  };
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

  return {
    zone,
    async message(label, bytes) {
      const unsigned = await compose(bytes);
      const signed = await dkimSign(unsigned, {
        canonicalization: 'relaxed/relaxed',
        signatureData: [{ signingDomain: SENDER_DOMAIN, selector: SELECTOR, privateKey: pem }],
      } as Parameters<typeof dkimSign>[1]);
      if (signed.signatures === '' || signed.errors.length > 0) throw new Error(`cannot DKIM-sign the ${label} message`);
      const raw = Buffer.concat([Buffer.from(signed.signatures), unsigned]);
      const path = join(dir, `message-${label}.eml`);
      writeFileSync(path, raw.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
      return { label, bytes: raw.length, path, raw };
    },
  };
}

/** A message of about `bytes` bytes: 10 KB is text and HTML alone; larger ones carry an attachment. */
async function compose(bytes: number): Promise<Buffer> {
  const build = (parts: number, attachment: number) => {
    const { text, html } = conversation(parts);
    return new MailComposer({
      from: `Alice Exämple <${MAIL_FROM}>`,
      to: `Support <${RCPT_TO}>`,
      subject: 'Re: [#4821] Commande 1182 arrivée endommagée — photos attached',
      messageId: `<${randomBytes(8).toString('hex')}@${SENDER_DOMAIN}>`,
      inReplyTo: '<ticket-4821@bench.test>',
      references: ['<ticket-4821@bench.test>'],
      date: new Date('2026-11-28T09:30:00Z'),
      text,
      html,
      attachments: attachment > 0 ? [{ filename: 'invoice-1182.pdf', contentType: 'application/pdf', content: randomBytes(attachment) }] : [],
    })
      .compile()
      .build()
      // DKIM signs the message as it travels: every line ending CRLF.
      .then((built) => Buffer.from(built.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1'));
  };
  // Text and HTML grow by paragraphs up to 10 KB; past that, an attachment (base64
  // adds a third) makes up the rest. Two passes: measure, then size exactly enough.
  // The DKIM-Signature field adds about SIGNATURE bytes.
  const textual = Math.min(bytes, 10_240) - SIGNATURE;
  let parts = 1;
  while ((await build(parts + 1, 0)).length <= textual) parts++;
  const base = (await build(parts, 0)).length + SIGNATURE;
  // base64 makes 4 bytes of 3 and ends each 76 characters with CRLF; the part's own headers take about 300.
  const attachment = bytes - base > 2000 ? Math.floor(((bytes - base - 300) * 3) / 4 / (78 / 76)) : 0;
  return build(parts, attachment);
}

const PARAGRAPHS = [
  'Bonjour, thank you for the quick answer yesterday. The parcel arrived this morning but the box was crushed on one corner and two of the cups are broken.',
  'I attached photos of the box and of the cups as they came out of it. The tracking page at https://tracking.example.net/t/1182-AB93 says it was dropped at the depot in Lyon.',
  'Could you send a replacement for the two cups, or refund them? The rest of the order (saucers, teapot) is fine. Grüße aus München, where I am until Friday.',
  'For reference the order number is 1182 and it was paid with the card ending 4242. You can reach me on +33 6 12 34 56 78 as well, or reply here; see https://example.org/help.',
];

/** A reply with the quoted history below it, as mail clients write it. */
function conversation(parts: number): { text: string; html: string } {
  const own = Array.from({ length: Math.ceil(parts / 2) }, (_, i) => PARAGRAPHS[i % PARAGRAPHS.length]!);
  const quoted = Array.from({ length: Math.floor(parts / 2) }, (_, i) => PARAGRAPHS[(i + 2) % PARAGRAPHS.length]!);
  const wrap = (line: string, prefix = '') => line.replace(/(.{1,72})(\s|$)/g, `${prefix}$1\n`);
  const text = [
    ...own.map((p) => wrap(p)),
    'Alice\n',
    'On Fri, 27 Nov 2026 at 18:02, Support <support@bench.test> wrote:\n',
    ...quoted.map((p) => wrap(p, '> ')),
  ].join('\n');
  const html = [
    '<html><head><meta charset="utf-8"><style>p{margin:0 0 1em}</style></head><body>',
    ...own.map((p) => `<p style="font-family:Arial,sans-serif;font-size:14px">${linkify(p)}</p>`),
    '<p>Alice</p><div class="gmail_quote">On Fri, 27 Nov 2026 at 18:02, Support &lt;support@bench.test&gt; wrote:<br>',
    `<blockquote style="margin:0 0 0 .8ex;border-left:1px #ccc solid;padding-left:1ex">${quoted.map((p) => `<p>${linkify(p)}</p>`).join('\n')}</blockquote>`,
    '</div></body></html>',
  ].join('\n');
  return { text, html };
}

function linkify(text: string): string {
  return text.replace(/https:\/\/\S+?(?=[.,]?(\s|$))/g, (url) => `<a href="${url}">${url}</a>`);
}
