// Manual look: node tests/smoke.mjs URL PATH EMAIL → prints errors and axe results, saves a png.
import { startBrowser, newPage, signIn, waitReady, assertAccessible } from './harness.mjs';
const [base, path, email] = process.argv.slice(2);
const { context, close } = await startBrowser();
const page = await newPage(context);
try {
  if (email) await signIn(page, base, email);
  await page.goto(`${base}${path}`);
  await waitReady(page, path.split('?')[0]);
  await page.screenshot({ path: `/tmp/web-smoke.png`, fullPage: true });
  console.log('errors', page.errors);
  await assertAccessible(page, path);
  console.log('axe ok');
} catch (e) { console.log(String(e.message).slice(0, 3000)); } finally { await close(); }
