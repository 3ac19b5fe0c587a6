import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Where the test run leaves screenshots of the main pages for review (git-ignored). */
export const SCREENSHOTS = new URL('../../.mxpost/screenshots/', import.meta.url).pathname;

/**
 * Debian's Chromium, headless, with a new empty profile, driven by
 * playwright-core. No browser is downloaded: CI installs `chromium`
 * (scripts/prepare-machine.sh).
 */
export async function launchChromium(options: { timezoneId?: string; locale?: string; viewport?: { width: number; height: number } } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'mxpost-chromium-'));
  mkdirSync(SCREENSHOTS, { recursive: true });
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.MXPOST_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timezoneId: options.timezoneId ?? 'Asia/Tokyo',
    locale: options.locale ?? 'en-GB',
    viewport: options.viewport ?? { width: 1366, height: 800 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export const shot = (name: string) => join(SCREENSHOTS, `${name}.png`);
