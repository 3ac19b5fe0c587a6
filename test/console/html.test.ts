import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { escapeHtml, href, html } from '../../src/console/html.ts';

const HOSTILE = `"><script>alert('x')</script><img src=x onerror=alert(1)>&amp;`;

describe('console HTML templates', () => {
  test('escapes every interpolated value, in text and in quoted attributes', () => {
    const out = html`<p title="${HOSTILE}">${HOSTILE}</p>`.value;
    assert.equal(out, `<p title="${escapeHtml(HOSTILE)}">${escapeHtml(HOSTILE)}</p>`);
    assert.doesNotMatch(out, /<script|<img|"><|'x'/);
    assert.match(out, /&amp;amp;/, 'an entity in the input is shown as typed, not decoded');
  });

  test('escapes the items of lists and leaves markup made by html alone', () => {
    const items = [HOSTILE, html`<b>${HOSTILE}</b>`, 3, null, undefined, false];
    const out = html`<i>${items}</i>`.value;
    assert.equal(out, `<i>${escapeHtml(HOSTILE)}<b>${escapeHtml(HOSTILE)}</b>3</i>`);
  });

  test('a plain string that looks like markup is never trusted', () => {
    const pretending = { value: '<script>1</script>', toString: () => '<script>1</script>' };
    assert.equal(html`${pretending as unknown as string}`.value, '&lt;script&gt;1&lt;/script&gt;');
  });

  test('builds links with every parameter encoded', () => {
    assert.equal(href('/console/messages', { q: 'a&b=c d', from: '', cursor: null }), '/console/messages?q=a%26b%3Dc+d');
    assert.equal(href('/console/'), '/console/');
  });
});
