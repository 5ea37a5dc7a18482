// The search page in headless Chromium (Debian's, driven by playwright-core) for the page tests:
// one place for the binary, its flags and the page's ready signal.
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Why the page tests cannot run here, or null when Chromium is there. */
export function browserMissing(): string | null {
  return existsSync(CHROMIUM) ? null : `${CHROMIUM} not found; end-to-end page test skipped`;
}

export interface OpenPage { browser: Browser; page: Page; pageErrors: string[] }

/** Opens `<url>/?collection=<name>` and waits until the page says it is ready; close `browser` after.
 * `extraArgs` are more Chromium flags (e.g. --host-resolver-rules). */
export async function openSearchPage(url: string, collection: string, extraArgs: readonly string[] = []): Promise<OpenPage> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...ARGS, ...extraArgs] });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${url}/?collection=${collection}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
    return { browser, page, pageErrors };
  } catch (e) {
    await browser.close();
    throw e;
  }
}
