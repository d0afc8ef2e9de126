// The HTTP API: configuration (config.json), the signed-in user's token, and requests that turn
// problem+json answers into ApiError. The same build serves the local mode (auth "dev": the
// demo server's /dev/sign-in) and AWS (auth "cognito": the Hosted UI, code flow with PKCE).

const SESSION_KEY = 'cassiopee.session';
let config = null;

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || 'La requête n’a pu aboutir.');
    this.status = status;
    this.code = problem.code || 'unknown';
    this.fields = Array.isArray(problem.errors) ? problem.errors : [];
  }
}

export async function loadConfig() {
  if (!config) {
    const r = await fetch('/config.json', { cache: 'no-cache' });
    config = r.ok ? await r.json() : { api_base: '', auth: 'dev' };
  }
  return config;
}

export function currentUser() {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    const user = raw ? JSON.parse(raw) : null;
    if (user && user.expires_at && user.expires_at * 1000 < Date.now()) return null;
    return user;
  } catch {
    return null;
  }
}

function claimsOf(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return {};
  }
}

function remember(token, name) {
  const claims = claimsOf(token);
  const groups = claims['cognito:groups'] || [];
  const user = {
    token,
    name: name || claims.email || '',
    role: groups.includes('staff') ? 'staff' : 'officer',
    expires_at: claims.exp || null,
  };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(user));
  return user;
}

export function signOut() {
  sessionStorage.removeItem(SESSION_KEY);
}

/** Local mode: a token from the demo server for a known address. */
export async function devSignIn(email) {
  const body = await request('POST', '/dev/sign-in', { body: { email }, anonymous: true });
  return remember(body.token, body.name);
}

// --- Cognito Hosted UI (authorization code with PKCE); the ID token carries email and groups.

function randomString(bytes) {
  const a = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...a)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function challengeOf(verifier) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return btoa(String.fromCharCode(...new Uint8Array(digest)))
    .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function redirectUri() {
  return `${location.origin}/connexion/retour`;
}

export async function cognitoSignIn() {
  const { cognito } = await loadConfig();
  const verifier = randomString(48);
  const state = randomString(16);
  sessionStorage.setItem('cassiopee.pkce', JSON.stringify({ verifier, state }));
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: cognito.client_id,
    redirect_uri: redirectUri(),
    scope: 'openid email',
    state,
    code_challenge: await challengeOf(verifier),
    code_challenge_method: 'S256',
  });
  location.assign(`${cognito.domain}/oauth2/authorize?${q}`);
}

export async function cognitoCallback(params) {
  const { cognito } = await loadConfig();
  const saved = JSON.parse(sessionStorage.getItem('cassiopee.pkce') || '{}');
  sessionStorage.removeItem('cassiopee.pkce');
  if (!params.get('code') || params.get('state') !== saved.state) {
    throw new ApiError(400, { code: 'sign-in-failed', detail: 'La connexion a échoué : recommencez.' });
  }
  const r = await fetch(`${cognito.domain}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: cognito.client_id,
      code: params.get('code'),
      redirect_uri: redirectUri(),
      code_verifier: saved.verifier,
    }),
  });
  if (!r.ok) throw new ApiError(r.status, { code: 'sign-in-failed', detail: 'La connexion a échoué : recommencez.' });
  return remember((await r.json()).id_token);
}

// --- Requests.

/**
 * Calls the API. `body` is sent as JSON unless it is a string or a Blob (sent as is);
 * `accept` asks for another representation; `raw` returns the Response itself.
 */
export async function request(method, path, opts = {}) {
  const { api_base: base } = await loadConfig();
  const headers = { accept: opts.accept || 'application/json', ...(opts.headers || {}) };
  const user = currentUser();
  if (user && !opts.anonymous) headers.authorization = `Bearer ${user.token}`;
  let body;
  if (opts.body !== undefined) {
    if (typeof opts.body === 'string' || opts.body instanceof Blob) {
      body = opts.body;
      headers['content-type'] = opts.contentType || 'text/csv';
    } else {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
  }
  let r;
  try {
    r = await fetch(`${base}${path}`, { method, headers, body });
  } catch {
    throw new ApiError(0, { code: 'network', detail: 'Le service ne répond pas : vérifiez votre connexion, puis réessayez.' });
  }
  if (r.status === 401 && !opts.anonymous) {
    signOut();
    window.dispatchEvent(new CustomEvent('cassiopee:signed-out'));
  }
  if (opts.raw && r.ok) return r;
  const type = r.headers.get('content-type') || '';
  const parsed = type.includes('json') ? await r.json().catch(() => ({})) : {};
  if (!r.ok) throw new ApiError(r.status, parsed);
  return parsed;
}

export const get = (path, opts) => request('GET', path, opts);

/** The time the API sees: the demo server's settable clock locally, the device's on AWS. */
export async function serverNow() {
  const { auth } = await loadConfig();
  if (auth === 'dev') {
    try {
      const clock = await request('GET', '/dev/clock', { anonymous: true });
      return new Date(clock.utc);
    } catch {
      return new Date();
    }
  }
  return new Date();
}

/** A fresh Idempotency-Key for one user action (a retry of the same action reuses it). */
export function idempotencyKey() {
  return `web-${randomString(18)}`;
}
