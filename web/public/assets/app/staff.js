// The staff console: dashboard, planning, sessions and their rosters, trainings, officers and
// their programmes, imports, statistics, CSV exports.
import { get, request, serverNow, idempotencyKey, ApiError } from './api.js';
import {
  h, render, alert, notify, loading, link, button, badgeGroup, field, formValues,
  showErrors, clearErrors, confirmDialog, table, download, formatShortDay, formatDateTime,
  formatMonth, formatMoney, sessionDates, seatsBadge, statusBadge, MODALITIES,
  parisDay, auditTable,
} from './ui.js';
import { navigate } from './router.js';

const enc = encodeURIComponent;
const section = (title, ...content) => h('section', { class: 'fr-mt-4w' }, h('h2', { class: 'fr-h4' }, title), ...content);
const btnGroup = (...items) => h('ul', { class: 'fr-btns-group fr-btns-group--inline-md fr-btns-group--sm' }, items.filter(Boolean).map((b) => h('li', {}, b)));
/** Names the author of an audit line: a member of staff by name, an officer by name. */
async function authors(officerNames = new Map()) {
  const { staff } = await get('/admin/staff').catch(() => ({ staff: [] }));
  const names = new Map(staff.map((m) => [m.id, `${m.first_name} ${m.last_name}`]));
  return (l) => names.get(l.actor) || (l.origin === 'self' ? officerNames.get(l.actor) || 'l’officier' : null);
}
const dates = (s) => (s.first_day === s.last_day ? formatShortDay(s.first_day) : `${formatShortDay(s.first_day)} – ${formatShortDay(s.last_day)}`);

function fill(s) {
  const pct = s.fill_permille === null ? 0 : Math.min(100, Math.round(s.fill_permille / 10));
  return h('span', { class: 'cassiopee-meter' },
    h('progress', { max: 100, value: pct, 'aria-label': `Remplissage de ${s.reference}` }),
    ` ${s.seats_filled}/${s.capacity}`);
}

const TYPE_NAMES = { 'text/csv': 'CSV', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'Excel' };

/**
 * Downloads an export, asking the API for `type` (CSV unless told). Until a route answers that
 * type (404, 406, or JSON back), says so in French in `slot`.
 */
async function exportFile(path, filename, slot, type = 'text/csv') {
  const name = TYPE_NAMES[type] || type;
  try {
    const r = await request('GET', path, { accept: type, raw: true });
    if (!(r.headers.get('content-type') || '').includes(type)) throw new ApiError(406, {});
    const blob = await r.blob();
    download(blob, filename);
    notify(slot, 'success', 'Export téléchargé', `Le fichier ${filename} est enregistré dans vos téléchargements.`);
  } catch (err) {
    const missing = err instanceof ApiError && [404, 405, 406].includes(err.status);
    notify(slot, missing ? 'info' : 'error', missing ? `Export ${name} pas encore disponible` : 'Export impossible',
      missing ? `Le service ne propose pas encore cet export au format ${name}.` : err.message);
  }
}

const exportButton = (label, path, filename, slot, type) => button(label, () => exportFile(path, filename, slot, type), 'fr-btn--secondary fr-btn--sm', { 'data-export': filename });

// --- Dashboard.

async function dashboard() {
  render('Tableau de bord', loading());
  const now = await serverNow();
  const today = parisDay(now);
  const [{ sessions }, { trainings }, stats] = await Promise.all([
    get(`/admin/sessions?from=${today}`), get('/admin/trainings'), get('/admin/statistics?group=training').catch(() => ({ rows: [] }))]);
  const byTraining = new Map(trainings.map((t) => [t.id, t]));
  const upcoming = sessions.filter((s) => s.status === 'scheduled');
  const under = upcoming.filter((s) => s.seats_filled < (byTraining.get(s.training_id)?.min_group ?? 0));
  const lateRows = stats.rows.filter((r) => r.scope === 'training' && r.figures.late_withdrawals > 0)
    .sort((a, b) => b.figures.late_withdrawals - a.figures.late_withdrawals);
  const interest = trainings.filter((t) => t.interested > 0).sort((a, b) => b.interested - a.interested);
  const sessionLink = (s) => link(`/personnel/sessions/${s.id}`, `${s.reference} – ${s.training.title}`);
  render('Tableau de bord',
    h('ul', { class: 'fr-grid-row fr-grid-row--gutters cassiopee-plain-list cassiopee-kpis' },
      [[upcoming.length, 'sessions à venir'], [under.length, 'sous leur minimum'],
        [stats.total?.figures.late_withdrawals ?? lateRows.reduce((n, r) => n + r.figures.late_withdrawals, 0), 'désistements tardifs'],
        [interest.reduce((n, t) => n + t.interested, 0), 'marques d’intérêt']]
        .map(([n, label]) => h('li', { class: 'fr-col-6 fr-col-md-3' }, h('div', { class: 'fr-tile fr-tile--sm' },
          h('div', { class: 'fr-tile__body' }, h('p', { class: 'fr-tile__title' }, String(n)), h('p', { class: 'fr-tile__desc' }, label)))))),
    section('Prochaines sessions', table('Prochaines sessions et leur remplissage', [
      ['Session', sessionLink], ['Dates', dates], ['Remplissage', fill], ['Places', (s) => badgeGroup(seatsBadge(s))],
    ], upcoming.slice(0, 8), { empty: 'Aucune session à venir.' })),
    section('Sessions sous leur minimum', table('Sessions dont les inscrits sont moins nombreux que le minimum de la formation', [
      ['Session', sessionLink], ['Dates', dates], ['Inscrits', (s) => String(s.seats_filled)],
      ['Minimum', (s) => String(byTraining.get(s.training_id)?.min_group ?? '–')],
    ], under, { empty: 'Toutes les sessions à venir atteignent leur minimum.' })),
    section('Désistements tardifs', table('Désistements tardifs par formation', [
      ['Formation', (r) => `${r.key} – ${r.label}`], ['Désistements tardifs', (r) => String(r.figures.late_withdrawals)],
      ['Dans les délais', (r) => String(r.figures.on_time_withdrawals)],
    ], lateRows, { empty: 'Aucun désistement tardif.' })),
    section('Intérêt par formation', table('Officiers intéressés par formation', [
      ['Formation', (t) => link(`/personnel/formations/${t.id}`, `${t.code} – ${t.title}`)], ['Officiers intéressés', (t) => String(t.interested)],
    ], interest, { empty: 'Aucune marque d’intérêt enregistrée.' })));
}

// --- Planning: a month grid and a list.

