// What a person does with ringlink, in a real browser against a real 3-node cluster:
// shorten on node A, follow the short link through node B in another browser, watch the
// count on node C; password-protected links; expiry; signing up keeps anonymous links.
// Its screenshots are the README's (`npm run screenshots` writes them to docs/screenshots/).
import { expect, test, type Page } from '@playwright/test';
import { e2ePorts, targetPort } from '../../playwright.config';
import { screenshotPath } from './support/screenshots';

const nodeUrl = (i: number) => `http://127.0.0.1:${e2ePorts[i]}`;
const [A, B, C] = [nodeUrl(0), nodeUrl(1), nodeUrl(2)];

/** Where links lead: a local page (no internet here). */
const target = (path: string) => `http://127.0.0.1:${targetPort}/${path}`;
/** Headless Chromium says so in its user agent, and ringlink counts it as a bot; visitors here are people. */
const person = {
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
};

async function shorten(
  page: Page,
  base: string,
  url: string,
  options: { slug?: string; password?: string } = {},
): Promise<string> {
  await page.goto(`${base}/`);
  await page.getByTestId('url-input').fill(url);
  if (options.slug || options.password) {
    const slugInput = page.getByTestId('slug-input');
    if (!(await slugInput.isVisible()))
      await page
        .getByText(/options/i)
        .first()
        .click();
    if (options.slug) await slugInput.fill(options.slug);
    if (options.password) await page.getByTestId('password-input').fill(options.password);
  }
  await page.getByTestId('shorten-submit').click();
  const short = page.getByTestId('short-url');
  await expect(short).toBeVisible();
  const text = (await short.textContent())!.trim();
  return text.slice(text.lastIndexOf('/') + 1);
}

test('a link shortened on node A is followed through node B and counted on node C', async ({ browser }) => {
  const owner = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await owner.newPage();
  const slug = await shorten(page, A, target('launch-notes'));
  await expect(page.getByTestId('result-card')).toBeVisible();
  await expect(page.getByTestId('qr-code')).toBeVisible();
  await page.screenshot({ path: screenshotPath('home-result.png') });

  const visitor = await browser.newContext(person);
  const v = await visitor.newPage();
  for (let i = 0; i < 3; i++) {
    await v.goto(`${B}/${slug}`);
    await expect(v).toHaveURL(target('launch-notes'));
  }

  // The session cookie is per host, not per port: the same browser is signed in on C.
  await page.goto(`${C}/links/${slug}`);
  await expect(page.getByTestId('stat-total')).toHaveText('3', { timeout: 10_000 });
  await expect(page.getByTestId('preference-list')).toContainText('e1');
  await page.screenshot({ path: screenshotPath('link-page.png'), fullPage: true });

  await page.goto(`${C}/links`);
  const row = page.locator(`[data-testid="link-row"][data-slug="${slug}"]`);
  await expect(row).toBeVisible();
  await page.screenshot({ path: screenshotPath('my-links.png') });
  await owner.close();
  await visitor.close();
});

test('a password-protected link asks for its password and never shows the target before', async ({ browser }) => {
  const owner = await browser.newContext();
  const slug = await shorten(await owner.newPage(), A, target('secret-plans'), { password: 'open sesame' });
  const visitor = await browser.newContext({ ...person, viewport: { width: 420, height: 700 } });
  const v = await visitor.newPage();
  const first = await v.goto(`${B}/${slug}`);
  expect(await first!.text()).not.toContain('secret-plans');
  await v.getByLabel('Password').fill('not it');
  await v.getByRole('button', { name: /continue/i }).click();
  await expect(v.getByRole('alert')).toContainText(/not right/i);
  await v.screenshot({ path: screenshotPath('password.png') });
  await v.getByLabel('Password').fill('open sesame');
  await v.getByRole('button', { name: /continue/i }).click();
  await expect(v).toHaveURL(target('secret-plans'));
  await owner.close();
  await visitor.close();
});

