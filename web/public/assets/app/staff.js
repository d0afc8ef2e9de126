// The staff console: dashboard, planning, sessions and their rosters, trainings, officers and
// their programmes, imports, statistics, CSV exports.
import { get, request, serverNow, idempotencyKey, ApiError } from './api.js';
import {
  h, render, alert, notify, loading, link, button, badgeGroup, field, formValues,
  showErrors, clearErrors, confirmDialog, table, download, formatShortDay, formatDateTime,
  formatMonth, formatMoney, formatPercent, sessionDates, seatsBadge, statusBadge, MODALITIES,
  parisDay,
} from './ui.js';
import { navigate } from './router.js';

const enc = encodeURIComponent;
const section = (title, ...content) => h('section', { class: 'fr-mt-4w' }, h('h2', { class: 'fr-h4' }, title), ...content);
const btnGroup = (...items) => h('ul', { class: 'fr-btns-group fr-btns-group--inline-md fr-btns-group--sm' }, items.filter(Boolean).map((b) => h('li', {}, b)));
const dates = (s) => (s.first_day === s.last_day ? formatShortDay(s.first_day) : `${formatShortDay(s.first_day)} – ${formatShortDay(s.last_day)}`);

function fill(s) {
  const pct = s.fill_permille === null ? 0 : Math.min(100, Math.round(s.fill_permille / 10));
  return h('span', { class: 'cassiopee-meter' },
    h('progress', { max: 100, value: pct, 'aria-label': `Remplissage de ${s.reference}` }),
    ` ${s.seats_filled}/${s.capacity}`);
}

/**
 * Downloads a CSV export, asking the API for `text/csv`. Until a route answers CSV (404, 406,
 * or JSON back), says so in French in `slot`.
 */
async function exportCsv(path, filename, slot) {
  try {
    const r = await request('GET', path, { accept: 'text/csv', raw: true });
    if (!(r.headers.get('content-type') || '').includes('text/csv')) throw new ApiError(406, {});
    const blob = await r.blob();
    download(blob, filename);
    notify(slot, 'success', 'Export téléchargé', `Le fichier ${filename} est enregistré dans vos téléchargements.`);
  } catch (err) {
    const missing = err instanceof ApiError && [404, 405, 406].includes(err.status);
    notify(slot, missing ? 'info' : 'error', missing ? 'Export CSV pas encore disponible' : 'Export impossible',
      missing ? 'Le service ne propose pas encore cet export au format CSV.' : err.message);
  }
}

const exportButton = (label, path, filename, slot) => button(label, () => exportCsv(path, filename, slot), 'fr-btn--secondary fr-btn--sm', { 'data-export': filename });

// --- Dashboard.

async function dashboard() {
  render('Tableau de bord', loading());
  const now = await serverNow();
  const today = parisDay(now);
  const [{ sessions }, { trainings }, stats] = await Promise.all([
    get(`/admin/sessions?from=${today}`), get('/admin/trainings'), get('/admin/statistics').catch(() => ({ rows: [] }))]);
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
        [lateRows.reduce((n, r) => n + r.figures.late_withdrawals, 0), 'désistements tardifs'],
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
      await navigate(`/personnel/sessions/${saved.id || id}?${editing ? 'modifiee' : 'creee'}=1`);
    } catch (err) {
      showErrors(form, slot, err);
    }
  });
  render(editing ? `Modifier la session ${current.reference}` : 'Planifier une session', slot, form);
}

// --- A session: facts, roster, attendance, waiting list, exports.

const ATTENDANCE = [['attended', 'Présent'], ['absent', 'Absent'], ['excused', 'Excusé']];