function monthGrid(ym, sessions) {
  const [y, m] = ym.split('-').map(Number);
  const first = new Date(Date.UTC(y, m - 1, 1));
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const lead = (first.getUTCDay() + 6) % 7; // Monday first
  const cells = [];
  for (let i = 0; i < lead; i++) cells.push(h('td', { class: 'cassiopee-month__empty' }));
  for (let d = 1; d <= days; d++) {
    const day = `${ym}-${String(d).padStart(2, '0')}`;
    const here = sessions.filter((s) => s.first_day <= day && day <= s.last_day);
    cells.push(h('td', {},
      h('p', { class: 'cassiopee-month__day' }, String(d)),
      here.length ? h('ul', { class: 'cassiopee-plain-list' }, here.map((s) => h('li', {},
        link(`/personnel/sessions/${s.id}`, s.reference, { class: `fr-link fr-link--sm${s.status === 'cancelled' ? ' cassiopee-cancelled' : ''}`, title: `${s.training.title}${s.status === 'cancelled' ? ' (annulée)' : ''}` })))) : null));
  }
  while (cells.length % 7) cells.push(h('td', { class: 'cassiopee-month__empty' }));
  const rows = [];
  for (let i = 0; i < cells.length; i += 7) rows.push(h('tr', {}, cells.slice(i, i + 7)));
  return h('div', { class: 'cassiopee-month' }, h('table', {},
    h('caption', { class: 'fr-sr-only' }, `Sessions de ${formatMonth(ym)}`),
    h('thead', {}, h('tr', {}, ['lun.', 'mar.', 'mer.', 'jeu.', 'ven.', 'sam.', 'dim.'].map((d) => h('th', { scope: 'col' }, d)))),
    h('tbody', {}, rows)));
}

function shiftMonth(ym, by) {
  const [y, m] = ym.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1 + by, 1)).toISOString().slice(0, 7);
}

async function planning(_, query) {
  render('Planning', loading());
  const ym = /^\d{4}-\d{2}$/.test(query.get('mois') || '') ? query.get('mois') : parisDay(await serverNow()).slice(0, 7);
  const view = query.get('vue') === 'liste' ? 'liste' : 'mois';
  const last = new Date(Date.UTC(...ym.split('-').map(Number), 0)).toISOString().slice(0, 10);
  const { sessions } = await get(`/admin/sessions?from=${ym}-01&to=${last}`);
  const url = (m, v) => `/personnel/planning?mois=${m}&vue=${v}`;
  const slot = h('div', {});
  render(`Planning – ${formatMonth(ym)}`,
    h('div', { class: 'cassiopee-toolbar' },
      btnGroup(link(url(shiftMonth(ym, -1), view), 'Mois précédent', { class: 'fr-btn fr-btn--secondary fr-btn--sm' }),
        link(url(shiftMonth(ym, 1), view), 'Mois suivant', { class: 'fr-btn fr-btn--secondary fr-btn--sm' }),
        link(url(ym, view === 'mois' ? 'liste' : 'mois'), view === 'mois' ? 'Afficher la liste' : 'Afficher le mois', { class: 'fr-btn fr-btn--tertiary fr-btn--sm' }),
        link('/personnel/sessions/nouvelle', 'Planifier une session', { class: 'fr-btn fr-btn--sm' }),
        exportButton('Exporter le planning (CSV)', `/admin/sessions?from=${ym}-01&to=${last}`, `planning-${ym}.csv`, slot))),
    slot,
    view === 'mois' ? monthGrid(ym, sessions) : null,
    view === 'liste' || sessions.length ? section(view === 'liste' ? 'Sessions du mois' : 'Liste des sessions du mois', table(`Sessions de ${formatMonth(ym)}`, [
      ['Session', (s) => link(`/personnel/sessions/${s.id}`, s.reference)], ['Formation', (s) => s.training.title],
      ['Dates', dates], ['Lieu', (s) => s.place], ['Remplissage', fill], ['État', (s) => badgeGroup(seatsBadge(s))],
    ], sessions, { empty: 'Aucune session ce mois-ci.' })) : null);
}

// --- Session form (create and edit).

const WAITLIST = [['direct', 'Inscription directe depuis la liste d’attente'], ['offer', 'Place proposée, à accepter dans un délai'], ['off', 'Pas de liste d’attente']];

async function sessionForm({ id }) {
  const editing = Boolean(id);
  render(editing ? 'Modifier la session' : 'Planifier une session', loading());
  const [{ trainings }, current] = await Promise.all([get('/admin/trainings'),
    editing ? get(`/admin/sessions/${enc(id)}`) : Promise.resolve(null)]);
  const deadline = (iso) => (iso ? iso.slice(0, 16) : '');
  const slot = h('div', {});
  const form = h('form', { novalidate: true },
    editing ? h('p', {}, `Formation : ${current.training.code} – ${current.training.title} (session ${current.reference})`)
      : [field('training_id', 'Formation', { kind: 'select', required: true, placeholder: 'Choisir une formation', options: trainings.filter((t) => !t.archived).map((t) => [t.id, `${t.code} – ${t.title}`]) }),
        field('reference', 'Référence', { hint: 'Facultative : elle est sinon attribuée automatiquement.' })],
    h('div', { class: 'fr-grid-row fr-grid-row--gutters' },
      h('div', { class: 'fr-col-12 fr-col-md-6' }, field('first_day', 'Premier jour', { kind: 'date', required: true, value: current?.first_day })),
      h('div', { class: 'fr-col-12 fr-col-md-6' }, field('last_day', 'Dernier jour', { kind: 'date', required: true, value: current?.last_day }))),
    field('daily_hours', 'Horaires de chaque jour', { required: true, hint: 'Heure de Paris, par exemple 09:00-17:30', value: current?.daily_hours }),
    field('place', 'Lieu', { required: true, value: current?.place }),
    field('capacity', 'Nombre de places', { kind: 'number', required: true, value: current?.capacity, attrs: { min: 0, inputmode: 'numeric' } }),
    field('trainer', 'Formateur', { value: current?.trainer }),
    h('div', { class: 'fr-grid-row fr-grid-row--gutters' },
      h('div', { class: 'fr-col-12 fr-col-md-6' }, field('enrolment_closes_at', 'Clôture des inscriptions', { kind: 'datetime-local', required: true, hint: 'Heure de Paris', value: deadline(current?.enrolment_closes_at) })),
      h('div', { class: 'fr-col-12 fr-col-md-6' }, field('free_withdrawal_until', 'Désistement sans pénalité jusqu’au', { kind: 'datetime-local', required: true, hint: 'Heure de Paris', value: deadline(current?.free_withdrawal_until) }))),
    field('waitlist_mode', 'Liste d’attente', { kind: 'select', options: WAITLIST, value: current?.waitlist.mode || 'direct' }),
    field('offer_hours', 'Délai de réponse à une proposition (heures)', { kind: 'number', hint: 'Seulement pour une place proposée', value: current?.waitlist.hours, attrs: { min: 1, inputmode: 'numeric' } }),
    h('ul', { class: 'fr-btns-group fr-btns-group--inline-md' },
      h('li', {}, h('button', { type: 'submit', class: 'fr-btn' }, editing ? 'Enregistrer les modifications' : 'Planifier la session')),
      h('li', {}, link(editing ? `/personnel/sessions/${id}` : '/personnel/planning', 'Annuler', { class: 'fr-btn fr-btn--secondary' }))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const v = formValues(form);
    const body = {
      first_day: v.first_day, last_day: v.last_day, daily_hours: v.daily_hours, place: v.place,
      capacity: v.capacity === '' ? undefined : Number(v.capacity),
      enrolment_closes_at: v.enrolment_closes_at, free_withdrawal_until: v.free_withdrawal_until,
      trainer: v.trainer || null, waitlist_mode: v.waitlist_mode,
    };
    if (v.waitlist_mode === 'offer') body.offer_hours = v.offer_hours === '' ? undefined : Number(v.offer_hours);
    const missing = ['first_day', 'last_day', 'daily_hours', 'place', 'capacity', 'enrolment_closes_at', 'free_withdrawal_until']
      .filter((k) => body[k] === undefined || body[k] === '');
    if (!editing && !v.training_id) missing.unshift('training_id');
    if (missing.length) {
      showErrors(form, slot, { fields: missing.map((f) => ({ field: f, detail: 'Ce champ est obligatoire.' })) });
      return;
    }
    try {
      let saved;
      if (editing) {
        saved = await request('PATCH', `/admin/sessions/${enc(id)}`, { body });
      } else {
        body.training_id = v.training_id;
        if (v.reference) body.reference = v.reference;
        saved = await request('POST', '/admin/sessions', { body });
      }
      // Officers now seated in two sessions at once: shown once on the session's page.
      if (editing && saved.clashes && saved.clashes.length) {
        sessionStorage.setItem(`clashes:${id}`, JSON.stringify(saved.clashes));
      }
      await navigate(`/personnel/sessions/${saved.id || id}?${editing ? 'modifiee' : 'creee'}=1`);
    } catch (err) {
      showErrors(form, slot, err);
    }
  });
  render(editing ? `Modifier la session ${current.reference}` : 'Planifier une session', slot, form);
}

