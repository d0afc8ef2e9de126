// Boot: the routes of both spaces, the header's navigation for the signed-in role, the
// sign-in page (the demo server's accounts locally, Cognito on AWS).
import { loadConfig, currentUser, devSignIn, signOut, cognitoSignIn, cognitoCallback, request } from './api.js';
import { h, render, field, showErrors, clearErrors, errorBlock, alert, notify, link, formValues } from './ui.js';
import { route, match, navigate, start } from './router.js';
import * as officer from './officer.js';
import * as staff from './staff.js';

const MENUS = {
  officer: [
    ['/officier/sessions', 'Sessions à venir'],
    ['/officier/mes-formations', 'Mes formations'],
    ['/officier/notifications', 'Mes notifications'],
    ['/officier/mes-donnees', 'Mes données'],
  ],
  staff: [
    ['/personnel', 'Tableau de bord'],
    ['/personnel/planning', 'Planning'],
    ['/personnel/formations', 'Formations'],
    ['/personnel/officiers', 'Officiers'],
    ['/personnel/imports', 'Imports'],
    ['/personnel/statistiques', 'Statistiques'],
  ],
};

function home(user) {
  return user?.role === 'staff' ? '/personnel' : '/officier/sessions';
}

function header(user) {
  const menu = document.getElementById('menu');
  const tools = document.getElementById('outils');
  const path = location.pathname;
  const items = user ? MENUS[user.role] : [];
  // The current entry: the longest menu path that prefixes the page's path (a session's pages
  // belong to the planning; the dashboard matches only itself).
  const section = path.startsWith('/personnel/sessions/') ? '/personnel/planning' : path;
  const current = items.map(([p]) => p)
    .filter((p) => section === p || (p !== '/personnel' && section.startsWith(`${p}/`)))
    .sort((a, b) => b.length - a.length)[0];
  menu.replaceChildren(...items.map(([href, label]) => h('li', { class: 'fr-nav__item' },
    h('a', { class: 'fr-nav__link', href, 'aria-current': href === current ? 'page' : null }, label))));
  tools.replaceChildren(...(user
    ? [h('li', {}, h('span', { class: 'fr-btn cassiopee-user' }, user.name)),
      h('li', {}, h('button', { type: 'button', class: 'fr-btn', id: 'deconnexion', onclick: () => { signOut(); navigate('/connexion'); } }, 'Se déconnecter'))]
    : [h('li', {}, h('a', { class: 'fr-btn', href: '/connexion' }, 'Se connecter'))]));
  // A link followed from the mobile menu closes it.
  const modal = document.getElementById('menu-modal');
  if (modal.classList.contains('fr-modal--opened')) window.dsfr?.(modal)?.modal?.conceal();
}