async function sessionPage({ id }, query, flash) {
  render('Session', loading());
  const [{ session: s, roster }, detail, { officers }, now] = await Promise.all([
    get(`/admin/sessions/${enc(id)}/roster`), get(`/admin/sessions/${enc(id)}`), get('/admin/officers'), serverNow()]);
  const slot = h('div', { id: 'message-action' });
  if (flash) slot.append(flash);
  else if (query.get('creee')) slot.append(alert('success', 'Session planifiée', `La session ${s.reference} est créée.`));
  else if (query.get('modifiee')) slot.append(alert('success', 'Session modifiée', 'Les personnes inscrites sont prévenues par courriel si les dates, horaires ou lieu ont changé.'));
  const reload = async (title, text) => {
    const msg = alert('success', title, text, { focus: true });
    await sessionPage({ id }, new URLSearchParams(), msg);
    msg.focus();
  };
  const fail = (label) => (err) => notify(slot, 'error', label, err.message);
  const name = (l) => `${l.officer.grade} ${l.officer.first_name} ${l.officer.last_name}`;
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
        ['Officier', (l) => link(`/personnel/officiers/${l.officer.id}`, name(l))],
        ['Situation', (l) => [statusBadge(l.status), l.late ? ' tardif' : '']],
        ['Présence', markAttendance],
        ['Action', (l) => (l.status === 'confirmed' && !started ? withdraw(l) : '–')],
      ], seated, { empty: 'Personne n’est inscrit.' })),
    s.status === 'scheduled' && !started ? section('Inscrire un officier', enrolForm) : null,
    section(`Liste d’attente (${waiting.length})`,
      waiting.length > 1 ? waitForm : null,
      table('Liste d’attente, dans l’ordre', [
        ['Position', (l) => String(l.position)],
        ['Officier', (l) => link(`/personnel/officiers/${l.officer.id}`, name(l))],
        ['Inscrit le', (l) => formatDateTime(l.joined_at)],
        ['Ordre', (l) => btnGroup(
          l.position > 1 ? button('Monter', move(l, l.position - 1), 'fr-btn--tertiary fr-btn--sm', { 'aria-label': `Monter ${name(l)} en position ${l.position - 1}` }) : null,
          l.position < waiting.length ? button('Descendre', move(l, l.position + 1), 'fr-btn--tertiary fr-btn--sm', { 'aria-label': `Descendre ${name(l)} en position ${l.position + 1}` }) : null)],
      ], waiting, { empty: 'Personne n’attend.' })),
    others.length ? section('Historique', table('Désistements et refus', [
      ['Officier', name], ['Situation', (l) => [statusBadge(l.status), l.late ? ' tardif' : '']], ['Le', (l) => formatDateTime(l.updated_at)],
    ], others)) : null,
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
  const [{ officer: o, programme, enrolments }, { trainings }] = await Promise.all([get(`/admin/officers/${enc(id)}`), get('/admin/trainings')]);
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
    ], enrolments, { empty: 'Aucune inscription.' })));
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

// --- Statistics.

