import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { startTestRedis } from '../support/redis.ts';
import { launchChromium, shot } from './browser.ts';
import { startConsoleHarness, TOKEN, type ConsoleHarness } from './harness.ts';

// The console in a real browser (Debian's Chromium through playwright-core)
// against a real mxpost, Redis, SMTP and endpoints. The tests run in order and
// share one signed-in browser, as an operator would use it.
describe('the console in a browser', () => {
  let redis: Awaited<ReturnType<typeof startTestRedis>>;
  let h: ConsoleHarness;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  // Anything the message's HTML tries to load from the network lands here.
  const remoteHits: string[] = [];
  const remote = createServer((req, res) => (remoteHits.push(req.url ?? ''), res.end('x')));
  const dialogs: string[] = [];
  const ids: Record<string, string> = {};
  const pdf = Buffer.from('%PDF-1.4\n% an invoice, as far as this test cares\n%%EOF\n');
  // A 1×1 PNG, as an inline part the HTML shows by cid:.
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

  before(async () => {
    redis = await startTestRedis();
    h = await startConsoleHarness(redis.url);
    remote.listen(0, '127.0.0.1');
    await once(remote, 'listening');
    const origin = `http://127.0.0.1:${(remote.address() as AddressInfo).port}`;
    h.failing.plan(410);

    ids.plain = await h.send({
      subject: 'Invoice 4821 for March',
      to: ['billing@ok.test'],
      text: 'Please find the invoice attached.',
      html: '<p>Please find the invoice attached.</p><img id="logo" alt="logo" src="cid:logo@sender.test">',
      parts: [
        { filename: 'invoice-4821.pdf', contentType: 'application/pdf', content: pdf },
        { contentType: 'image/png', content: png, contentId: 'logo@sender.test' },
      ],
    });
    ids.long = await h.send({
      subject: `A very long subject that keeps going ${'and going '.repeat(30)}until the end`,
      to: Array.from({ length: 40 }, (_, i) => `recipient-number-${i}-with-a-long-local-part@ok.test`),
    });
    ids.hostile = await h.send({
      subject: '<img src=x onerror=alert("subject")> hostile',
      from: '"<script>alert(1)</script> Mallory" <mallory@sender.test>',
      to: ['someone@ok.test'],
      headers: ['X-Note: <b onmouseover=alert(2)>hover</b>'],
      html: [
        '<html><head><link rel="stylesheet" href="' + origin + '/style.css"><meta http-equiv="refresh" content="0;url=' + origin + '/refresh"></head>',
        '<body><p id="marker">the script did not run</p>',
        '<img src="' + origin + '/pixel.png" alt="remote">',
        '<script src="' + origin + '/evil.js"></script>',
        '<script>document.getElementById("marker").textContent = "SCRIPT RAN"; alert("script"); fetch("' + origin + '/fetch");</script>',
        '<img src="x" onerror="document.getElementById(\'marker\').textContent = \'HANDLER RAN\'">',
        '<p style="color: rgb(200, 0, 0)">inline styles still show</p></body></html>',
      ].join('\n'),
    });
    ids.failed = await h.send({ subject: 'Order confirmation 77', to: ['orders@fail.test'] });
    ids.down = await h.send({ subject: 'To an endpoint that is down', to: ['x@down.test'] });
    await h.waitForState(`${ids.failed}-1`, 'dead-letter');
    await h.waitForState(`${ids.plain}-1`, 'completed');

    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('dialog', (d) => (dialogs.push(d.message()), void d.dismiss()));
  });

  after(async () => {
    await browser?.close();
    await h?.close();
    await redis?.dispose();
    remote.close();
  });

  test('asks for the admin token before any page, and signs in with it', async () => {
    await page.goto(`${h.base}/console/messages`);
    assert.match(page.url(), /\/console\/login\?next=%2Fconsole%2Fmessages$/);
    await page.fill('#token', 'not-the-token-but-long-enough');
    await page.keyboard.press('Enter');
    await page.waitForSelector('text=That is not the admin token.');
    await page.screenshot({ path: shot('01-sign-in') });
    await page.fill('#token', TOKEN);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/console\/messages$/);
    const cookie = (await browser.context.cookies()).find((c) => c.name === 'mxpost_console');
    assert.equal(cookie?.httpOnly, true);
    assert.equal(cookie?.sameSite, 'Strict');
  });

  test('lists recent messages with long subjects and many recipients without widening the page', async () => {
    await page.goto(`${h.base}/console/messages`);
    await page.waitForSelector(`tr[data-queue-id="${ids.long}"]`);
    assert.match(await page.locator(`tr[data-queue-id="${ids.long}"]`).innerText(), /\+39 more/);
    assert.equal(await horizontalOverflow(page), 0, 'no horizontal scroll on a laptop');
    await page.screenshot({ path: shot('02-messages'), fullPage: true });
  });

  test('shows every value from an email as text: a hostile subject, name or header runs nothing', async () => {
    const row = page.locator(`tr[data-queue-id="${ids.hostile}"]`);
    assert.match(await row.innerText(), /<img src=x onerror=alert\("subject"\)> hostile/);
    assert.match(await row.innerText(), /<script>alert\(1\)<\/script> Mallory/);
    assert.equal(await page.locator('img[src="x"]').count(), 0);
    assert.deepEqual(dialogs, []);
  });

  test('finds a message by subject with the keyboard alone, and opens it', async () => {
    await page.goto(`${h.base}/console/messages`);
    await tabTo(page, '#q');
    await page.keyboard.type('invoice 4821');
    await page.keyboard.press('Enter');
    await page.waitForURL(/q=invoice\+4821/);
    assert.deepEqual(await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-queue-id'))), [ids.plain]);
    await tabTo(page, `tr[data-queue-id="${ids.plain}"] .subject a`);
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`/console/messages/${ids.plain}$`));
  });

  test('shows the verdicts, the envelope, the text, the attachments, inline images and the delivery with its attempts', async () => {
    const verdict = (check: string) => page.locator(`table.verdicts tr[data-check="${check}"] .badge`).first().innerText();
    assert.equal(await verdict('SPF'), 'pass');
    assert.equal(await verdict('DKIM'), 'pass');
    assert.equal(await verdict('DMARC'), 'pass');
    assert.match(await page.locator('#envelope').innerText(), /billing@ok\.test/);
    assert.match(await page.locator('pre.body-text').innerText(), /Please find the invoice attached/);
    const delivery = page.locator(`article[data-delivery-id="${ids.plain}-1"]`);
    assert.match(await delivery.innerText(), /delivered/);
    assert.match(await delivery.locator('table.attempts').innerText(), /HTTP 200/);
    const attachment = page.locator('table.attachments tr', { hasText: 'invoice-4821.pdf' });
    assert.match(await attachment.innerText(), /application\/pdf/);
    assert.match(await attachment.innerText(), new RegExp(`${pdf.length} bytes`));
    assert.match(await attachment.innerText(), new RegExp(createHash('sha256').update(pdf).digest('hex')));
    const logo = page.frameLocator('iframe.html-body').locator('#logo');
    assert.equal(await logo.evaluate((img) => (img as any).naturalWidth, null, { timeout: 5000 }), 1, 'an inline part shows in the sandboxed HTML');
    await page.locator('#headers summary').click();
    assert.match(await page.locator('table.headers').innerText(), /Subject\s+Invoice 4821 for March/);
    await page.locator('#payload summary').click();
    const json = JSON.parse(await page.locator('pre.json').innerText());
    assert.equal(json.id, `${ids.plain}-1`);
    assert.equal(json.message.subject, 'Invoice 4821 for March');
    // The sandboxed frame paints in its own renderer process; let it paint before the picture.
    await page.locator('iframe.html-body').scrollIntoViewIfNeeded();
    await page.waitForTimeout(500);
    await page.screenshot({ path: shot('03-message'), fullPage: true });
  });

  test('shows times in the viewer’s time zone', async () => {
    const time = page.locator('dl.summary time').first();
    const iso = (await time.getAttribute('datetime'))!;
    const tokyo = new Intl.DateTimeFormat('en-GB', { timeStyle: 'medium', timeZone: 'Asia/Tokyo' }).format(new Date(iso));
    const utc = new Intl.DateTimeFormat('en-GB', { timeStyle: 'medium', timeZone: 'UTC' }).format(new Date(iso));
    assert.notEqual(tokyo, utc);
    assert.ok((await time.innerText()).includes(tokyo), `${await time.innerText()} shows ${tokyo}`);
  });

  test('shows the HTML of a message sandboxed: its scripts do not run and nothing remote loads', async () => {
    const loaded = page.waitForResponse((r) => r.url().endsWith(`/console/messages/${ids.hostile}/html`));
    await page.goto(`${h.base}/console/messages/${ids.hostile}`);
    await loaded;
    // Give a script, a handler or the refresh time to act, had they been allowed to.
    await page.waitForTimeout(700);
    assert.deepEqual(remoteHits, [], 'no request reached the remote server');
    assert.deepEqual(dialogs, [], 'no script opened a dialog');
    const frame = page.frameLocator('iframe.html-body');
    assert.equal(await frame.locator('#marker').innerText({ timeout: 2000 }), 'the script did not run');
    assert.equal(await frame.locator('p[style]').evaluate((p) => (globalThis as any).getComputedStyle(p).color, null, { timeout: 2000 }), 'rgb(200, 0, 0)', 'inline styles apply');
    assert.equal(await page.locator('iframe.html-body').getAttribute('sandbox'), '');
    assert.equal(await page.title(), `${'<img src=x onerror=alert("subject")> hostile'} · mxpost`);
    await page.locator('#html').scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
    await page.screenshot({ path: shot('04-message-html') });
  });

  test('finds a failed delivery among the dead letters, replays it after confirming, and sees it delivered', async () => {
    h.failing.setFallback(200);
    await page.getByRole('link', { name: 'Dead letters' }).click();
    const row = page.locator(`tr[data-delivery-id="${ids.failed}-1"]`);
    assert.match(await row.innerText(), /HTTP 410/);
    await page.screenshot({ path: shot('05-dead-letters'), fullPage: true });
    await row.getByRole('link', { name: 'Order confirmation 77' }).click();
    assert.match(await page.locator('table.attempts').innerText(), /HTTP 410/);
    assert.match(await page.locator('table.attempts pre.response').first().innerText(), /^failing with 410$/, 'the start of the response');
    await page.getByRole('button', { name: 'Replay…' }).click();
    await page.waitForSelector('h1:has-text("Replay 1 dead letter?")');
    await page.screenshot({ path: shot('06-replay-confirm') });
    const before = h.failing.requests.length;
    await page.getByRole('button', { name: 'Replay it' }).click();
    await page.waitForSelector('text=Replayed: the delivery is queued again');
    // The page refreshes itself until the delivery settles.
    await page.waitForSelector(`article[data-delivery-id="${ids.failed}-1"][data-state="completed"]`, { timeout: 10_000 });
    assert.equal(h.failing.requests.length, before + 1);
    assert.match(await page.locator('table.attempts').innerText(), /HTTP 200/);
    await page.screenshot({ path: shot('07-delivery-replayed'), fullPage: true });
  });

  test('shows queue depth and an endpoint whose circuit opened on the overview', async () => {
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.waitForSelector('table.endpoints td.url:has-text("/down")', { timeout: 10_000 });
    const row = page.locator('table.endpoints tr', { hasText: '/down' });
    await row.locator('text=open').waitFor({ timeout: 10_000 });
    assert.match(await row.innerText(), /100 %/);
    assert.match(await page.locator('.retention').innerText(), /kept for 7 days/);
    await page.screenshot({ path: shot('08-overview'), fullPage: true });
  });

  test('adds newly arrived mail to the list without a reload', async () => {
    await page.goto(`${h.base}/console/messages`);
    const fresh = await h.send({ subject: 'Arrived while watching', to: ['late@ok.test'] });
    await page.waitForSelector(`tr[data-queue-id="${fresh}"]`, { timeout: 10_000 });
  });

  test('reads well on a phone: no sideways scrolling on the list or a message', async () => {
    const phone = await browser.context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${h.base}/console/messages`);
    assert.equal(await horizontalOverflow(phone), 0);
    await phone.screenshot({ path: shot('09-phone-messages'), fullPage: true });
    await phone.goto(`${h.base}/console/messages/${ids.long}`);
    assert.equal(await horizontalOverflow(phone), 0);
    await phone.screenshot({ path: shot('10-phone-message') });
    await phone.close();
  });
});

/** How many pixels the page is wider than the window. */
function horizontalOverflow(page: Page): Promise<number> {
  // Runs in the page, where globalThis is the window (the tests are type-checked without the DOM library).
  return page.evaluate(() => Math.max(0, (globalThis as any).document.documentElement.scrollWidth - (globalThis as any).innerWidth));
}

/** Presses Tab until `selector` has the focus; fails after 60 presses. */
async function tabTo(page: Page, selector: string): Promise<void> {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    if (await page.locator(selector).evaluate((el) => el === (globalThis as any).document.activeElement)) return;
  }
  throw new Error(`Tab never reached ${selector}`);
}