async function signInPage() {
  const config = await loadConfig();
  if (config.auth === 'cognito') {
    render('Connexion',
      h('p', {}, 'Connectez-vous avec le compte que la MiRVOG vous a ouvert.'),
      h('button', { type: 'button', class: 'fr-btn', onclick: () => cognitoSignIn() }, 'Se connecter'));
    return;
  }
  const slot = h('div', {});
  const form = h('form', { novalidate: true, class: 'fr-mb-4w' },
    h('fieldset', { class: 'fr-fieldset' },
      h('legend', { class: 'fr-fieldset__legend' }, 'Connexion au mode de démonstration'),
      h('div', { class: 'fr-fieldset__element' },
        field('email', 'Adresse électronique', { kind: 'email', required: true, hint: 'Format attendu : prenom.nom@intradef.example', attrs: { autocomplete: 'email', spellcheck: 'false' } })),
      h('div', { class: 'fr-fieldset__element' }, h('button', { type: 'submit', class: 'fr-btn' }, 'Se connecter'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const { email } = formValues(form);
    if (!email) {
      showErrors(form, slot, { fields: [{ field: 'email', detail: 'Saisissez votre adresse électronique.' }] });
      return;
    }
    try {
      const user = await devSignIn(email);
      await navigate(home(user), { replace: true });
    } catch (err) {
      showErrors(form, slot, { fields: [{ field: 'email', detail: err.message }] });
    }
  });
  const pick = (email) => () => { form.elements.email.value = email; form.requestSubmit(); };
  render('Connexion',
    alert('info', 'Mode local', 'Ce serveur de démonstration connecte sans mot de passe tout officier ou membre du personnel connu.'),
    slot, form,
    (config.demo_accounts || []).length
      ? [h('h2', { class: 'fr-h5' }, 'Comptes de démonstration'),
        h('ul', { class: 'fr-btns-group fr-btns-group--inline-md' },
          config.demo_accounts.map((a) => h('li', {}, h('button', { type: 'button', class: 'fr-btn fr-btn--tertiary', onclick: pick(a.email) }, a.label))))]
      : null);
}

async function callbackPage() {
  try {
    const user = await cognitoCallback(new URLSearchParams(location.search));
    await navigate(home(user), { replace: true });
  } catch (err) {
    render('Connexion', errorBlock(err), h('p', {}, link('/connexion', 'Recommencer')));
  }
}

/**
 * A one-time link from an email (`/liens/{token}`). The local server answers these addresses
 * itself; on AWS they reach the static site, and this page asks the API what the link does,
 * then does it on the button only (a mail scanner opening the link changes nothing). The link
 * is the credential: no sign-in.
 */
async function linkPage({ token }) {
  const path = `/liens/${encodeURIComponent(token)}`;
  let intent;
  try {
    intent = await request('GET', path, { anonymous: true });
  } catch (err) {
    render('Lien', errorBlock(err), h('p', {}, link('/connexion', 'Ouvrir Cassiopée')));
    return;
  }
  const slot = h('div', { 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'fr-btn' }, intent.label || intent.title);
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const done = await request('POST', path, { anonymous: true });
      button.remove();
      notify(slot, done.outcome === 'done' ? 'success' : 'info',
        done.outcome === 'done' ? 'C’est fait' : 'Déjà fait', done.detail);
    } catch (err) {
      button.disabled = false;
      notify(slot, 'error', 'Impossible', err.message);
    }
  });
  render(intent.title, h('p', {}, intent.detail),
    h('p', { class: 'fr-text--sm' }, 'Rien n’est fait tant que vous n’avez pas appuyé sur le bouton.'),
    button, slot);
}

route('/liens/:token', linkPage, { public: true });
route('/connexion', signInPage, { public: true });
route('/connexion/retour', callbackPage, { public: true });
route('/officier/sessions', officer.sessionsPage, { role: 'officer' });
route('/officier/sessions/:id', officer.sessionPage, { role: 'officer' });
route('/officier/mes-formations', officer.myTrainingsPage, { role: 'officer' });
route('/officier/notifications', officer.notificationsPage, { role: 'officer' });
route('/officier/mes-donnees', officer.myDataPage, { role: 'officer' });
staff.routes(route);

async function show() {
  const user = currentUser();
  const path = location.pathname;
  if (path === '/' || path === '') return navigate(user ? home(user) : '/connexion', { replace: true });
  const found = match(path);
  header(user);
  if (user?.role === 'officer' && path !== '/officier/notifications') officer.refreshUnread();
  if (!found) {
    render('Page introuvable', h('p', {}, 'Cette adresse ne correspond à aucune page.'), h('p', {}, link(home(user), 'Retour à l’accueil')));
    return undefined;
  }
  if (!found.public && !user) return navigate('/connexion', { replace: true });
  if (found.role && user && found.role !== user.role) {
    render('Accès réservé', alert('warning', null, found.role === 'staff' ? 'Cet espace est réservé au personnel de la MiRVOG.' : 'Cet espace est réservé aux officiers accompagnés.'), h('p', {}, link(home(user), 'Aller à mon espace')));
    return undefined;
  }
  try {
    await found.handler(found.params, new URLSearchParams(location.search));
  } catch (err) {
    render('Une erreur est survenue', errorBlock(err), h('p', {}, link(home(user), 'Retour à l’accueil')));
  }
  // Says which page has finished rendering (the browser tests wait for it).
  document.body.dataset.ready = path;
  return undefined;
}

window.addEventListener('cassiopee:signed-out', () => navigate('/connexion', { replace: true }));
start(show);