test('an expired link answers 410 with a page that says so, and the dashboard marks it expired', async ({
  browser,
}) => {
  const owner = await browser.newContext();
  const page = await owner.newPage();
  await page.goto(`${A}/`);
  const res = await page.request.post(`${A}/api/links`, {
    data: { url: target('flash-sale'), expiresAt: new Date(Date.now() + 2_000).toISOString() },
    headers: { origin: A },
  });
  expect(res.status()).toBe(201);
  const { slug } = await res.json();
  const visitor = await browser.newContext(person);
  const v = await visitor.newPage();
  await v.goto(`${C}/${slug}`);
  await expect(v).toHaveURL(target('flash-sale'));
  await v.waitForTimeout(2_500);
  const gone = await v.goto(`${B}/${slug}`);
  expect(gone!.status()).toBe(410);
  await expect(v.getByRole('heading')).toContainText(/expired/i);
  await page.goto(`${B}/links`);
  await expect(page.locator(`[data-testid="link-row"][data-slug="${slug}"]`)).toContainText(/expired/i);
  await owner.close();
  await visitor.close();
});

test('signing up keeps the links made before, on every node', async ({ browser }) => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const one = await shorten(page, A, target('before-1'));
  const two = await shorten(page, B, target('before-2'));
  await page.goto(`${C}/signup`);
  const username = `e2e${Date.now().toString(36)}`;
  await page.getByTestId('username-input').fill(username);
  await page.getByTestId('password-input').fill('a long enough password');
  await page.getByTestId('auth-submit').click();
  await expect(page).toHaveURL(/\/links$/);
  await expect(page.getByText(/2 links? moved/i)).toBeVisible();
  await expect(page.getByTestId('session-user')).toContainText(username);
  for (const slug of [one, two])
    await expect(page.locator(`[data-testid="link-row"][data-slug="${slug}"]`)).toBeVisible();

  // Sign out, then back in through another node: the links are the account's now.
  await page.getByTestId('signout-button').click();
  // Signing out reloads the page: let that finish before navigating elsewhere.
  await expect(page.getByTestId('session-user')).toBeHidden();
  await page.waitForLoadState('load');
  await page.goto(`${A}/signin`);
  await page.getByTestId('username-input').fill(username);
  await page.getByTestId('password-input').fill('a long enough password');
  await page.getByTestId('auth-submit').click();
  await expect(page).toHaveURL(/\/links$/);
  for (const slug of [one, two])
    await expect(page.locator(`[data-testid="link-row"][data-slug="${slug}"]`)).toBeVisible();
  await ctx.close();
});

test('my links shows the exact total, pages with "Load more", and searches on the server', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${A}/`);
  // 55 links through the API from this browser (its session cookie, its Origin): more than a page of 50.
  const created = await page.evaluate(
    async (targetBase) => {
      let ok = 0;
      for (let i = 0; i < 55; i++) {
        const r = await fetch('/api/links', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ url: `${targetBase}/paged/${i}` }),
        });
        if (r.status === 201) ok++;
      }
      return ok;
    },
    target('').replace(/\/$/, ''),
  );
  expect(created).toBe(55);

  await page.goto(`${B}/links`);
  await expect(page.getByTestId('links-count')).toHaveText(/55 links/);
  const rows = page.getByTestId('link-row');
  await expect(rows).toHaveCount(50);
  // Newest first: the first row is the last link created.
  await expect(rows.first()).toContainText('/paged/54');
  await page.getByTestId('links-load-more').click();
  await expect(rows).toHaveCount(55);
  await expect(page.getByTestId('links-load-more')).toHaveCount(0);
  await expect(rows.last()).toContainText('/paged/0');

  await page.getByTestId('search-input').fill('paged/1');
  // paged/1 and paged/10 .. paged/19: 11 links.
  await expect(page.getByTestId('links-count')).toHaveText(/11 links match/);
  await expect(rows).toHaveCount(11);
  await context.close();
});
