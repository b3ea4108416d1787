// The pages run under a strict Content Security Policy (a fresh nonce per page, 'strict-dynamic',
// no 'unsafe-inline' for scripts) without a single violation: Next's scripts carry the nonce and
// the pages work. Markup injected into a page cannot run script.
import { expect, test, type BrowserContext, type Page, type Response } from '@playwright/test';
import { e2ePorts, targetPort } from '../../playwright.config';

const A = `http://127.0.0.1:${e2ePorts[0]}`;

interface Watched {
  page: Page;
  /** Violations the page reported (securitypolicyviolation events) and CSP errors on the console. */
  violations(): Promise<string[]>;
}

// Browser-side code is passed as strings: the tests' tsconfig has no DOM types (server code shares it).
const recordViolations = `
  window.cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    const where = e.sourceFile + ':' + e.lineNumber;
    window.cspViolations.push(e.effectiveDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + where);
  });`;

/** A page that records every CSP violation, from the first script on. */
async function watchedPage(ctx: BrowserContext): Promise<Watched> {
  await ctx.addInitScript({ content: recordViolations });
  const page = await ctx.newPage();
  const console: string[] = [];
  page.on('console', (m) => {
    if (/content security policy/i.test(m.text())) console.push(`console: ${m.text()}`);
  });
  return {
    page,
    violations: async () => [...console, ...(await page.evaluate<string[]>('window.cspViolations'))],
  };
}

/** The nonce of a page response's CSP, after checking its script-src is strict. */
function nonceOf(res: Response | null): string {
  const csp = res?.headers()['content-security-policy'] ?? '';
  const scriptSrc =
    csp
      .split(';')
      .map((d) => d.trim())
      .find((d) => d.startsWith('script-src ')) ?? '';
  expect(scriptSrc).toContain("'strict-dynamic'");
  expect(scriptSrc).not.toContain("'unsafe-inline'");
  expect(scriptSrc).not.toContain("'unsafe-eval'");
  const m = /'nonce-([^']+)'/.exec(scriptSrc);
  expect(m, `a nonce in ${csp}`).not.toBeNull();
  return m![1]!;
}

/** Every script tag of the page's HTML carries the response's nonce, and the browser kept it on them. */
async function expectScriptsNonced(page: Page, res: Response, nonce: string): Promise<void> {
  const tags = (await res.text()).match(/<script\b[^>]*>/g) ?? [];
  expect(tags.length).toBeGreaterThan(0);
  for (const tag of tags) expect(tag).toContain(` nonce="${nonce}"`);
  // The DOM hides the nonce attribute after parsing but keeps the property.
  const inDom = await page.evaluate<string[]>("[...document.querySelectorAll('script')].map((s) => s.nonce)");
  expect(inDom.filter((n) => n === nonce).length).toBeGreaterThanOrEqual(tags.length);
}

const everyPage = 'home, shortening a link, the link page, my links, sign-in, sign-up and the cluster page';
test(`${everyPage} load without a CSP violation`, async ({ browser }) => {
  const ctx = await browser.newContext();
  const { page, violations } = await watchedPage(ctx);
  const seen = new Set<string>();
  const visit = async (path: string) => {
    const res = await page.goto(`${A}${path}`);
    expect(res?.status(), path).toBe(200);
    const nonce = nonceOf(res);
    expect(seen.has(nonce), `${path}: a nonce seen before`).toBe(false);
    seen.add(nonce);
    await expectScriptsNonced(page, res!, nonce);
  };

  await visit('/');
  // Shortening works only if the page's scripts ran (the form posts through fetch).
  await page.getByTestId('url-input').fill(`http://127.0.0.1:${targetPort}/csp`);
  await page.getByTestId('shorten-submit').click();
  const short = page.getByTestId('short-url');
  await expect(short).toBeVisible();
  await expect(page.getByTestId('qr-code')).toBeVisible();
  const text = (await short.textContent())!.trim();
  const slug = text.slice(text.lastIndexOf('/') + 1);

  await visit(`/links/${slug}`);
  await expect(page.getByTestId('stat-total')).toHaveText('0');
  await expect(page.getByTestId('preference-list')).toBeVisible();
  await visit('/links');
  await expect(page.locator(`[data-testid="link-row"][data-slug="${slug}"]`)).toBeVisible();
  await visit('/signin');
  await expect(page.getByTestId('auth-submit')).toBeVisible();
  await visit('/signup');
  await expect(page.getByTestId('auth-submit')).toBeVisible();
  await visit('/cluster');
  await expect(page.getByTestId('ring-partition').first()).toBeVisible();
  await expect(page.getByTestId('cluster-live')).toBeVisible();
  // Let late work (live updates, lazy chunks) happen before the final count.
  await page.waitForTimeout(1_000);
  expect(await violations()).toEqual([]);
  await ctx.close();
});

test('injected markup cannot run script (an inline handler is blocked and reported)', async ({ browser }) => {
  const ctx = await browser.newContext();
  const { page, violations } = await watchedPage(ctx);
  await page.goto(`${A}/`);
  await expect(page.getByTestId('shorten-submit')).toBeVisible();
  // What a stored XSS would look like: an image that fails to load, with a handler.
  await page.evaluate(`{
    const box = document.createElement('div');
    box.innerHTML = '<img alt="" src="data:image/png;base64,AAAA" onerror="window.injectedRan = true">';
    document.body.append(box);
  }`);
  await expect.poll(violations).toContainEqual(expect.stringContaining('script-src'));
  expect(await page.evaluate('window.injectedRan')).toBeUndefined();
  await ctx.close();
});
