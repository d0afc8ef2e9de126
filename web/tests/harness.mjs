// What the browser tests share: the demo server started on a free port with a fresh data
// folder, Debian's Chromium driven by playwright-core (no browser download), sign-in, axe-core
// checks and screenshots at 360 and 1280 px.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
export const ARTIFACTS = process.env.CASSIOPEE_WEB_ARTIFACTS || join(repo, 'target', 'web-artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const SERVER = process.env.CASSIOPEE_BIN
  || join(process.env.CARGO_TARGET_DIR || join(repo, 'target'), 'debug', 'cassiopee-local');
const AXE = readFileSync(join(here, '..', 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
/** The demo data's "today": its sessions from December 2026 on are still open. */
export const DEMO_NOW = '2026-12-01T10:00:00+01:00';

function freePort() {
  return new Promise((ok, ko) => {
    const s = createServer();
    s.unref();
    s.on('error', ko);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
  });
}

/** Starts the demo server, with its demo data and the clock at DEMO_NOW. */
export async function startServer() {
  assert.ok(existsSync(SERVER), `the demo server is not built: ${SERVER} (cargo build -p cassiopee-local)`);
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), 'cassiopee-web-'));
  const env = { ...process.env, CASSIOPEE_ADDR: `127.0.0.1:${port}`, CASSIOPEE_DATA: data, RUST_LOG: 'warn' };
  const child = spawn(SERVER, [], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`the demo server stopped: ${stderr}`);
    try {
      const r = await fetch(`${url}/dev/clock`);
      if (r.ok) break;
    } catch { /* not listening yet */ }
    if (i > 600) throw new Error('the demo server did not start within 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  const api = async (method, path, { body, token, accept } = {}) => {
    const headers = { accept: accept || 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const r = await fetch(`${url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, headers: r.headers, json, text };
  };
  await api('POST', '/dev/clock', { body: { now: DEMO_NOW } });
  const token = async (email) => (await api('POST', '/dev/sign-in', { body: { email } })).json.token;
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => { child.once('exit', r); setTimeout(r, 3000); });
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(data, { recursive: true, force: true });
  };
  return { url, api, token, stop };
}

export async function startBrowser() {
  assert.ok(existsSync(CHROMIUM), `Chromium is missing at ${CHROMIUM} (apt-get install chromium)`);
  const profile = mkdtempSync(join(tmpdir(), 'cassiopee-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
    locale: 'fr-FR',
    timezoneId: 'America/New_York', // far from Paris: the front must show Paris time anyway
    acceptDownloads: true,
  });
  // axe-core is served as a same-origin script, so that the pages keep their CSP in the tests.
  await context.route('**/__tests__/axe.min.js', (r) => r.fulfill({ body: AXE, contentType: 'text/javascript' }));
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

/** A new page that fails the test on any script error or console error. */
export async function newPage(context) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  // An API refusal is a normal answer for the page (it shows it); anything else is a fault.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(`console: ${m.text()}`);
  });
  page.errors = errors;
  return page;
}

export async function waitReady(page, path) {
  await page.waitForFunction((p) => document.body.dataset.ready === p, path, { timeout: 15000 });
}

export async function signIn(page, base, email) {
  await page.goto(`${base}/connexion`);
  await waitReady(page, '/connexion');
  await page.getByLabel('Adresse électronique').fill(email);
  await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/connexion'));
}

/** Runs axe-core on the page as it stands; fails with every violation listed. */
export async function assertAccessible(page, what) {
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.addScriptTag({ url: new URL('/__tests__/axe.min.js', page.url()).href });
  const result = await page.evaluate(async () => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
  }));
  const lines = result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} – ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  axeLog.push({ page: what, violations: result.violations.length, passes: result.passes.length });
  assert.deepEqual(lines, [], `axe-core on ${what}`);
}

export const axeLog = [];

/** Screenshots of the whole page at 360 px and at 1280 px, named after `name`. */
export async function screenshots(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  try {
    for (const width of [360, 1280]) {
      await page.setViewportSize({ width, height: width === 360 ? 780 : 900 });
      await page.waitForTimeout(150);
      await page.screenshot({ path: join(ARTIFACTS, `${name}-${width}.png`), fullPage: true });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 1, `${name} is ${overflow}px wider than a ${width}px screen`);
    }
  } finally {
    await page.setViewportSize({ width: 1280, height: 900 });
  }
}

/** Every check a page gets: no script error, axe-core clean, and both screenshots. */
export async function checkPage(page, name) {
  assert.deepEqual(page.errors, [], `script errors on ${name}`);
  await assertAccessible(page, name);
  await screenshots(page, name);
}

/** The confirmation dialog named `name`, once its opening transition is over. */
export async function openedDialog(page, name) {
  const dialog = page.getByRole('dialog', { name });
  await dialog.waitFor();
  await page.waitForFunction(() => {
    const d = document.querySelector('dialog.fr-modal--opened');
    return d && getComputedStyle(d).opacity === '1';
  });
  return dialog;
}
