import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const ROOT = new URL('../..', import.meta.url).pathname;
/** Git-ignored (`screenshots/` in .gitignore): a reviewer looks at the pages here after `npm test`. */
export const SCREENSHOT_DIR = join(ROOT, 'test', 'screenshots');

/** Debian's chromium, never a downloaded browser; headless, no sandbox (tests run as root). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
}

/**
 * A browser context whose pages report every problem a user would not see: console errors
 * (Chromium prints each CSP refusal there), `securitypolicyviolation` events, uncaught page
 * errors. Tests assert `problems` is empty after using the pages.
 */
export interface WatchedContext {
  context: BrowserContext;
  problems: string[];
  page(): Promise<Page>;
}

export async function watchedContext(browser: Browser, opts: { locale?: string; viewport?: { width: number; height: number } } = {}): Promise<WatchedContext> {
  const context = await browser.newContext({ acceptDownloads: true, locale: opts.locale ?? 'en-US', viewport: opts.viewport ?? { width: 1280, height: 900 } });
  const problems: string[] = [];
  // Injected by the browser, not by the page, so CSP does not apply to the listener itself.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  const watch = (page: Page) => {
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const text = msg.text();
      // A page answered 4xx on purpose (a test checking a refusal) logs a resource error: not a defect.
      if (/Failed to load resource: the server responded with a status of 4\d\d/.test(text)) return;
      problems.push(`${page.url()}: ${text}`);
    });
    page.on('pageerror', (err) => problems.push(`${page.url()}: uncaught ${err.message}`));
    // data-confirm forms ask with window.confirm; a user who clicked the button says yes.
    page.on('dialog', (d) => void d.accept());
  };
  context.on('page', watch);
  return {
    context,
    problems,
    async page() {
      return context.newPage();
    },
  };
}

/** A full-page screenshot under test/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Signs in through the real login form, as a person would. */
export async function signIn(page: Page, origin: string, user: string, password: string): Promise<void> {
  await page.goto(`${origin}/login`);
  await page.getByLabel(/User name|Gebruikersnaam/).fill(user);
  await page.getByLabel(/^(Password|Wachtwoord)$/).fill(password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.getByRole('button', { name: /Sign in|Aanmelden/ }).click()]);
}
