// What parsing one message costs the receiver's event loop:
// `node bench/payload-parse.ts`. For each kind of message, the time
// parseMessage takes and the longest the event loop was blocked meanwhile
// (sampled by a 1 ms timer), median of five runs. The HTML rows are what
// PARSER_LIMITS.htmlToTextChars (src/message/limits.ts) is chosen from.
// Results are recorded in bench/memory-payload.md.
import { randomBytes } from 'node:crypto';
import { parseMessage } from '../src/message/parse.ts';

const RUNS = 5;
const crlf = (text: string) => Buffer.from(text.replace(/\r?\n/g, '\r\n'));
const row = '<tr><td class="x"><p style="margin:0">Hello <b>world</b> <a href="https://example.com/a/b?c=d">link text</a> and more words.</p></td></tr>\n';
const html = (bytes: number) => crlf(`Subject: html\nContent-Type: text/html; charset=utf-8\n\n<html><body><table>${row.repeat(Math.floor(bytes / row.length))}</table></body></html>\n`);
const attachments = (bytes: number) => {
  const part = () => `--b\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=f.pdf\nContent-Transfer-Encoding: base64\n\n${randomBytes(Math.floor(bytes / 4 / 1.37)).toString('base64').replace(/.{76}/g, '$&\n')}\n`;
  return crlf(`Subject: files\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nFiles.\n${[1, 2, 3, 4].map(part).join('')}--b--\n`);
};
const manyParts = (n: number) => crlf(`Subject: parts\nContent-Type: multipart/mixed; boundary=b\n\n${'--b\nContent-Type: text/plain\n\nx\n'.repeat(n)}--b--\n`);
const reply = crlf(`Subject: Re: x\nContent-Type: text/plain; charset=utf-8\n\n${'Thanks, see below.\n\n'}On Mon, Mar 4, 2024 at 9:12 AM Jane <jane@example.com> wrote:\n${'> quoted line of earlier text\n'.repeat(2000)}`);

const CASES: [string, Buffer][] = [
  ['reply, 60 KB of quoted text', reply],
  ['HTML only, 256 KiB', html(256 * 1024)],
  ['HTML only, 512 KiB (the conversion limit)', html(512 * 1024 - 2048)],
  ['HTML only, 1 MiB (over the limit: not converted)', html(1024 * 1024)],
  ['4 attachments, 5 MB', attachments(5_000_000)],
  ['4 attachments, 25 MB', attachments(25_000_000)],
  ['1,000 parts', manyParts(1000)],
  ['1,200 parts (parser limit)', manyParts(1200)],
];

async function measure(raw: Buffer): Promise<{ ms: number; stallMs: number }> {
  let stall = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last);
    last = now;
  }, 1);
  const started = performance.now();
  await parseMessage(raw);
  const ms = performance.now() - started;
  clearInterval(timer);
  // A block that ends the parse is seen by no timer callback: count it too.
  return { ms, stallMs: Math.max(stall, performance.now() - last) };
}

const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
process.stdout.write(`Node ${process.version}, median of ${RUNS} runs\n\n| message | size (MB) | parse (ms) | longest event-loop stall (ms) |\n| --- | --- | --- | --- |\n`);
for (const [name, raw] of CASES) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await measure(raw));
  process.stdout.write(`| ${name} | ${(raw.length / 1e6).toFixed(2)} | ${median(runs.map((r) => r.ms)).toFixed(0)} | ${median(runs.map((r) => r.stallMs)).toFixed(0)} |\n`);
}
