import { readFileSync } from 'node:fs';

// What the delivered payload says about each message of test/fixtures/eml,
// field by field. Fields not named for a case are checked by the schema only.
// Attachment content is named by the file it was made from
// (test/fixtures/attachments) or given inline.

const attachmentFile = (name: string): Buffer => readFileSync(new URL(`../fixtures/attachments/${name}`, import.meta.url));
const LOGO_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const INVOICE_PDF = Buffer.from('%PDF-1.4\n%mxpost test fixture\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n');

export interface ExpectedAttachment {
  readonly filename: string | null;
  readonly contentType: string;
  readonly contentId?: string | null;
  readonly disposition: 'inline' | 'attachment';
  /** The decoded bytes; size and sha256 are checked against them too. */
  readonly content: Buffer;
}

export interface CorpusCase {
  readonly file: string;
  /** Envelope sender; the recipient is a tagged address of the test route. */
  readonly mailFrom: string;
  /** The `message` fields to compare, besides attachments. */
  readonly message: Record<string, unknown>;
  /** The attachments in order; none when absent, not compared when 'any'. */
  readonly attachments?: readonly ExpectedAttachment[] | 'any';
  /** Warning codes, in order; none when absent. */
  readonly warnings?: readonly string[];
}

const addr = (name: string, address: string) => ({ name, address });