// --- A session: facts, roster, attendance, waiting list, feedback, exports.

/** "4,33 / 5" from the API's hundredths; a dash without any answer. */
const outOfFive = (hundredths) => (hundredths === null || hundredths === undefined ? '–'
  : `${(hundredths / 100).toLocaleString('fr-FR', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} / 5`);

function feedbackSection(f) {
  return section(`Avis des participants (${f.answers})`,
    h('p', {}, f.answers
      ? `${f.answers} avis sur ${f.attended} présent(s). Note moyenne : ${outOfFive(f.rating_mean_hundredths)} ; intérêt pour le projet professionnel : ${outOfFive(f.relevance_mean_hundredths)}.`
      : `Aucun avis pour l’instant (${f.attended} présent(s) peuvent en donner un).`),
    f.answers ? table('Répartition des notes', [
      ['Question', (r) => r[0]], ...[1, 2, 3, 4, 5].map((n) => [`${n} / 5`, (r) => String(r[1][n - 1])]),
    ], [['Note globale', f.rating_counts], ['Intérêt pour le projet', f.relevance_counts]]) : null,
    f.answers ? table('Avis et commentaires des participants', [
      ['Officier', (l) => l.officer_name || '–'], ['Note', (l) => `${l.rating} / 5`], ['Intérêt', (l) => `${l.relevance} / 5`],
      ['Commentaire', (l) => l.comment || '–'], ['Donné le', (l) => formatDateTime(l.at)],
    ], f.lines) : null);
}

const ATTENDANCE = [['attended', 'Présent'], ['absent', 'Absent'], ['excused', 'Excusé']];

