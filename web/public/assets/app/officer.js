// The officer's pages: upcoming sessions, a session and what I can do in it, my trainings,
// my notifications.
import { get, request, serverNow, idempotencyKey, ApiError, signOut } from './api.js';
import {
  h, render, alert, notify, loading, errorBlock, link, button, badgeGroup, field, checkbox,
  formValues, showErrors, confirmDialog, table, formatShortDay, formatDateTime, formatMonth,
  sessionDates, seatsBadge, statusBadge, MODALITIES, STATUS_LABELS, parisDay, download, clearErrors,
} from './ui.js';
import { navigate } from './router.js';

const tag = (text) => h('p', { class: 'fr-tag fr-tag--sm' }, text);

function monthOptions(now, count = 18) {
  const [y, m] = parisDay(now).split('-').map(Number);
  return Array.from({ length: count }, (_, i) => {
    const d = new Date(Date.UTC(y, m - 1 + i, 1));
    const ym = d.toISOString().slice(0, 7);
    return [ym, formatMonth(ym)];
  });
}

function lastDayOf(ym) {
  const [y, m] = ym.split('-').map(Number);
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}

function sessionCard(s, href) {
  return h('div', { class: 'fr-card fr-enlarge-link fr-card--sm' },
    h('div', { class: 'fr-card__body' },
      h('div', { class: 'fr-card__content' },
        h('h2', { class: 'fr-card__title' }, h('a', { href }, s.training.title)),
        h('p', { class: 'fr-card__desc' }, sessionDates(s), h('br'), s.place),
        h('div', { class: 'fr-card__start' },
          h('ul', { class: 'fr-tags-group' }, h('li', {}, tag(s.training.theme)), h('li', {}, tag(MODALITIES[s.training.modality] || s.training.modality)))),
        h('div', { class: 'fr-card__end' }, badgeGroup(seatsBadge(s))))));
}

// --- Upcoming sessions.

export async function sessionsPage(_, query) {
  const page = render('Sessions à venir', loading());
  const [now, { trainings }] = await Promise.all([serverNow(), get('/trainings')]);
  const themes = [...new Set(trainings.map((t) => t.theme))].sort((a, b) => a.localeCompare(b, 'fr'));
  const form = h('form', { class: 'cassiopee-filters fr-mb-4w', role: 'search', 'aria-label': 'Filtrer les sessions' },
    h('div', { class: 'fr-grid-row fr-grid-row--gutters' },
      h('div', { class: 'fr-col-12 fr-col-md-3' }, field('theme', 'Thème', { kind: 'select', placeholder: 'Tous les thèmes', options: themes.map((t) => [t, t]), value: query.get('theme') })),
      h('div', { class: 'fr-col-12 fr-col-md-3' }, field('modality', 'Modalité', { kind: 'select', placeholder: 'Toutes', options: Object.entries(MODALITIES), value: query.get('modality') })),
      h('div', { class: 'fr-col-12 fr-col-md-3' }, field('month', 'Mois', { kind: 'select', placeholder: 'Tous les mois', options: monthOptions(now), value: query.get('month') })),
      h('div', { class: 'fr-col-12 fr-col-md-3 cassiopee-filters__end' },
        checkbox('available', 'Avec des places restantes', query.get('available') === 'true'),
        h('button', { type: 'submit', class: 'fr-btn' }, 'Filtrer'))));
  const results = h('div', { id: 'resultats' });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = formValues(form);
    const q = new URLSearchParams();
    for (const k of ['theme', 'modality', 'month']) if (v[k]) q.set(k, v[k]);
    if (v.available) q.set('available', 'true');
    navigate(`/officier/sessions${q.toString() ? `?${q}` : ''}`);
  });
  page.replaceChildren(page.firstChild, form, results);
  const api = new URLSearchParams();
  if (query.get('theme')) api.set('theme', query.get('theme'));
  if (query.get('modality')) api.set('modality', query.get('modality'));
  if (query.get('month')) {
    api.set('from', `${query.get('month')}-01`);
    api.set('to', lastDayOf(query.get('month')));
  }
  if (query.get('available') === 'true') api.set('available', 'true');
  const { sessions } = await get(`/sessions?${api}`);
  const count = sessions.length === 0 ? 'Aucune session ne correspond à ces critères.'
    : sessions.length === 1 ? '1 session' : `${sessions.length} sessions`;
  results.append(h('p', { role: 'status', class: 'fr-text--lead' }, count),
    h('ul', { class: 'fr-grid-row fr-grid-row--gutters cassiopee-plain-list' },
      sessions.map((s) => h('li', { class: 'fr-col-12 fr-col-md-6 fr-col-lg-4' }, sessionCard(s, `/officier/sessions/${s.id}`)))));
}

