// History routing: a table of path patterns, same-origin links followed without a reload,
// and the page's own handler called with the path's parameters and the query string.
const routes = [];
let onRoute = null;

/** `pattern` like '/officier/sessions/:id'. */
export function route(pattern, handler, opts = {}) {
  const names = [];
  const re = new RegExp(`^${pattern.replace(/:[a-z_]+/g, (m) => { names.push(m.slice(1)); return '([^/]+)'; })}/?$`);
  routes.push({ re, names, handler, ...opts });
}

export function match(path) {
  for (const r of routes) {
    const m = r.re.exec(path);
    if (m) return { ...r, params: Object.fromEntries(r.names.map((n, i) => [n, decodeURIComponent(m[i + 1])])) };
  }
  return null;
}

export function navigate(url, opts = {}) {
  if (opts.replace) history.replaceState({}, '', url);
  else history.pushState({}, '', url);
  return onRoute(opts);
}

export function start(handler) {
  onRoute = handler;
  window.addEventListener('popstate', () => onRoute({}));
  document.addEventListener('click', (e) => {
    const a = e.target.closest('a[href]');
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    if (a.target || a.hasAttribute('download')) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith('/assets/') || a.getAttribute('href').startsWith('#')) return;
    e.preventDefault();
    navigate(url.pathname + url.search);
  });
  return onRoute({});
}