async function sessionPage({ id }, query, flash) {
  render('Session', loading());
  const [{ session: s, roster }, detail, { officers }, now, feedback, sent] = await Promise.all([
    get(`/admin/sessions/${enc(id)}/roster`), get(`/admin/sessions/${enc(id)}`), get('/admin/officers'), serverNow(),
    get(`/admin/sessions/${enc(id)}/feedback`).catch(() => null),
    get(`/admin/sessions/${enc(id)}/notifications`).catch(() => ({ notifications: [] }))]);
  const officerNames = new Map(officers.map((o) => [o.id, `${o.grade} ${o.first_name} ${o.last_name}`]));
  const [{ audit }, who] = await Promise.all([
    get(`/admin/sessions/${enc(id)}/audit`).catch(() => ({ audit: [] })), authors(officerNames)]);
  const slot = h('div', { id: 'message-action' });
  if (flash) slot.append(flash);
  else if (query.get('creee')) slot.append(alert('success', 'Session planifiée', `La session ${s.reference} est créée.`));
  else if (query.get('modifiee')) slot.append(alert('success', 'Session modifiée', 'Les personnes inscrites sont prévenues par courriel si les dates, horaires ou lieu ont changé.'));
  const clashes = JSON.parse(sessionStorage.getItem(`clashes:${s.id}`) || '[]');
  sessionStorage.removeItem(`clashes:${s.id}`);
  if (clashes.length) {
    slot.append(alert('warning', 'Conflits de dates',
      `${clashes.length === 1 ? 'Une personne inscrite est' : `${clashes.length} personnes inscrites sont`} aussi inscrite(s) à une autre session aux mêmes dates : `
      + clashes.map((c) => `${c.officer_name} (${c.other_reference} – ${c.other_title}, ${formatDateTime(c.other_starts_at)})`).join(' ; ')
      + '. Le courriel de modification le leur signale.'));
  }
  const reload = async (title, text) => {
    const msg = alert('success', title, text, { focus: true });
    await sessionPage({ id }, new URLSearchParams(), msg);
    msg.focus();
  };
  const fail = (label) => (err) => notify(slot, 'error', label, err.message);
  // An erased officer's kept seat shows without a name (their stand-in's address is reserved).
  const erased = (l) => l.officer.email.endsWith('@erased.invalid');
  const name = (l) => (erased(l) ? 'Données effacées' : `${l.officer.grade} ${l.officer.first_name} ${l.officer.last_name}`);
  const officerLink = (l) => (erased(l) ? name(l) : link(`/personnel/officiers/${l.officer.id}`, name(l)));
  const started = now >= new Date(s.starts_at);

  const seated = roster.filter((l) => ['confirmed', 'offered', 'attended', 'absent', 'excused'].includes(l.status));
  const waiting = roster.filter((l) => l.status === 'waitlisted').sort((a, b) => a.position - b.position);
  const others = roster.filter((l) => !seated.includes(l) && !waiting.includes(l));

  const markAttendance = (l) => {
    if (!started) return 'Après le début';
    if (!['confirmed', 'attended', 'absent', 'excused'].includes(l.status)) return '–';
    const id2 = `presence-${l.officer.id}`;
    const select = h('select', { class: 'fr-select', id: id2, name: 'status' },
      h('option', { value: '', disabled: true, selected: l.status === 'confirmed' || null }, 'À marquer'),
      ATTENDANCE.map(([v, label]) => h('option', { value: v, selected: l.status === v || null }, label)));
    select.addEventListener('change', () => request('PUT', `/admin/sessions/${enc(id)}/attendance/${enc(l.officer.id)}`, { body: { status: select.value } })
      .then(() => reload('Présence enregistrée', `${name(l)} : ${ATTENDANCE.find(([v]) => v === select.value)[1].toLowerCase()}.`))
      .catch(fail('Présence non enregistrée')));
    return h('div', { class: 'fr-select-group fr-mb-0' }, h('label', { class: 'fr-label fr-sr-only', for: id2 }, `Présence de ${name(l)}`), select);
  };
  const withdraw = (l) => button('Désinscrire', async () => {
    const late = now > new Date(s.free_withdrawal_until);
    if (await confirmDialog({ title: `Désinscrire ${name(l)}`, body: late ? `Le délai sans pénalité a pris fin le ${formatDateTime(s.free_withdrawal_until)} : ce désistement sera compté comme tardif.` : 'Ce désistement est dans le délai sans pénalité. L’officier en est prévenu par courriel.', confirm: 'Désinscrire', danger: true })) {
      request('DELETE', `/admin/sessions/${enc(id)}/enrolments/${enc(l.officer.id)}`)
        .then((o) => reload('Désinscription enregistrée', `${name(l)} n’est plus inscrit${o.late ? ' (désistement tardif)' : ''}.`)).catch(fail('Désinscription impossible'));
    }
  }, 'fr-btn--tertiary fr-btn--sm', { 'aria-label': `Désinscrire ${name(l)}` });

  const reasonId = 'motif-attente';
  const move = (l, to) => () => {
    const reason = document.getElementById(reasonId).value.trim();
    if (!reason) {
      showErrors(waitForm, slot, { fields: [{ field: 'reason', detail: 'Indiquez le motif du changement d’ordre.' }] });
      return;
    }
    request('POST', `/admin/sessions/${enc(id)}/waitlist/${enc(l.officer.id)}/move`, { body: { position: to, reason } })
      .then((r) => reload('Liste d’attente réordonnée', `${name(l)} est en position ${r.position}.`)).catch(fail('Déplacement impossible'));
  };
  const waitForm = h('form', { novalidate: true, onsubmit: (e) => e.preventDefault() },
    field('reason', 'Motif du changement d’ordre', { id: reasonId, hint: 'Conservé dans l’historique de l’inscription' }));

  const enrolForm = h('form', { novalidate: true, class: 'cassiopee-inline-form' },
    field('officer_id', 'Officier', { kind: 'select', placeholder: 'Choisir un officier', options: officers.map((o) => [o.id, `${o.last_name.toUpperCase()} ${o.first_name} – ${o.grade}`]) }),
    h('button', { type: 'submit', class: 'fr-btn fr-btn--sm' }, 'Inscrire'));
  enrolForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const { officer_id: officerId } = formValues(enrolForm);
    if (!officerId) {
      showErrors(enrolForm, slot, { fields: [{ field: 'officer_id', detail: 'Choisissez un officier.' }] });
      return;
    }
    request('POST', `/admin/sessions/${enc(id)}/enrolments`, { body: { officer_id: officerId }, headers: { 'idempotency-key': idempotencyKey() } })
      .then((o) => reload('Inscription enregistrée', o.status === 'confirmed' ? 'L’officier est inscrit.' : `La session est complète : l’officier est en position ${o.position} sur la liste d’attente.`))
      .catch((err) => showErrors(enrolForm, slot, err));
  });
  const cancel = async () => {
    if (await confirmDialog({ title: `Annuler la session ${s.reference}`, body: `Les ${seated.length + waiting.length} personne(s) inscrites ou en attente seront prévenues par courriel. Cette action est définitive.`, confirm: 'Annuler la session', cancel: 'Garder la session', danger: true })) {
      request('POST', `/admin/sessions/${enc(id)}/cancel`).then(() => reload('Session annulée', 'Les personnes concernées sont prévenues par courriel.')).catch(fail('Annulation impossible'));
    }
  };
  const exportSlot = h('div', {});
  render(`${s.reference} – ${detail.training.title}`,
    badgeGroup(seatsBadge(detail), s.status === 'completed' ? h('p', { class: 'fr-badge fr-badge--sm' }, 'Terminée') : null),
    slot,
    h('p', { class: 'fr-mt-2w' }, sessionDates(detail), h('br'), detail.place, detail.trainer ? ` – ${detail.trainer}` : ''),
    h('p', {}, `Clôture des inscriptions : ${formatDateTime(s.enrolment_closes_at)}. Désistement sans pénalité jusqu’au ${formatDateTime(s.free_withdrawal_until)}.`),
    s.status === 'scheduled' ? btnGroup(link(`/personnel/sessions/${id}/modifier`, 'Modifier la session', { class: 'fr-btn fr-btn--secondary fr-btn--sm' }),
      button('Annuler la session', cancel, 'fr-btn--tertiary fr-btn--sm')) : null,
    section(`Participants (${seated.length}/${s.capacity})`,
      btnGroup(exportButton('Exporter la liste (CSV)', `/admin/sessions/${enc(id)}/roster`, `liste-${s.reference}.csv`, exportSlot)),
      exportSlot,
      table('Participants et présence', [
        ['Officier', officerLink],
        ['Situation', (l) => [statusBadge(l.status), l.late ? ' tardif' : '']],
        ['Présence', markAttendance],
        ['Action', (l) => (l.status === 'confirmed' && !started ? withdraw(l) : '–')],
      ], seated, { empty: 'Personne n’est inscrit.' })),
    s.status === 'scheduled' && !started ? section('Inscrire un officier', enrolForm) : null,
    started && feedback ? feedbackSection(feedback) : null,
    section(`Liste d’attente (${waiting.length})`,
      waiting.length > 1 ? waitForm : null,
      table('Liste d’attente, dans l’ordre', [
        ['Position', (l) => String(l.position)],
        ['Officier', officerLink],
        ['Inscrit le', (l) => formatDateTime(l.joined_at)],
        ['Ordre', (l) => btnGroup(
          l.position > 1 ? button('Monter', move(l, l.position - 1), 'fr-btn--tertiary fr-btn--sm', { 'aria-label': `Monter ${name(l)} en position ${l.position - 1}` }) : null,
          l.position < waiting.length ? button('Descendre', move(l, l.position + 1), 'fr-btn--tertiary fr-btn--sm', { 'aria-label': `Descendre ${name(l)} en position ${l.position + 1}` }) : null)],
      ], waiting, { empty: 'Personne n’attend.' })),
    others.length ? section('Historique', table('Désistements et refus', [
      ['Officier', name], ['Situation', (l) => [statusBadge(l.status), l.late ? ' tardif' : '']], ['Le', (l) => formatDateTime(l.updated_at)],
    ], others)) : null,
    section(`Notifications envoyées (${sent.notifications.length})`,
      noticesTable('Notifications de la session', sent.notifications, [
        ['Destinataire', (n) => link(`/personnel/officiers/${n.officer_id}`, officerNames.get(n.officer_id) || 'Officier')]])),
    section(`Journal des modifications (${audit.length})`,
      auditTable('Journal des modifications de la session', audit, who, [
        ['Officier', (l) => (l.officer_id ? (officerNames.has(l.officer_id)
          ? link(`/personnel/officiers/${l.officer_id}`, officerNames.get(l.officer_id)) : 'Données effacées') : '–')]])),
    h('p', { class: 'fr-mt-4w' }, link(`/personnel/planning?mois=${s.first_day.slice(0, 7)}`, 'Retour au planning')));
}

