// Copies the files of the design system (DSFR) that the front uses from the pinned npm package
// into public/assets/vendor/dsfr-<version>/, so that the server needs no npm at run time.
// Usage: node scripts/vendor-dsfr.mjs          (copy)
//        node scripts/vendor-dsfr.mjs --check  (exit 1 unless the vendored files are
//                                               byte-identical to the installed package)
// The files: the minified stylesheet and module script, what the stylesheet references
// (fonts in woff2 only: every browser the front supports reads woff2), the favicons, the licence.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkgDir = join(web, 'node_modules', '@gouvfr', 'dsfr');
const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const pinned = JSON.parse(readFileSync(join(web, 'package.json'), 'utf8')).dependencies['@gouvfr/dsfr'];
if (version !== pinned) {
  console.error(`installed @gouvfr/dsfr ${version}, package.json pins ${pinned}: run npm ci`);
  process.exit(1);
}
const dist = join(pkgDir, 'dist');
const target = join(web, 'public', 'assets', 'vendor', `dsfr-${version}`);

function wanted() {
  const files = new Set(['dsfr.min.css', 'dsfr.module.min.js', 'favicon/favicon.svg',
    'favicon/favicon.ico', 'favicon/apple-touch-icon.png']);
  const css = readFileSync(join(dist, 'dsfr.min.css'), 'utf8');
  for (const [, raw] of css.matchAll(/url\(\s*['"]?([^'")]+)['"]?\s*\)/g)) {
    if (raw.startsWith('data:') || raw.endsWith('.woff')) continue;
    files.add(raw.replace(/^\.\//, ''));
  }
  return [...files].sort();
}

function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

const digest = (p) => createHash('sha256').update(readFileSync(p)).digest('hex');
const files = wanted();
const sources = new Map(files.map((f) => [f, join(dist, f)]));
sources.set('LICENSE.md', join(pkgDir, 'LICENSE.md'));

if (process.argv.includes('--check')) {
  const problems = [];
  for (const [rel, src] of sources) {
    const dst = join(target, rel);
    if (!existsSync(src)) problems.push(`missing in the package: ${rel}`);
    else if (!existsSync(dst)) problems.push(`not vendored: ${rel}`);
    else if (digest(src) !== digest(dst)) problems.push(`differs from the package: ${rel}`);
  }
  for (const p of walk(target)) {
    const rel = relative(target, p);
    if (!sources.has(rel)) problems.push(`vendored but not used: ${rel}`);
  }
  const others = walk(join(web, 'public', 'assets', 'vendor')).filter((p) => !p.startsWith(target));
  for (const p of others) problems.push(`stale vendored file: ${relative(web, p)}`);
  if (problems.length) {
    console.error(problems.join('\n'));
    console.error('run: node scripts/vendor-dsfr.mjs');
    process.exit(1);
  }
  const bytes = walk(target).reduce((n, p) => n + statSync(p).size, 0);
  console.log(`DSFR ${version}: ${sources.size} vendored files identical to the package (${(bytes / 1024).toFixed(0)} KiB)`);
} else {
  rmSync(join(web, 'public', 'assets', 'vendor'), { recursive: true, force: true });
  for (const [rel, src] of sources) {
    mkdirSync(dirname(join(target, rel)), { recursive: true });
    copyFileSync(src, join(target, rel));
  }
  console.log(`DSFR ${version}: ${sources.size} files copied into ${relative(web, target)}`);
}