export const CORPUS: readonly CorpusCase[] = [
  {
    file: 'plain.eml',
    mailFrom: 'alice@example.org',
    message: {
      messageId: '5e1f0c2a-8d1b-4c7e-9a1f-3b2d7c9e4f10@example.org',
      date: '2024-02-12T14:03:05.000Z',
      subject: 'Cannot log in since Friday',
      from: [addr('Alice Example', 'alice@example.org')],
      to: [addr('', 'support@inbound.example')],
      // format=flowed, decoded: the last line has no line break.
      text: 'Hi,\n\nSince Friday I get "invalid password" when logging in, even after a reset.\n\nThanks,\nAlice',
      replyText: 'Hi,\n\nSince Friday I get "invalid password" when logging in, even after a reset.',
      html: null,
    },
  },
  {
    file: 'reply.eml',
    mailFrom: 'bob@example.net',
    message: {
      inReplyTo: '5e1f0c2a-8d1b-4c7e-9a1f-3b2d7c9e4f10@example.org',
      references: ['thread-start.42@example.org', '4b7e.earlier@example.net', '5e1f0c2a-8d1b-4c7e-9a1f-3b2d7c9e4f10@example.org'],
      date: '2024-02-12T16:39:57.000Z',
      cc: [addr('', 'support@inbound.example')],
      replyText: 'Hi Alice,\n\nYour account was locked after too many attempts. I have unlocked it.\n\nBob',
    },
  },
  {
    file: 'gmail-reply.eml',
    mailFrom: 'jane.customer@gmail.example',
    message: {
      subject: 'Re: [Ticket #4821] Cannot export invoices',
      inReplyTo: 'ticket-4821.1@inbound.example',
      to: [addr('Acme Support', 'support+4821@inbound.example')],
      replyText: 'Thanks, that fixed it – the export works again.\n\nJane',
    },
  },
  {
    file: 'outlook-reply-html.eml',
    mailFrom: 'jane.doe@acme.example',
    message: {
      cc: [addr('Contracts', 'contracts@inbound.example')],
      replyText: 'Hi Tom,\n\nClause 7 needs a notice period of 60 days; the rest is fine.',
    },
  },
  {
    file: 'alternative.eml',
    mailFrom: 'bounces+8812@mailer.example',
    message: {
      date: '2024-03-06T08:00:00.000Z',
      sender: addr('', 'bounces+8812@mailer.example'),
      replyTo: [addr('Editors', 'editors@news.example'), addr('', 'corrections@news.example')],
      cc: [addr('Archive', 'archive@news.example')],
      text: 'This week: café openings and a résumé workshop.\nRead more at https://news.example/w10\n',
      html: '<html><body><h1>This week</h1><p>café openings and a résumé workshop.</p></body></html>\n',
    },
  },
  {
    file: 'html-newsletter.eml',
    mailFrom: 'weekly@news.example',
    message: {
      from: [addr('The Weekly', 'weekly@news.example')],
      text: 'THIS WEEK\n\n * Café openings\n * A résumé workshop\n\nRead more at news.example [https://news.example/w10].',
    },
    attachments: [
      { filename: 'weekly.pdf', contentType: 'application/pdf', disposition: 'attachment', content: Buffer.from('%PDF-1.4\n%weekly\n%%EOF\n') },
    ],
  },
  {
    file: 'attachment.eml',
    mailFrom: 'billing@acme.example',
    message: { subject: 'Invoice 2024-0117' },
    attachments: [
      { filename: 'logo.png', contentType: 'image/png', contentId: 'logo.7f3a@acme.example', disposition: 'inline', content: LOGO_PNG },
      { filename: 'invoice-2024-0117.pdf', contentType: 'application/pdf', contentId: null, disposition: 'attachment', content: INVOICE_PDF },
    ],
  },
  {
    file: 'inline-cid.eml',
    mailFrom: 'news@shop.example',
    message: { text: 'SPRING SALE\n\nBanner [cid:banner.01@shop.example]\n\nEverything 20% off until Sunday.\n\nShop now [https://shop.example/sale]' },
    attachments: [
      { filename: 'banner.png', contentType: 'image/png', contentId: 'banner.01@shop.example', disposition: 'inline', content: attachmentFile('banner.png') },
    ],
  },
  {
    file: 'nested-rfc822.eml',
    mailFrom: 'colleague@sender.example',
    message: { text: 'Forwarding the original as an attachment.' },
    attachments: [
      { filename: 'Quarterly numbers.eml', contentType: 'message/rfc822', disposition: 'attachment', content: attachmentFile('quarterly-numbers.eml') },
    ],
  },
  {
    file: 'winmail-tnef.eml',
    mailFrom: 'user@corp.example',
    message: { text: 'Please see the attached contract draft.' },
    attachments: [{ filename: 'winmail.dat', contentType: 'application/ms-tnef', disposition: 'attachment', content: attachmentFile('winmail.dat') }],
  },
  {
    file: 'calendar-invite.eml',
    mailFrom: 'dana@calendar.example',
    message: { text: 'You have been invited to Project kick-off, Mon 11 Mar 2024 14:00-15:00 (UTC).' },
    attachments: [
      // The text/calendar alternative, without the line break that belongs to its boundary.
      { filename: null, contentType: 'text/calendar', disposition: 'attachment', content: attachmentFile('invite.ics').subarray(0, -2) },
      { filename: 'invite.ics', contentType: 'application/ics', disposition: 'attachment', content: attachmentFile('invite.ics') },
    ],
  },
  {
    file: 'rfc2231-filenames.eml',
    mailFrom: 'archive@sender.example',
    message: {},
    attachments: [
      { filename: 'Rechnung März €.pdf', contentType: 'application/pdf', disposition: 'attachment', content: Buffer.from('%PDF-1.4\n%mxpost\n%%EOF\n') },
      { filename: "façade de l'église.jpg", contentType: 'image/jpeg', disposition: 'attachment', content: Buffer.from('/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAP/Z', 'base64') },
    ],
  },
  {
    file: 'encoded-utf8.eml',
    mailFrom: 'jose@example.es',
    message: { subject: 'Résumé für José — 日本語のテスト', from: [addr('José Martínez', 'jose@example.es')], text: 'Grüße aus München — schöne Woche!\n' },
  },
  {
    file: 'encoded-latin1.eml',
    mailFrom: 'francois@example.fr',
    message: { subject: 'Café crème à la française', to: [addr('Zoë Núñez', 'orders@inbound.example')], text: 'Bonjour,\n\nVoilà ma commande : deux cafés crème.\n' },
  },
  {
    file: 'charset-windows-1252.eml',
    mailFrom: 'zoe@sender.example',
    message: {
      subject: 'Price “Pro” plan – €49',
      from: [addr('Zoë “Quotes” Müller', 'zoe@sender.example')],
      text: 'Hello,\n\nThe “Pro” plan costs €49 – not €59 – per month.\nRegards… Zoë\n\n',
    },
  },
  {
    file: 'charset-iso-2022-jp.eml',
    mailFrom: 'yamada@sender.example',
    message: { subject: '請求書について', from: [addr('山田太郎', 'yamada@sender.example')], text: 'お世話になっております。\n請求書の件でご連絡いたしました。\n' },
  },
  {
    file: 'charset-shift_jis.eml',
    mailFrom: 'sato@sender.example',
    message: { subject: '会議の時間', from: [addr('佐藤花子', 'sato@sender.example')], text: '佐藤です。\n明日の会議は午後三時からです。\n' },
  },
  {
    file: 'charset-gb18030.eml',
    mailFrom: 'wang@sender.example',
    message: { subject: '订单发货通知', from: [addr('王小明', 'wang@sender.example')], text: '您好，\n订单已发货，预计三天内送达。𠀀\n' },
  },
  {
    file: 'charset-koi8-r.eml',
    mailFrom: 'ivan@sender.example',
    message: { subject: 'Оплата счёта', from: [addr('Иван Петров', 'ivan@sender.example')], text: 'Здравствуйте!\nСчёт оплачен, спасибо.\n' },
  },
  {
    file: 'charset-utf8-undeclared.eml',
    mailFrom: 'juergen@sender.example',
    message: { subject: 'Grüße aus Köln', from: [addr('Jürgen Weiß', 'juergen@sender.example')], text: 'Grüße aus Köln – 日本語も大丈夫です。\n' },
  },
  {
    file: 'smtputf8.eml',
    mailFrom: 'jörg@bücher.example',
    message: {
      messageId: 'utf8-4711@bücher.example',
      subject: 'Bestellung Nr. 4711 – Lieferstatus?',
      from: [addr('Jörg Größ', 'jörg@bücher.example')],
      cc: [addr('张伟', '张伟@例子.example')],
    },
  },
  {
    file: 'folded-headers.eml',
    mailFrom: 'bot@example.com',
    message: {
      subject: 'This subject line is long enough that the sending client folded it over three lines',
      to: [addr('', 'dev1@example.com'), addr('Dev Two', 'dev2@example.com'), addr('', 'lead@example.com')],
      cc: [],
    },
  },
  {
    file: 'malformed-boundary.eml',
    mailFrom: 'broken-mailer@broken.example',
    message: { subject: 'half a message', date: null, text: 'The first part is intact.' },
    // The base64 part is cut short by foreign bytes; what it decodes to is mailparser's business.
    attachments: 'any',
    warnings: ['unclosed-multipart', 'invalid-base64', 'invalid-date'],
  },
];