// --- Trainings.

async function trainingsPage() {
  render('Formations', loading());
  const { trainings } = await get('/admin/trainings?archived=true');
  render('Formations',
    btnGroup(link('/personnel/formations/nouvelle', 'Créer une formation', { class: 'fr-btn fr-btn--sm' })),
    table('Catalogue des formations', [
      ['Code', (t) => link(`/personnel/formations/${t.id}`, t.code)], ['Intitulé', (t) => t.title], ['Thème', (t) => t.theme],
      ['Modalité', (t) => MODALITIES[t.modality] || t.modality], ['Coût d’une session', (t) => formatMoney(t.session_cost)],
      ['Intéressés', (t) => String(t.interested)], ['État', (t) => (t.archived ? 'Archivée' : 'Active')],
    ], trainings));
}

async function trainingForm({ id }) {
  const editing = Boolean(id);
  render(editing ? 'Modifier la formation' : 'Créer une formation', loading());
  const t = editing ? await get(`/admin/trainings/${enc(id)}`) : null;
  const slot = h('div', {});
  const money = (v) => (v ? Number(v).toFixed(2).replace('.', ',') : '');
  const form = h('form', { novalidate: true },
    field('code', 'Code', { required: true, value: t?.code, hint: 'Par exemple COM-03' }),
    field('title', 'Intitulé', { required: true, value: t?.title }),
    field('theme', 'Thème', { required: true, value: t?.theme }),
    field('modality', 'Modalité', { kind: 'select', options: Object.entries(MODALITIES), value: t?.modality }),
    field('length_days', 'Durée (jours)', { kind: 'number', required: true, value: t?.length_days, attrs: { min: 1 } }),
    field('provider', 'Organisme', { value: t?.provider }),
    field('session_cost', 'Coût d’une session (€)', { required: true, value: money(t?.session_cost), hint: 'Par exemple 4 800,00' }),
    field('trainee_cost', 'Coût par stagiaire (€)', { required: true, value: money(t?.trainee_cost) }),
    field('min_group', 'Effectif minimum', { kind: 'number', required: true, value: t?.min_group, attrs: { min: 0 } }),
    field('max_group', 'Effectif maximum', { kind: 'number', required: true, value: t?.max_group, attrs: { min: 1 } }),
    h('ul', { class: 'fr-btns-group fr-btns-group--inline-md' },
      h('li', {}, h('button', { type: 'submit', class: 'fr-btn' }, editing ? 'Enregistrer' : 'Créer la formation')),
      editing && !t.archived ? h('li', {}, button('Archiver la formation', async () => {
        if (await confirmDialog({ title: `Archiver ${t.code}`, body: 'Elle ne sera plus proposée pour de nouvelles sessions.', confirm: 'Archiver', danger: true })) {
          request('POST', `/admin/trainings/${enc(id)}/archive`).then(() => navigate('/personnel/formations')).catch((err) => notify(slot, 'error', 'Archivage impossible', err.message));
        }
      }, 'fr-btn--tertiary')) : null,
      h('li', {}, link('/personnel/formations', 'Annuler', { class: 'fr-btn fr-btn--secondary' }))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = formValues(form);
    const body = { ...v, length_days: Number(v.length_days), min_group: Number(v.min_group), max_group: Number(v.max_group) };
    try {
      await request(editing ? 'PUT' : 'POST', editing ? `/admin/trainings/${enc(id)}` : '/admin/trainings', { body });
      await navigate('/personnel/formations');
    } catch (err) {
      showErrors(form, slot, err);
    }
  });
  render(editing ? `Modifier ${t.code}` : 'Créer une formation', slot, form);
}

// --- Officers and programmes.

async function officersPage(_, query) {
  render('Officiers', loading());
  const { officers } = await get('/admin/officers');
  const q = (query.get('q') || '').toLowerCase();
  const shown = officers.filter((o) => !q || `${o.last_name} ${o.first_name} ${o.branch}`.toLowerCase().includes(q));
  const form = h('form', { role: 'search', class: 'cassiopee-inline-form fr-mb-3w' },
    field('q', 'Rechercher un officier', { kind: 'search', value: query.get('q'), hint: 'Nom, prénom ou armée' }),
    h('button', { type: 'submit', class: 'fr-btn fr-btn--sm' }, 'Rechercher'));
  form.addEventListener('submit', (e) => { e.preventDefault(); navigate(`/personnel/officiers?q=${enc(formValues(form).q)}`); });
  render('Officiers', form, h('p', { role: 'status' }, `${shown.length} officier(s)`),
    table('Officiers accompagnés', [
      ['Nom', (o) => link(`/personnel/officiers/${o.id}`, `${o.last_name.toUpperCase()} ${o.first_name}`)], ['Grade', (o) => o.grade],
      ['Armée ou service', (o) => o.branch], ['Accompagnement', (o) => `${formatShortDay(o.accompaniment_start)} – ${formatShortDay(o.accompaniment_end)}`],
    ], shown));
}

async function officerPage({ id }) {
  render('Officier', loading());
  const [{ officer: o, programme, enrolments }, { trainings }, sent, { audit }] = await Promise.all([get(`/admin/officers/${enc(id)}`), get('/admin/trainings'),
    get(`/admin/officers/${enc(id)}/notifications`).catch(() => ({ notifications: [] })),
    get(`/admin/officers/${enc(id)}/audit`).catch(() => ({ audit: [] }))]);
  const who = await authors(new Map([[o.id, `${o.first_name} ${o.last_name}`]]));
  const slot = h('div', {});
  const again = (title, text) => officerPage({ id }).then(() => notify(document.getElementById('message-officier'), 'success', title, text));
  const planForm = h('form', { novalidate: true, class: 'cassiopee-inline-form' },
    field('training_id', 'Formation', { kind: 'select', placeholder: 'Choisir une formation', options: trainings.map((t) => [t.id, `${t.code} – ${t.title}`]) }),
    field('kind', 'Nature', { kind: 'select', options: [['required', 'Obligatoire'], ['recommended', 'Recommandée']] }),
    h('button', { type: 'submit', class: 'fr-btn fr-btn--sm' }, 'Ajouter au programme'));
  planForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = formValues(planForm);
    if (!v.training_id) { showErrors(planForm, slot, { fields: [{ field: 'training_id', detail: 'Choisissez une formation.' }] }); return; }
    request('PUT', `/admin/officers/${enc(id)}/programme/${enc(v.training_id)}`, { body: { kind: v.kind } })
      .then(() => again('Programme mis à jour', 'La formation est au programme.')).catch((err) => showErrors(planForm, slot, err));
  });
  slot.id = 'message-officier';
  render(`${o.grade} ${o.first_name} ${o.last_name}`,
    h('p', {}, `${o.branch}. Accompagnement du ${formatShortDay(o.accompaniment_start)} au ${formatShortDay(o.accompaniment_end)}.`),
    h('p', {}, link(`mailto:${o.email}`, o.email)),
    slot,
    section(`Programme (${programme.done}/${programme.planned} suivies)`,
      table('Programme de l’officier', [
        ['Formation', (i) => `${i.training.code} – ${i.training.title}`], ['Nature', (i) => (i.kind === 'required' ? 'Obligatoire' : 'Recommandée')],
        ['Avancement', (i) => ({ done: 'Suivie', enrolled: 'Inscrit', waiting: 'En attente', todo: 'À programmer' }[i.progress] || i.progress)],
        ['Action', (i) => button('Retirer', () => request('DELETE', `/admin/officers/${enc(id)}/programme/${enc(i.training.id)}`)
          .then(() => again('Programme mis à jour', 'La formation est retirée du programme.')).catch((err) => notify(slot, 'error', 'Retrait impossible', err.message)),
        'fr-btn--tertiary fr-btn--sm', { 'aria-label': `Retirer ${i.training.code} du programme` })],
      ], programme.items, { empty: 'Aucune formation au programme.' }),
      planForm),
    section('Inscriptions', table('Inscriptions de l’officier', [
      ['Session', (e) => link(`/personnel/sessions/${e.session.id}`, `${e.session.reference} – ${e.session.training.title}`)],
      ['Dates', (e) => dates(e.session)], ['Situation', (e) => [statusBadge(e.status), e.late ? ' tardif' : '']],
    ], enrolments, { empty: 'Aucune inscription.' })),
    section(`Notifications envoyées (${sent.notifications.length})`,
      noticesTable('Notifications de l’officier', sent.notifications, [
        ['Session', (n) => (n.session_reference ? link(`/personnel/sessions/${n.session_id}`, n.session_reference) : '–')]])),
    section(`Journal des modifications (${audit.length})`,
      auditTable('Journal des modifications de l’officier', audit, who, [
        ['Session', (l) => (l.session_id ? link(`/personnel/sessions/${l.session_id}`, 'Voir la session') : '–')]])),
    personalData(o, slot));
}

