// Live pages in a real browser: clicks through node A appear on the link page open on node B
// within a second, without a reload.
import { expect, test } from '@playwright/test';
import { e2ePorts, targetPort } from '../../playwright.config';

const nodeUrl = (i: number) => `http://127.0.0.1:${e2ePorts[i]}`;
const [A, B] = [nodeUrl(0), nodeUrl(1)];
const person = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

test('clicks through node A show up on the link page open on node B within 1 s', async ({ browser }) => {
  const owner = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await owner.newPage();
  await page.goto(`${A}/`);
  const res = await page.request.post(`${A}/api/links`, {
    data: { url: `http://127.0.0.1:${targetPort}/live` },
    headers: { origin: A },
  });
  expect(res.status()).toBe(201);
  const { slug } = await res.json();
  await page.goto(`${B}/links/${slug}`);
  await expect(page.getByTestId('stat-total')).toHaveText('0');
  // Let the page's socket subscribe before the clicks.
  await page.waitForTimeout(1_000);
  // A second browser, following the short link through node A.
  const visitor = await browser.newContext({ userAgent: person });
  const v = await visitor.newPage();
  for (let round = 1; round <= 3; round++) {
    const t0 = Date.now();
    for (let i = 0; i < 2; i++) {
      await v.goto(`${A}/${slug}`);
      await expect(v).toHaveURL(`http://127.0.0.1:${targetPort}/live`);
    }
    await expect(page.getByTestId('stat-total')).toHaveText(String(round * 2), { timeout: 1_000 });
    console.log(`round ${round}: the page on B showed the clicks made through A after ${Date.now() - t0} ms`);
  }
  await owner.close();
  await visitor.close();
});