// --- One session.

function facts(s) {
  const rows = [
    ['Dates', sessionDates(s)],
    ['Lieu', s.place],
    ['Formateur', s.trainer || 'À préciser'],
    ['Places', `${s.seats_left} restantes sur ${s.capacity}`],
    ['Liste d’attente', s.waitlist.mode === 'off' ? 'Pas de liste d’attente' : `${s.waiting_list_length} personne(s) en attente`],
    ['Clôture des inscriptions', formatDateTime(s.enrolment_closes_at)],
    ['Désistement sans pénalité jusqu’au', formatDateTime(s.free_withdrawal_until)],
  ];
  return h('dl', { class: 'cassiopee-facts' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function standingText(me) {
  switch (me.status) {
    case 'confirmed': return 'Vous êtes inscrit à cette session.';
    case 'waitlisted': return `Vous êtes sur la liste d’attente, en position ${me.position ?? '?'}.`;
    case 'offered': return `Une place vous est proposée${me.offer_expires_at ? ` jusqu’au ${formatDateTime(me.offer_expires_at)}` : ''} : acceptez-la ou refusez-la.`;
    default: return `Votre situation : ${STATUS_LABELS[me.status] || me.status}${me.late ? ' (tardif)' : ''}.`;
  }
}

const ENROLLED_TEXT = {
  confirmed: (o) => ['Inscription confirmée', 'Votre place est réservée. Un courriel de confirmation vous est envoyé.'
    + ((o.clashes || []).length
      ? ` Attention : cette session chevauche ${o.clashes.map((c) => `la session ${c.reference} (${formatDateTime(c.starts_at)})`).join(' et ')}, à laquelle vous êtes aussi inscrit.`
      : '')],
  waitlisted: (o) => ['Inscription sur la liste d’attente', `La session est complète : vous êtes en position ${o.position}. Vous serez prévenu par courriel si une place se libère.`],
};

const WITHDRAWN_TEXT = {
  withdrawn: (o) => ['Désistement enregistré', o.late ? 'Votre désistement est compté comme tardif.' : 'Votre place est libérée, sans pénalité.'],
  left_waitlist: () => ['Vous avez quitté la liste d’attente', 'Vous n’êtes plus en attente pour cette session.'],
  declined_offer: () => ['Place refusée', 'La place proposée est rendue à la liste d’attente.'],
};

export async function sessionPage({ id }, query, flash) {
  render('Session', loading());
  let s;
  try {
    s = await get(`/sessions/${encodeURIComponent(id)}`);
  } catch (err) {
    render('Session introuvable', errorBlock(err), h('p', {}, link('/officier/sessions', 'Retour aux sessions à venir')));
    return;
  }
  const now = await serverNow();
  const slot = h('div', { id: 'message-action' });
  if (flash) slot.append(flash);
  const me = s.me && ['confirmed', 'waitlisted', 'offered'].includes(s.me.status) ? s.me : null;
  const open = s.status === 'scheduled' && now <= new Date(s.enrolment_closes_at) && now < new Date(s.starts_at);
  const act = async (label, fn, texts) => {
    try {
      const outcome = await fn();
      const [title, text] = texts[outcome.status](outcome);
      const msg = alert('success', title, text, { focus: true });
      await sessionPage({ id }, query, msg);
      msg.focus();
    } catch (err) {
      notify(slot, 'error', `${label} : échec`, err.message);
    }
  };
  const enrol = () => act('Inscription', () => request('POST', `/sessions/${id}/enrolment`, { headers: { 'idempotency-key': idempotencyKey() } }), ENROLLED_TEXT);
  const withdraw = async () => {
    const late = now > new Date(s.free_withdrawal_until);
    const body = h('div', {},
      h('p', {}, `Vous allez libérer votre place pour la session ${s.reference} (${sessionDates(s)}).`),
      late
        ? alert('warning', 'Désistement tardif', `Le délai de désistement sans pénalité a pris fin le ${formatDateTime(s.free_withdrawal_until)}. Ce désistement sera compté comme tardif et la place pourra vous être facturée.`)
        : h('p', {}, `Vous êtes dans le délai : ce désistement est sans pénalité (jusqu’au ${formatDateTime(s.free_withdrawal_until)}).`));
    if (await confirmDialog({ title: 'Confirmer le désistement', body, confirm: late ? 'Me désister malgré tout' : 'Confirmer le désistement', danger: true })) {
      await act('Désistement', () => request('DELETE', `/sessions/${id}/enrolment`), WITHDRAWN_TEXT);
    }
  };
  const leave = async () => {
    if (await confirmDialog({ title: 'Quitter la liste d’attente', body: `Vous perdrez votre position (${me.position ?? '?'}) sur la liste d’attente de cette session.`, confirm: 'Quitter la liste d’attente', danger: true })) {
      await act('Retrait de la liste d’attente', () => request('DELETE', `/sessions/${id}/enrolment`), WITHDRAWN_TEXT);
    }
  };
  const accept = () => act('Acceptation', () => request('POST', `/sessions/${id}/offer/accept`), {
    confirmed: () => ['Place acceptée', 'Vous êtes inscrit à cette session.'],
  });
  const decline = async () => {
    if (await confirmDialog({ title: 'Refuser la place proposée', body: 'La place sera proposée à la personne suivante sur la liste d’attente.', confirm: 'Refuser la place', danger: true })) {
      await act('Refus', () => request('POST', `/sessions/${id}/offer/decline`), { declined: () => WITHDRAWN_TEXT.declined_offer() });
    }
  };

  const actions = [];
  if (me?.status === 'confirmed' && now < new Date(s.starts_at)) actions.push(button('Me désister', withdraw, 'fr-btn--secondary'));
  if (me?.status === 'waitlisted') actions.push(button('Quitter la liste d’attente', leave, 'fr-btn--secondary'));
  if (me?.status === 'offered') actions.push(button('Accepter la place', accept), button('Refuser la place', decline, 'fr-btn--secondary'));
  if (!me && open && s.seats_left > 0) actions.push(button('M’inscrire', enrol));
  if (!me && open && s.seats_left === 0 && s.waiting_list_open) actions.push(button('Rejoindre la liste d’attente', enrol));
  const closedNote = !me && !open ? h('p', {}, s.status === 'cancelled' ? 'Cette session est annulée.' : 'Les inscriptions à cette session sont closes.')
    : !me && s.seats_left === 0 && !s.waiting_list_open ? h('p', {}, 'Cette session est complète et n’a pas de liste d’attente.') : null;

  render(s.training.title,
    h('p', { class: 'fr-text--lead' }, `Session ${s.reference}`),
    h('ul', { class: 'fr-tags-group' }, h('li', {}, tag(s.training.theme)), h('li', {}, tag(MODALITIES[s.training.modality] || s.training.modality))),
    badgeGroup(seatsBadge(s)),
    slot,
    h('div', { class: 'fr-grid-row fr-grid-row--gutters fr-mt-2w' },
      h('div', { class: 'fr-col-12 fr-col-md-7' }, h('h2', { class: 'fr-h4' }, 'En pratique'), facts(s)),
      h('div', { class: 'fr-col-12 fr-col-md-5' },
        h('div', { class: 'fr-callout' },
          h('h2', { class: 'fr-callout__title fr-h4' }, 'Ma situation'),
          h('p', { class: 'fr-callout__text', id: 'ma-situation' }, me ? standingText(me) : s.me ? standingText(s.me) : 'Vous n’êtes pas inscrit à cette session.'),
          closedNote,
          actions.length ? h('ul', { class: 'fr-btns-group fr-btns-group--inline-md fr-mt-2w' }, actions.map((a) => h('li', {}, a))) : null))),
    h('p', { class: 'fr-mt-4w' }, link('/officier/sessions', 'Retour aux sessions à venir')));
}

// --- My trainings.

function enrolmentTable(caption, list, empty, extra = []) {
  return table(caption, [
    ['Formation', (e) => link(`/officier/sessions/${e.session.id}`, e.session.training.title)],
    ['Dates', (e) => e.session.first_day === e.session.last_day ? formatShortDay(e.session.first_day) : `${formatShortDay(e.session.first_day)} – ${formatShortDay(e.session.last_day)}`],
    ['Lieu', (e) => e.session.place],
    ['Situation', (e) => [statusBadge(e.status), e.position ? ` position ${e.position}` : '', e.late ? ' (tardif)' : '']],
    ...extra,
  ], list, { empty });
}

const SCORES = [[5, '5 – Très satisfaisant'], [4, '4 – Satisfaisant'], [3, '3 – Moyen'], [2, '2 – Peu satisfaisant'], [1, '1 – Pas satisfaisant']];
const FEEDBACK_CONFLICTS = {
  'feedback-already-given': 'Vous avez déjà donné votre avis sur cette session : une seule réponse est possible.',
  'feedback-not-attended': 'Seuls les officiers marqués présents à la session peuvent donner leur avis.',
};

/** The feedback form of a session attended: a score, its relevance, a comment. */
function feedbackForm(e) {
  const s = e.session;
  const slot = h('div', {});
  const form = h('form', { novalidate: true },
    field('rating', 'Note globale de la session', { kind: 'select', required: true, placeholder: 'Choisir une note', options: SCORES }),
    field('relevance', 'Intérêt pour votre projet professionnel', { kind: 'select', required: true, placeholder: 'Choisir une note', options: SCORES }),
    field('comment', 'Commentaire', { kind: 'textarea', hint: 'Facultatif : ce qui vous a été utile, ce qui pourrait être amélioré' }),
    h('button', { type: 'submit', class: 'fr-btn fr-btn--sm' }, 'Envoyer mon avis'));
  const box = h('section', { class: 'fr-mb-4w', id: `avis-${s.id}`, 'aria-labelledby': `avis-${s.id}-titre` },
    h('h3', { class: 'fr-h6', id: `avis-${s.id}-titre` }, `${s.training.title} (${s.reference})`), slot, form);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const v = formValues(form);
    const fields = [];
    if (!v.rating) fields.push({ field: 'rating', detail: 'Choisissez une note de 1 à 5.' });
    if (!v.relevance) fields.push({ field: 'relevance', detail: 'Choisissez une note de 1 à 5.' });
    if (fields.length) {
      showErrors(form, slot, { fields });
      return;
    }
    try {
      await request('POST', `/me/enrolments/${encodeURIComponent(s.id)}/feedback`, {
        body: { rating: Number(v.rating), relevance: Number(v.relevance), comment: v.comment || undefined },
      });
      form.remove();
      notify(slot, 'success', 'Avis enregistré', 'Merci : votre avis est transmis à la MiRVOG.');
    } catch (err) {
      if (err instanceof ApiError && FEEDBACK_CONFLICTS[err.code]) notify(slot, 'error', 'Avis non enregistré', err.message || FEEDBACK_CONFLICTS[err.code]);
      else showErrors(form, slot, err);
    }
  });
  return box;
}

const PROGRESS = { done: ['Suivie', 'success'], enrolled: ['Inscrit', 'info'], waiting: ['En attente', 'new'], todo: ['À programmer', 'warning'] };

export async function myTrainingsPage() {
  render('Mes formations', loading());
  const [up, past, programme] = await Promise.all([
    get('/me/enrolments?when=upcoming'), get('/me/enrolments?when=past'), get('/me/programme')]);
  const calendarSlot = calendarSection();
  const asked = past.enrolments.filter((e) => e.feedback === 'requested');
  const done = programme.planned ? Math.round((programme.done / programme.planned) * 100) : 0;
  const { trainings } = await get('/trainings');
  const interestSlot = h('div', { id: 'message-interet' });
  const interested = (t) => async () => {
    try {
      const r = await request('POST', `/trainings/${encodeURIComponent(t.id)}/interest`, { raw: true });
      notify(interestSlot, 'success', 'Intérêt enregistré', r.status === 201
        ? `Votre intérêt pour « ${t.title} » est transmis à la MiRVOG, qui en tient compte pour planifier les prochaines sessions.`
        : `Votre intérêt pour « ${t.title} » était déjà enregistré.`);
    } catch (err) {
      notify(interestSlot, 'error', 'Intérêt non enregistré', err.message);
    }
  };
  render('Mes formations',
    h('h2', { class: 'fr-h4' }, 'À venir'),
    enrolmentTable('Mes sessions à venir', up.enrolments, 'Aucune session à venir.'),
    h('h2', { class: 'fr-h4 fr-mt-4w' }, 'Passées'),
    enrolmentTable('Mes sessions passées', past.enrolments, 'Aucune session passée.', [
      ['Mon avis', (e) => (e.feedback === 'given' ? 'Donné' : e.feedback === 'requested'
        ? h('a', { href: `#avis-${e.session.id}`, class: 'fr-link fr-link--sm' }, 'Donner mon avis', h('span', { class: 'fr-sr-only' }, ` sur ${e.session.training.title}`)) : '–')],
    ]),
    asked.length ? [h('h2', { class: 'fr-h4 fr-mt-4w' }, 'Donner mon avis'),
      h('p', {}, 'Vous avez suivi ces sessions : votre avis aide la MiRVOG à améliorer les formations. Une seule réponse par session.'),
      asked.map(feedbackForm)] : null,
    h('h2', { class: 'fr-h4 fr-mt-4w' }, 'Mon programme'),
    programme.planned
      ? [h('p', {}, `${programme.done} formation(s) suivie(s) sur ${programme.planned} prévue(s) ; ${programme.required_left} obligatoire(s) restante(s).`),
        h('div', { class: 'cassiopee-meter' }, h('progress', { max: 100, value: done, 'aria-label': 'Avancement du programme' }), ` ${done} %`),
        table('Mon programme', [
          ['Formation', (i) => i.training.title],
          ['Nature', (i) => (i.kind === 'required' ? 'Obligatoire' : 'Recommandée')],
          ['Avancement', (i) => h('p', { class: `fr-badge fr-badge--sm fr-badge--${PROGRESS[i.progress]?.[1] || 'info'}` }, PROGRESS[i.progress]?.[0] || i.progress)],
          ['Session', (i) => (i.session_id ? link(`/officier/sessions/${i.session_id}`, 'Voir la session') : '–')],
        ], programme.items)]
      : h('p', {}, 'Votre conseiller n’a pas encore établi votre programme.'),
    h('h2', { class: 'fr-h4 fr-mt-4w' }, 'Formations du catalogue'),
    h('p', {}, 'Signalez les formations qui vous intéressent : la MiRVOG en tient compte pour ouvrir des sessions.'),
    interestSlot,
    table('Formations du catalogue', [
      ['Formation', (t) => t.title], ['Thème', (t) => t.theme], ['Modalité', (t) => MODALITIES[t.modality] || t.modality],
      ['Action', (t) => button('Cette formation m’intéresse', interested(t), 'fr-btn--tertiary fr-btn--sm', { 'aria-label': `Cette formation m’intéresse : ${t.title}` })],
    ], trainings.filter((t) => !t.archived)),
    h('h2', { class: 'fr-h4 fr-mt-4w' }, 'Mon agenda'),
    h('p', {}, 'Abonnez votre agenda (Outlook, Thunderbird, téléphone…) à vos sessions : il se met à jour de lui-même. Le lien est personnel et secret ; révoquez-le si vous l’avez partagé par erreur.'),
    calendarSlot);
}

// --- Calendar link and notifications.

/** The "my calendar link" section: create, copy (shown once), replace or revoke the link. */
function calendarSection() {
  const box = h('div', { id: 'mon-agenda' });
  const message = h('div', { id: 'message-agenda' });
  const show = async (created) => {
    const link = await get('/me/calendar-link');
    const actions = [];
    if (link.exists) {
      actions.push(button('Remplacer le lien', create, 'fr-btn--secondary'),
        button('Révoquer le lien', revoke, 'fr-btn--tertiary'));
    } else {
      actions.push(button('Créer mon lien d’agenda', create, 'fr-btn--secondary'));
    }
    box.replaceChildren(message,
      h('p', { id: 'etat-agenda' }, link.exists
        ? `Un lien d’agenda est actif depuis le ${formatDateTime(link.created_at)}.`
        : 'Vous n’avez pas de lien d’agenda actif.'),
      created ? created : null,
      h('ul', { class: 'fr-btns-group fr-btns-group--inline-md' }, actions.map((b) => h('li', {}, b))));
  };
  const create = async () => {
    try {
      const r = await request('POST', '/me/calendar-link', { raw: true });
      const { url } = await r.json();
      const input = h('input', { class: 'fr-input', id: 'lien-agenda', type: 'text', readonly: true, value: url });
      const copy = async () => {
        try {
          await navigator.clipboard.writeText(url);
          notify(message, 'success', 'Lien copié', 'Collez-le dans votre agenda, rubrique « s’abonner à un calendrier ».');
        } catch {
          input.select();
          notify(message, 'info', 'Copie manuelle', 'Sélectionnez le lien puis copiez-le (Ctrl+C).');
        }
      };
      notify(message, 'success', 'Lien d’agenda créé', 'Copiez-le maintenant : il ne sera plus affiché. Tout lien précédent ne fonctionne plus.');
      await show(h('div', { class: 'fr-input-group' },
        h('label', { class: 'fr-label', for: 'lien-agenda' }, 'Mon lien d’agenda'),
        input, h('p', { class: 'fr-mt-1w' }, button('Copier le lien', copy, 'fr-btn--sm'))));
    } catch (err) {
      notify(message, 'error', 'Lien d’agenda non créé', err.message);
    }
  };
  const revoke = async () => {
    try {
      await request('DELETE', '/me/calendar-link', { raw: true });
      await show(null);
      notify(message, 'success', 'Lien révoqué', 'Votre agenda ne recevra plus vos sessions par ce lien.');
    } catch (err) {
      notify(message, 'error', 'Lien non révoqué', err.message);
    }
  };
  show(null).catch((err) => notify(message, 'error', 'Lien d’agenda indisponible', err.message));
  return box;
}

/** Puts the number of unread notifications in the header's menu entry. */
export async function refreshUnread(count) {
  const entry = document.querySelector('#menu a[href="/officier/notifications"]');
  if (!entry) return;
  let unread = count;
  if (unread === undefined) {
    try {
      ({ unread } = await get('/me/notifications'));
    } catch {
      return;
    }
  }
  entry.replaceChildren('Mes notifications', unread
    ? h('span', { class: 'fr-badge fr-badge--sm fr-badge--new fr-ml-1w', id: 'non-lues' }, `${unread}`, h('span', { class: 'fr-sr-only' }, ` non lue${unread > 1 ? 's' : ''}`))
    : '');
}

export async function notificationsPage() {
  render('Mes notifications', loading());
  const { notifications, unread } = await get('/me/notifications');
  const slot = h('div', { id: 'message-notifications' });
  let left = unread;
  const state = (n) => h('p', { class: `fr-badge fr-badge--sm fr-badge--${n.read ? 'info' : 'new'}`, 'data-etat': n.read ? 'lu' : 'non-lu' }, n.read ? 'Lu' : 'Non lu');
  const rows = new Map();
  // Opening a notification marks it read.
  const detail = (n) => {
    const d = h('details', { 'data-notification': n.id },
      h('summary', {}, n.title),
      h('p', { class: 'fr-text--sm fr-mb-0' }, n.session_reference ? `Session ${n.session_reference} – ` : '',
        n.session_reference ? link(`/officier/sessions/${n.session_id}`, 'Voir la session') : ''));
    d.addEventListener('toggle', async () => {
      if (!d.open || n.read) return;
      try {
        await request('POST', `/me/notifications/${n.id}/read`, { raw: true });
        n.read = true;
        left = Math.max(0, left - 1);
        rows.get(n.id)?.replaceChildren(state(n));
        refreshUnread(left);
      } catch (err) {
        notify(slot, 'error', 'Notification non marquée comme lue', err.message);
      }
    });
    return d;
  };
  const stateCell = (n) => {
    const cell = h('span', {}, state(n));
    rows.set(n.id, cell);
    return cell;
  };
  const readAll = async () => {
    try {
      await request('POST', '/me/notifications/read-all', { raw: true });
      for (const n of notifications) {
        n.read = true;
        rows.get(n.id)?.replaceChildren(state(n));
      }
      left = 0;
      refreshUnread(0);
      notify(slot, 'success', 'Notifications lues', 'Toutes vos notifications sont marquées comme lues.');
    } catch (err) {
      notify(slot, 'error', 'Notifications non marquées', err.message);
    }
  };
  render('Mes notifications',
    h('p', {}, 'Les courriels que Cassiopée vous a adressés, du plus récent au plus ancien. Ouvrez une notification pour la marquer comme lue.'),
    slot,
    notifications.length ? h('p', {}, button('Tout marquer comme lu', readAll, 'fr-btn--secondary fr-btn--sm', { id: 'tout-lu' })) : null,
    table('Mes notifications', [
      ['Date', (n) => formatDateTime(n.sent_at || n.queued_at)],
      ['Objet', detail],
      ['Envoi', (n) => n.delivery_label],
      ['État', stateCell],
    ], notifications, { empty: 'Aucune notification pour le moment.' }));
  refreshUnread(unread);
}

// --- My data: what Cassiopée holds, as a file, and erasure.

const ERASE_WORD = 'EFFACER';

export async function myDataPage() {
  const exportSlot = h('div', { id: 'message-export' });
  const slot = h('div', { id: 'message-effacement' });
  const save = () => get('/me/export')
    .then((data) => {
      download(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }), `mes-donnees-cassiopee-${parisDay(new Date())}.json`);
      notify(exportSlot, 'success', 'Vos données sont téléchargées', 'Le fichier (JSON) contient votre dossier, vos inscriptions et leur historique, votre programme, vos avis et vos notifications.');
    })
    .catch((err) => notify(exportSlot, 'error', 'Téléchargement impossible', err.message));
  const form = h('form', { novalidate: true },
    field('confirmation', `Pour confirmer, écrivez ${ERASE_WORD}`, { required: true, attrs: { autocomplete: 'off' } }),
    h('button', { type: 'submit', class: 'fr-btn fr-btn--secondary cassiopee-danger' }, 'Effacer mes données'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const { confirmation } = formValues(form);
    if (confirmation !== ERASE_WORD) {
      showErrors(form, slot, { fields: [{ field: 'confirmation', detail: `Écrivez ${ERASE_WORD} en majuscules pour confirmer.` }] });
      return;
    }
    const ok = await confirmDialog({
      title: 'Effacer définitivement vos données ?',
      body: 'Vos places dans les sessions à venir seront libérées, votre programme et vos notifications supprimés, et vous ne pourrez plus vous connecter. Vos inscriptions passées restent dans les statistiques de la MiRVOG, sans votre nom.',
      confirm: 'Effacer définitivement', danger: true,
    });
    if (!ok) return;
    try {
      await request('POST', '/me/erasure', { body: { confirmation } });
      signOut();
      render('Données effacées',
        alert('success', 'Vos données sont effacées', 'Merci d’avoir utilisé Cassiopée. Pour toute question, écrivez à votre conseiller MiRVOG.', { focus: true }),
        h('p', {}, link('/connexion', 'Retour à l’accueil')));
      document.querySelector('.fr-alert')?.focus();
    } catch (err) { showErrors(form, slot, err); }
  });
  render('Mes données',
    h('p', {}, 'Cassiopée conserve votre dossier (nom, grade, coordonnées, dates d’accompagnement), vos inscriptions et leur historique, votre programme, les formations qui vous intéressent, vos avis et les courriels qui vous ont été envoyés. Vos données sont effacées automatiquement après la fin de votre accompagnement, au terme de la durée de conservation.'),
    h('h2', { class: 'fr-h4 fr-mt-4w' }, 'Télécharger mes données'),
    button('Télécharger mes données (JSON)', save, 'fr-btn--secondary'),
    exportSlot,
    h('h2', { class: 'fr-h4 fr-mt-4w' }, 'Effacer mes données'),
    alert('warning', 'C’est définitif', 'Vos places dans les sessions à venir sont libérées et vous ne pourrez plus vous connecter.'),
    slot,
    form);
}