/** The officer's personal data: an export for a request received by letter, and erasure. */
function personalData(o, slot) {
  const name = `${o.grade} ${o.first_name} ${o.last_name}`;
  const exportSlot = h('div', {});
  const save = () => get(`/admin/officers/${enc(o.id)}/export`)
    .then((data) => {
      download(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }), `donnees-${o.last_name.toLowerCase()}-${parisDay(new Date())}.json`);
      notify(exportSlot, 'success', 'Export téléchargé', 'Le fichier contient tout ce que Cassiopée conserve sur l’officier ; l’export est inscrit au journal.');
    })
    .catch((err) => notify(exportSlot, 'error', 'Export impossible', err.message));
  const form = h('form', { novalidate: true },
    field('reason', 'Motif de l’effacement (demande reçue, fin de la durée de conservation…)', { kind: 'textarea', required: true }),
    h('button', { type: 'submit', class: 'fr-btn fr-btn--secondary cassiopee-danger' }, 'Effacer les données de l’officier'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const { reason } = formValues(form);
    if (!reason || !reason.trim()) { showErrors(form, slot, { fields: [{ field: 'reason', detail: 'Indiquez le motif de l’effacement.' }] }); return; }
    const ok = await confirmDialog({
      title: `Effacer les données de ${name} ?`,
      body: 'Ses places dans les sessions à venir sont libérées et proposées aux suivants. Son dossier, son programme, ses notifications et ses commentaires sont supprimés ; ses inscriptions passées restent dans les statistiques sans son nom. C’est définitif.',
      confirm: 'Effacer définitivement', danger: true,
    });
    if (!ok) return;
    try {
      const r = await request('POST', `/admin/officers/${enc(o.id)}/erasure`, { body: { reason } });
      const done = alert('success', 'Données effacées',
        `${r.seats_released} place(s) libérée(s) ; ${r.enrolments_kept} inscription(s) conservée(s) sans nom pour les statistiques. Journal : `, { focus: true });
      done.querySelector('p:last-child')?.append(link(`/personnel/officiers/${r.pseudonym}/journal`, 'voir l’effacement'));
      render('Données effacées', done, h('p', {}, link('/personnel/officiers', 'Retour aux officiers')));
      done.focus();
    } catch (err) { showErrors(form, slot, err); }
  });
  return section('Données personnelles',
    h('p', {}, 'Sur demande de l’officier (droit d’accès ou d’effacement), exportez ce que Cassiopée conserve sur lui ou effacez-le.'),
    button('Exporter ses données (JSON)', save, 'fr-btn--secondary'), exportSlot,
    h('h3', { class: 'fr-h6 fr-mt-3w' }, 'Effacer les données'), form);
}

/** The audit log of an erased officer, under the pseudonym the erasure answered. */
async function erasedJournal({ id }) {
  render('Journal', loading());
  const [{ audit }, who] = await Promise.all([get(`/admin/officers/${enc(id)}/audit`), authors()]);
  render('Journal d’un officier effacé',
    h('p', {}, 'Ses inscriptions passées sont conservées sans nom pour les statistiques.'),
    auditTable('Journal de l’officier effacé', audit, who),
    h('p', { class: 'fr-mt-4w' }, link('/personnel/officiers', 'Retour aux officiers')));
}

// --- Notifications sent (the ledger).

const DELIVERY_BADGES = { delivered: 'success', bounced: 'error', complained: 'warning' };

/** What was sent, with the outbox's and the provider's word on it. */
function noticesTable(caption, notices, extra) {
  const status = (n) => h('p', {
    class: `fr-badge fr-badge--sm fr-badge--${DELIVERY_BADGES[n.delivery] || (n.status === 'failed' ? 'error' : n.status === 'sent' ? 'info' : 'new')}`,
    'data-delivery': n.delivery || n.status,
  }, n.delivery_label);
  return table(caption, [
    ['Objet', (n) => n.label],
    ...extra,
    ['Mise en file', (n) => formatDateTime(n.queued_at)],
    ['Envoi', (n) => (n.sent_at ? formatDateTime(n.sent_at) : '–')],
    ['Tentatives', (n) => String(n.attempts)],
    ['Distribution', (n) => [status(n), n.delivery_at ? ` le ${formatDateTime(n.delivery_at)}` : '']],
    ['Dernière erreur', (n) => n.last_error || '–'],
  ], notices, { empty: 'Aucune notification envoyée.' });
}

// --- Imports.

const IMPORTS = [['staff', 'Personnel (personnel.csv)'], ['officers', 'Officiers (officiers.csv)'], ['trainings', 'Catalogue (catalogue.csv)'],
  ['sessions', 'Sessions (sessions.csv)'], ['enrolments', 'Inscriptions (inscriptions.csv)']];

function importReport(label, r) {
  return h('div', { class: 'fr-mt-3w' },
    h('h3', { class: 'fr-h5' }, label),
    h('p', {}, `${r.created} créé(s), ${r.updated} mis à jour, ${r.unchanged} inchangé(s), ${r.kept} conservé(s) (modifiés dans l’application), ${r.rejected} rejeté(s).`),
    r.rejected_rows.length || r.kept_rows.length ? table(`Lignes rejetées ou conservées – ${label}`, [
      ['Ligne', (row) => String(row.line)], ['Issue', (row) => row.outcome], ['Motif', (row) => row.reason],
    ], [...r.rejected_rows.map((x) => ({ ...x, outcome: 'Rejetée' })), ...r.kept_rows.map((x) => ({ ...x, outcome: 'Conservée' }))]) : null);
}

