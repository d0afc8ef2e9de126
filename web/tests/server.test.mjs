// The local mode serves the front without shadowing the API: files with their types and
// caching, index.html for the front's pages, problem+json for API and /dev paths whatever the
// browser asks for.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './harness.mjs';

const HTML = 'text/html,application/xhtml+xml,*/*;q=0.8';
const pub = join(dirname(fileURLToPath(import.meta.url)), '..', 'public');
const { version } = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', '@gouvfr', 'dsfr', 'package.json'), 'utf8'));
let server;

before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

test('the index and the front’s pages answer index.html, never cached stale', async () => {
  const index = readFileSync(join(pub, 'index.html'), 'utf8');
  for (const path of ['/', '/officier/sessions', '/personnel/sessions/01KDVDNA00G8QD9VX6DEAEP295']) {
    const r = await server.api('GET', path, { accept: HTML });
    assert.equal(r.status, 200, path);
    assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(r.headers.get('cache-control'), 'no-cache');
    assert.match(r.headers.get('content-security-policy'), /default-src 'self'/);
    assert.equal(r.text, index);
  }
});

test('files come with their type; the vendored design system is immutable; ETags revalidate', async () => {
  const css = await server.api('GET', `/assets/vendor/dsfr-${version}/dsfr.min.css`);
  assert.equal(css.status, 200);
  assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
  assert.match(css.headers.get('cache-control'), /immutable/);
  const js = await server.api('GET', '/assets/app/main.js');
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  const font = await server.api('GET', `/assets/vendor/dsfr-${version}/fonts/Marianne-Regular.woff2`);
  assert.equal(font.headers.get('content-type'), 'font/woff2');
  const again = await fetch(`${server.url}/assets/app/main.js`, { headers: { 'if-none-match': js.headers.get('etag') } });
  assert.equal(again.status, 304);
  const config = await server.api('GET', '/config.json');
  assert.equal(config.json.auth, 'dev');
});

test('API and /dev routes are never shadowed, even for a browser asking for HTML', async () => {
  const api = await server.api('GET', '/sessions', { accept: HTML });
  assert.equal(api.status, 401);
  assert.equal(api.headers.get('content-type'), 'application/problem+json');
  const unknownAdmin = await server.api('GET', '/admin/nowhere', { accept: HTML });
  assert.equal(unknownAdmin.headers.get('content-type'), 'application/problem+json');
  const dev = await server.api('GET', '/dev/outbox', { accept: HTML });
  assert.equal(dev.status, 200);
  assert.ok(Array.isArray(dev.json.emails));
  const devUnknown = await server.api('GET', '/dev/nothing', { accept: HTML });
  assert.equal(devUnknown.status, 404);
  assert.equal(devUnknown.headers.get('content-type'), 'application/problem+json');
  const missingFile = await server.api('GET', '/assets/app/missing.js', { accept: HTML });
  assert.equal(missingFile.status, 404);
  const post = await server.api('POST', '/officier/sessions', { accept: HTML, body: {} });
  assert.equal(post.headers.get('content-type'), 'application/problem+json');
});