/** A horizontal bar chart in SVG, with the same figures as a table for screen readers. */
function barChart(title, rows, format) {
  const max = Math.max(1, ...rows.map((r) => r.value ?? 0));
  const barH = 22;
  const labelW = 190;
  const width = 560;
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${rows.length * (barH + 8) + 4}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${title} : ${rows.map((r) => `${r.label} ${format(r.value)}`).join(', ')}`);
  svg.classList.add('cassiopee-chart');
  rows.forEach((r, i) => {
    const y = i * (barH + 8) + 4;
    const w = ((r.value ?? 0) / max) * (width - labelW - 80);
    const mk = (tag, attrs, text) => {
      const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
      for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
      if (text !== undefined) el.textContent = text;
      svg.append(el);
    };
    mk('text', { x: labelW - 6, y: y + barH * 0.7, 'text-anchor': 'end', class: 'cassiopee-chart__label' }, r.label.length > 26 ? `${r.label.slice(0, 25)}…` : r.label);
    mk('rect', { x: labelW, y, width: Math.max(w, 1), height: barH, class: 'cassiopee-chart__bar' });
    mk('text', { x: labelW + w + 6, y: y + barH * 0.7, class: 'cassiopee-chart__value' }, format(r.value));
  });
  return h('figure', { class: 'fr-mb-4w cassiopee-figure' },
    h('figcaption', { class: 'fr-h6' }, title), svg,
    h('details', {}, h('summary', {}, 'Voir les données'), table(title, [['', (r) => r.label], ['Valeur', (r) => format(r.value)]], rows)));
}

function sum(list) {
  const out = { capacity: 0, confirmed_at_start: 0, attended: 0, absent: 0, excused: 0, sessions: 0 };
  for (const f of list) for (const k of Object.keys(out)) out[k] += f[k];
  return out;
}

const rate = (n, d) => (d ? Math.round((n / d) * 1000) : null);

async function statisticsPage() {
  render('Statistiques', loading());
  const [stats, { sessions }, { trainings }] = await Promise.all([get('/admin/statistics'), get('/admin/sessions?from=2000-01-01'), get('/admin/trainings?archived=true')]);
  const byRef = new Map(sessions.map((s) => [s.reference, s]));
  const byCode = new Map(trainings.map((t) => [t.code, t]));
  const sessionRows = stats.rows.filter((r) => r.scope === 'session');
  const trainingRows = stats.rows.filter((r) => r.scope === 'training');
  const group = (keyOf) => {
    const m = new Map();
    for (const r of sessionRows) {
      const k = keyOf(r);
      if (!k) continue;
      if (!m.has(k)) m.set(k, []);
      m.get(k).push(r.figures);
    }
    return [...m.entries()].map(([k, list]) => [k, sum(list)]);
  };
  const months = group((r) => byRef.get(r.key)?.first_day.slice(0, 7)).sort(([a], [b]) => a.localeCompare(b));
  const themes = group((r) => byCode.get(r.label)?.theme).sort(([a], [b]) => a.localeCompare(b, 'fr'));
  const pct = (v) => formatPercent(v);
  const cost = trainingRows.map((r) => {
    const t = byCode.get(r.key);
    if (!t || !r.figures.attended) return { label: r.key, value: null };
    const cents = r.figures.sessions * Math.round(Number(t.session_cost) * 100) + r.figures.confirmed_at_start * Math.round(Number(t.trainee_cost) * 100);
    return { label: r.key, value: cents / 100 / r.figures.attended };
  }).filter((r) => r.value !== null);
  const slot = h('div', {});
  render('Statistiques',
    h('p', {}, `Calculées le ${formatDateTime(new Date(Number(stats.computed_at) / 1000 || stats.computed_at).toISOString())}, sur les sessions commencées et non annulées.`),
    btnGroup(exportButton('Exporter les statistiques (CSV)', '/admin/statistics', 'statistiques.csv', slot)),
    slot,
    h('div', { class: 'fr-grid-row fr-grid-row--gutters' },
      h('div', { class: 'fr-col-12 fr-col-lg-6' }, barChart('Taux de remplissage par mois', months.map(([m, f]) => ({ label: formatMonth(m), value: rate(f.confirmed_at_start, f.capacity) })), pct)),
      h('div', { class: 'fr-col-12 fr-col-lg-6' }, barChart('Taux de remplissage par thème', themes.map(([t, f]) => ({ label: t, value: rate(f.confirmed_at_start, f.capacity) })), pct)),
      h('div', { class: 'fr-col-12 fr-col-lg-6' }, barChart('Assiduité par formation', trainingRows.map((r) => ({ label: r.key, value: r.attendance_permille })), pct)),
      h('div', { class: 'fr-col-12 fr-col-lg-6' }, barChart('Coût par participant présent', cost, (v) => (v === null ? '–' : formatMoney(v.toFixed(2)))))),
    h('p', { class: 'fr-text--sm' }, 'Coût par participant présent : coût des sessions et des stagiaires inscrits au démarrage, divisé par le nombre de présents.'));
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
  ['/personnel/imports', importsPage],
  ['/personnel/statistiques', statisticsPage],
];

export function routes(route) {
  for (const [path, page] of PAGES) route(path, page, { role: 'staff' });
}