async function importsPage() {
  const slot = h('div', {});
  const progress = h('div', { class: 'fr-mt-2w', hidden: true },
    h('label', { for: 'progression-import', class: 'fr-label' }, 'Progression de l’import'),
    h('progress', { id: 'progression-import', max: 1, value: 0 }),
    h('p', { role: 'status', id: 'etat-import', class: 'fr-text--sm' }));
  const reports = h('div', { id: 'rapports' });
  const form = h('form', { novalidate: true },
    h('p', {}, 'Déposez un ou plusieurs fichiers CSV exportés des tableurs de la MiRVOG. Ils sont importés dans l’ordre ci-dessous ; une ligne déjà importée ne change rien.'),
    IMPORTS.map(([kind, label]) => h('div', { class: 'fr-upload-group fr-mb-3w', dataset: { field: kind } },
      h('label', { class: 'fr-label', for: `fichier-${kind}` }, label, h('span', { class: 'fr-hint-text' }, 'Format CSV, séparateur point-virgule')),
      h('input', { class: 'fr-upload', type: 'file', id: `fichier-${kind}`, name: kind, accept: '.csv,text/csv', 'aria-describedby': `fichier-${kind}-message` }),
      h('div', { class: 'fr-messages-group', id: `fichier-${kind}-message`, 'aria-live': 'polite' }))),
    h('button', { type: 'submit', class: 'fr-btn' }, 'Importer'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const chosen = IMPORTS.filter(([kind]) => form.elements[kind].files.length);
    if (!chosen.length) {
      notify(slot, 'error', 'Aucun fichier choisi', 'Choisissez au moins un fichier à importer.');
      return;
    }
    const bar = progress.querySelector('progress');
    const state = progress.querySelector('p');
    progress.hidden = false;
    bar.max = chosen.length;
    bar.value = 0;
    reports.replaceChildren(h('h2', { class: 'fr-h4 fr-mt-4w' }, 'Rapport d’import'));
    slot.replaceChildren();
    form.querySelector('button[type=submit]').disabled = true;
    let failed = 0;
    for (const [i, [kind, label]] of chosen.entries()) {
      state.textContent = `Import ${i + 1} sur ${chosen.length} : ${label}…`;
      try {
        const text = await form.elements[kind].files[0].text();
        reports.append(importReport(label, await request('POST', `/admin/imports/${kind}`, { body: text })));
      } catch (err) {
        failed += 1;
        reports.append(alert('error', label, err.message));
      }
      bar.value = i + 1;
    }
    state.textContent = `Import terminé : ${chosen.length - failed} fichier(s) traité(s)${failed ? `, ${failed} en échec` : ''}.`;
    form.querySelector('button[type=submit]').disabled = false;
  });
  render('Imports', slot, form, progress, reports);
}

// --- Statistics: the API's figures for a period, grouped by month, theme and training.

/**
 * A horizontal bar chart in SVG, with the same figures as a table for screen readers. Each
 * row is `{label, value, text}`: `value` sizes the bar, `text` (the API's French rendering) is
 * what is written.
 */
function barChart(title, rows) {
  const max = Math.max(1, ...rows.map((r) => r.value ?? 0));
  const barH = 22;
  const labelW = 190;
  const width = 560;
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${Math.max(1, rows.length) * (barH + 8) + 4}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', rows.length ? `${title} : ${rows.map((r) => `${r.label} ${r.text}`).join(', ')}` : `${title} : aucune donnée`);
  svg.classList.add('cassiopee-chart');
  rows.forEach((r, i) => {
    const y = i * (barH + 8) + 4;
    const w = ((r.value ?? 0) / max) * (width - labelW - 90);
    const mk = (tag, attrs, text) => {
      const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
      for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
      if (text !== undefined) el.textContent = text;
      svg.append(el);
    };
    mk('text', { x: labelW - 6, y: y + barH * 0.7, 'text-anchor': 'end', class: 'cassiopee-chart__label' }, r.label.length > 26 ? `${r.label.slice(0, 25)}…` : r.label);
    mk('rect', { x: labelW, y, width: Math.max(w, 1), height: barH, class: 'cassiopee-chart__bar' });
    mk('text', { x: labelW + w + 6, y: y + barH * 0.7, class: 'cassiopee-chart__value' }, r.text);
  });
  return h('figure', { class: 'fr-mb-4w cassiopee-figure', dataset: { chart: title } },
    h('figcaption', { class: 'fr-h6' }, title), svg,
    h('details', {}, h('summary', {}, 'Voir les données'),
      table(title, [['', (r) => r.label], ['Valeur', (r) => r.text]], rows, { empty: 'Aucune session sur la période.' })));
}

const GROUPS = [['training', 'Formation'], ['session', 'Session'], ['theme', 'Thème'], ['month', 'Mois'], ['year', 'Année']];
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const DAY = /^\d{4}-\d{2}-\d{2}$/;
/** A rendering of the API's, or a dash when it has none (no denominator, no answer). */
const shown = (text) => text || '–';
const rowName = (r) => (['training', 'session'].includes(r.scope) && r.label ? `${r.key} – ${r.label}` : r.label || r.key);
const chartRows = (rows, value, text) => rows.filter((r) => r[value] !== null && r[value] !== undefined)
  .map((r) => ({ label: r.scope === 'training' ? r.key : r.label, value: Number(r[value]), text: r.display[text] }));

/** The statistics' query string: the period and grouping asked, nothing for what is left empty. */
function statisticsPath(group, from, to) {
  const q = new URLSearchParams({ group });
  if (from) q.set('from', from);
  if (to) q.set('to', to);
  return `/admin/statistics?${q}`;
}

