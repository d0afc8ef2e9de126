// A manual look while working on the front: node scripts/smoke.mjs URL EMAIL PATH…
// prints script errors and axe-core's findings per page, and saves /tmp/web-smoke-N.png.
import { startBrowser, newPage, signIn, waitReady, assertAccessible } from '../tests/harness.mjs';

const [base, email, ...paths] = process.argv.slice(2);
const { context, close } = await startBrowser();
const page = await newPage(context);
try {
  await signIn(page, base, email);
  for (const [i, path] of paths.entries()) {
    page.errors.length = 0;
    await page.goto(`${base}${path}`);
    try {
      await waitReady(page, path.split('?')[0]);
      await page.screenshot({ path: `/tmp/web-smoke-${i}.png`, fullPage: true });
      console.log(path, 'errors', page.errors, 'title', await page.title());
      await assertAccessible(page, path);
      console.log(path, 'axe ok');
    } catch (e) { console.log(path, String(e.message).slice(0, 1500)); }
  }
} finally { await close(); }