async function statisticsPage(_, query) {
  render('Statistiques', loading());
  const from = query.get('du') || '';
  const to = query.get('au') || '';
  const group = GROUPS.some(([g]) => g === query.get('regroupement')) ? query.get('regroupement') : 'training';
  const slot = h('div', { id: 'message-statistiques' });
  const form = h('form', { novalidate: true, class: 'cassiopee-inline-form', 'aria-label': 'Période et regroupement' },
    field('from', 'Du', { id: 'statistiques-du', kind: 'date', value: from, hint: 'Premier jour des sessions comptées ; vide : depuis le début' }),
    field('to', 'Au', { id: 'statistiques-au', kind: 'date', value: to, hint: 'Dernier jour, inclus ; vide : jusqu’à aujourd’hui' }),
    field('group', 'Regroupement du détail et des exports', { id: 'statistiques-regroupement', kind: 'select', value: group, options: GROUPS }),
    h('button', { type: 'submit', class: 'fr-btn fr-btn--sm' }, 'Afficher'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = formValues(form);
    const fields = [];
    if (v.from && !DAY.test(v.from)) fields.push({ field: 'from', detail: 'Date attendue au format JJ/MM/AAAA.' });
    if (v.to && !DAY.test(v.to)) fields.push({ field: 'to', detail: 'Date attendue au format JJ/MM/AAAA.' });
    if (fields.length) {
      showErrors(form, slot, { fields });
      return;
    }
    const q = new URLSearchParams();
    if (v.from) q.set('du', v.from);
    if (v.to) q.set('au', v.to);
    if (v.group !== 'training') q.set('regroupement', v.group);
    navigate(`/personnel/statistiques${q.toString() ? `?${q}` : ''}`);
  });

  const asked = [...new Set(['month', 'theme', 'training', group])];
  let answers;
  try {
    answers = Object.fromEntries(await Promise.all(asked.map(async (g) => [g, await get(statisticsPath(g, from, to))])));
  } catch (err) {
    if (!(err instanceof ApiError) || err.status < 400 || err.status >= 500) throw err;
    render('Statistiques', slot, form);
    // A period that ends before it starts has no field of its own: its message goes to "Au".
    const fields = err.fields.length ? err.fields : err.code === 'invalid-period' ? [{ field: 'to', detail: err.message }] : [];
    showErrors(form, slot, { ...err, message: err.message, fields });
    return;
  }
  const training = answers.training;
  const total = training.total;
  const period = from && to ? `du ${formatShortDay(from)} au ${formatShortDay(to)}` : from ? `depuis le ${formatShortDay(from)}`
    : to ? `jusqu’au ${formatShortDay(to)}` : 'depuis le début';
  const chosen = answers[group];
  const groupName = GROUPS.find(([g]) => g === group)[1].toLowerCase();
  const file = `statistiques-${group}${from ? `-${from}` : ''}${to ? `_${to}` : ''}`;
  const exportSlot = h('div', {});
  const num = (k) => (r) => String(r.figures[k]);
  const withTotal = (rows) => (rows.length && total ? [...rows, total] : rows);
  const rated = training.rows.filter((r) => r.figures.feedback_answers > 0);

  render('Statistiques',
    h('p', {}, `Sessions commencées et non annulées ${period}, selon le premier jour de chaque session. Chiffres calculés le ${formatDateTime(new Date(Number(training.computed_at) / 1000).toISOString())}.`),
    slot,
    form,
    total ? h('ul', { class: 'fr-grid-row fr-grid-row--gutters cassiopee-plain-list cassiopee-kpis', 'aria-label': 'Chiffres de la période' },
      [[String(total.figures.sessions), 'sessions'], [shown(total.display.fill_rate), 'de remplissage'], [shown(total.display.attendance), 'd’assiduité'],
        [shown(total.display.cost_per_present), 'par participant présent']]
        .map(([n, label]) => h('li', { class: 'fr-col-6 fr-col-md-3' }, h('div', { class: 'fr-tile fr-tile--sm' },
          h('div', { class: 'fr-tile__body' }, h('p', { class: 'fr-tile__title' }, n), h('p', { class: 'fr-tile__desc' }, label)))))) : null,
    h('div', { class: 'fr-grid-row fr-grid-row--gutters fr-mt-2w' },
      h('div', { class: 'fr-col-12 fr-col-lg-6' }, barChart('Taux de remplissage par mois', chartRows(answers.month.rows, 'fill_rate_permille', 'fill_rate'))),
      h('div', { class: 'fr-col-12 fr-col-lg-6' }, barChart('Taux de remplissage par thème', chartRows(answers.theme.rows, 'fill_rate_permille', 'fill_rate'))),
      h('div', { class: 'fr-col-12 fr-col-lg-6' }, barChart('Assiduité par formation', chartRows(training.rows, 'attendance_permille', 'attendance'))),
      h('div', { class: 'fr-col-12 fr-col-lg-6' }, barChart('Coût par participant présent', chartRows(training.rows, 'cost_per_present', 'cost_per_present')))),
    h('p', { class: 'fr-text--sm' }, 'Remplissage : inscrits au démarrage sur places offertes. Assiduité : présents sur présents, absents et excusés. Coût par participant présent : coût des sessions et des stagiaires facturés (inscrits au démarrage et places perdues par un désistement tardif), divisé par le nombre de présents.'),
    section('Désistements et places perdues', table('Désistements et places perdues par formation', [
      ['Formation', rowName], ['Dans les délais', num('on_time_withdrawals')], ['Tardifs', num('late_withdrawals')], ['Places perdues', num('seats_lost_late')],
    ], withTotal(training.rows), { empty: 'Aucune session sur la période.' })),
    section('Demande en liste d’attente', table('Demande en liste d’attente par formation', [
      ['Formation', rowName], ['Pic d’attente', num('waiting_peak')], ['Jamais servis', num('waiting_never_served')],
    ], withTotal(training.rows), { empty: 'Aucune session sur la période.' })),
    section('Satisfaction', rated.length
      ? table('Notes et intérêt moyens par formation, sur 5', [
        ['Formation', rowName], ['Réponses', num('feedback_answers')], ['Note moyenne', (r) => shown(r.display.rating_mean)],
        ['Intérêt pour le projet', (r) => shown(r.display.relevance_mean)],
      ], withTotal(rated))
      : h('p', {}, 'Aucun avis n’a été donné sur les sessions de la période.')),
    section(`Détail par ${groupName}`,
      btnGroup(
        exportButton('Exporter (CSV)', statisticsPath(group, from, to), `${file}.csv`, exportSlot),
        exportButton('Exporter (Excel)', statisticsPath(group, from, to), `${file}.xlsx`, exportSlot, XLSX)),
      exportSlot,
      table(`Statistiques par ${groupName}, avec le total de la période`, [
        [GROUPS.find(([g]) => g === group)[1], rowName], ['Sessions', num('sessions')], ['Places', num('capacity')],
        ['Inscrits au démarrage', num('confirmed_at_start')], ['Remplissage', (r) => shown(r.display.fill_rate)],
        ['Présents', num('attended')], ['Absents', num('absent')], ['Excusés', num('excused')], ['Assiduité', (r) => shown(r.display.attendance)],
        ['Coût', (r) => shown(r.display.cost)], ['Coût par présent', (r) => shown(r.display.cost_per_present)],
      ], withTotal(chosen.rows), { empty: 'Aucune session sur la période.', wide: true })));
}

const PAGES = [
  ['/personnel', dashboard],
  ['/personnel/planning', planning],
  ['/personnel/sessions/nouvelle', sessionForm],
  ['/personnel/sessions/:id', sessionPage],
  ['/personnel/sessions/:id/modifier', sessionForm],
  ['/personnel/formations', trainingsPage],
  ['/personnel/formations/nouvelle', trainingForm],
  ['/personnel/formations/:id', trainingForm],
  ['/personnel/officiers', officersPage],
  ['/personnel/officiers/:id', officerPage],
  ['/personnel/officiers/:id/journal', erasedJournal],
  ['/personnel/imports', importsPage],
  ['/personnel/statistiques', statisticsPage],
];

export function routes(route) {
  for (const [path, page] of PAGES) route(path, page, { role: 'staff' });
}
