// Small DOM helpers on the DSFR: elements built from data (never HTML strings, so nothing a
// user typed is ever parsed as markup), French formats in Paris time, form fields whose errors
// stand next to them, alerts, confirmation dialogs and tables.

/** h('p', {class: 'x'}, 'text', child…): an element; attributes `on*` take listeners. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

let uid = 0;
export const nextId = (prefix) => `${prefix}-${++uid}`;

// --- Formats (fr-FR, Europe/Paris).

const TZ = 'Europe/Paris';
const dayFmt = new Intl.DateTimeFormat('fr-FR', { timeZone: TZ, weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const shortDayFmt = new Intl.DateTimeFormat('fr-FR', { timeZone: TZ, day: 'numeric', month: 'short', year: 'numeric' });
const timeFmt = new Intl.DateTimeFormat('fr-FR', { timeZone: TZ, hour: '2-digit', minute: '2-digit' });
const monthFmt = new Intl.DateTimeFormat('fr-FR', { timeZone: 'UTC', month: 'long', year: 'numeric' });
const moneyFmt = new Intl.NumberFormat('fr-FR', { style: 'currency', currency: 'EUR', minimumFractionDigits: 2 });

/** A calendar day ("2027-01-14") read as that day, wherever the browser is. */
const civil = (day) => new Date(`${day}T12:00:00Z`);
export const formatDay = (day) => dayFmt.format(civil(day));
export const formatShortDay = (day) => shortDayFmt.format(civil(day));
export const formatDateTime = (iso) => `${shortDayFmt.format(new Date(iso))} à ${timeFmt.format(new Date(iso))}`;
export const formatMonth = (ym) => monthFmt.format(new Date(`${ym}-01T12:00:00Z`));
/** "4800.00" (the API's decimal string) → "4 800,00 €". */
export const formatMoney = (amount) => moneyFmt.format(Number(amount));
export const formatPercent = (permille) => (permille === null || permille === undefined
  ? '–' : `${(permille / 10).toLocaleString('fr-FR', { maximumFractionDigits: 1 })} %`);

/** The Paris calendar day of an instant, as "YYYY-MM-DD". */
export function parisDay(date) {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' }).format(date);
  return parts;
}

export function sessionDates(s) {
  const days = s.first_day === s.last_day
    ? `le ${formatDay(s.first_day)}`
    : `du ${formatDay(s.first_day)} au ${formatDay(s.last_day)}`;
  return `${days}, ${s.daily_hours.replace('-', ' – ')} (heure de Paris)`;
}

export const MODALITIES = { 'présentiel': 'Présentiel', distanciel: 'Distanciel', hybride: 'Hybride' };

export const STATUS_LABELS = {
  confirmed: 'Inscrit',
  waitlisted: 'Liste d’attente',
  offered: 'Place proposée',
  withdrawn: 'Désisté',
  declined: 'A renoncé',
  offer_expired: 'Proposition expirée',
  attended: 'Présent',
  absent: 'Absent',
  excused: 'Excusé',
};

const STATUS_BADGES = {
  confirmed: 'success', attended: 'success', offered: 'new', waitlisted: 'info',
  withdrawn: 'warning', declined: 'warning', offer_expired: 'warning', absent: 'error', excused: 'info',
};

export const statusBadge = (status) => h('p', { class: `fr-badge fr-badge--sm fr-badge--${STATUS_BADGES[status] || 'info'}` }, STATUS_LABELS[status] || status);

export function seatsBadge(s) {
  if (s.status === 'cancelled') return h('p', { class: 'fr-badge fr-badge--sm fr-badge--error' }, 'Annulée');
  if (s.seats_left > 0) {
    return h('p', { class: 'fr-badge fr-badge--sm fr-badge--success' },
      s.seats_left === 1 ? '1 place restante' : `${s.seats_left} places restantes`);
  }
  return h('p', { class: 'fr-badge fr-badge--sm fr-badge--warning' },
    s.waiting_list_open ? `Complet – ${s.waiting_list_length} en attente` : 'Complet');
}

// --- Page furniture.

/** Replaces the page's content, sets the title, and moves focus to the heading. */
export function render(title, ...content) {
  document.title = `${title} – Cassiopée`;
  const page = document.getElementById('page');
  const heading = h('h1', { tabindex: '-1', id: 'titre-page' }, title);
  page.replaceChildren(heading, ...content.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  heading.focus({ preventScroll: false });
  return page;
}

/** A DSFR alert; `type` success, error, info or warning. */
export function alert(type, title, text, opts = {}) {
  return h('div', { class: `fr-alert fr-alert--${type} fr-alert--sm fr-mb-3w`, role: opts.role || (type === 'error' ? 'alert' : 'status'), tabindex: opts.focus ? '-1' : null },
    title ? h('p', { class: 'fr-alert__title' }, title) : null,
    text ? h('p', {}, text) : null);
}

/** Shows a message in a placeholder, and moves focus there so that it is read out. */
export function notify(slot, type, title, text) {
  const a = alert(type, title, text, { focus: true });
  slot.replaceChildren(a);
  a.focus();
  return a;
}

export const loading = () => h('p', { class: 'fr-text--sm', role: 'status' }, 'Chargement…');

export function errorBlock(err) {
  return alert('error', 'Une erreur est survenue', err.message || String(err));
}

export const link = (href, text, attrs = {}) => h('a', { href, class: 'fr-link', ...attrs }, text);
export const button = (text, onclick, cls = '', attrs = {}) => h('button', { type: 'button', class: `fr-btn ${cls}`.trim(), onclick, ...attrs }, text);

export function badgeGroup(...badges) {
  return h('ul', { class: 'fr-badges-group' }, badges.filter(Boolean).map((b) => h('li', {}, b)));
}

// --- Forms.

/**
 * A DSFR input group: label tied to the field, hint, and an error message slot that the
 * field is described by. `kind` is an input type, or 'select' (with `options` [[value,
 * label]]) or 'textarea'.
 */
export function field(name, label, opts = {}) {
  const id = opts.id || nextId(`champ-${name}`);
  const hintId = `${id}-aide`;
  const msgId = `${id}-message`;
  const kind = opts.kind || 'text';
  const common = { id, name, 'aria-describedby': `${opts.hint ? hintId : ''} ${msgId}`.trim(), required: opts.required || null, ...(opts.attrs || {}) };
  let control;
  if (kind === 'select') {
    control = h('select', { class: 'fr-select', ...common },
      opts.placeholder !== undefined ? h('option', { value: '' }, opts.placeholder) : null,
      (opts.options || []).map(([v, l]) => h('option', { value: v, selected: String(v) === String(opts.value ?? '') || null }, l)));
  } else if (kind === 'textarea') {
    control = h('textarea', { class: 'fr-input', ...common }, opts.value ?? '');
  } else {
    control = h('input', { class: 'fr-input', type: kind, value: opts.value ?? null, ...common });
  }
  const group = h('div', { class: `${kind === 'select' ? 'fr-select-group' : 'fr-input-group'} fr-mb-2w`, dataset: { field: name } },
    h('label', { class: 'fr-label', for: id }, label, opts.required ? ' (obligatoire)' : null,
      opts.hint ? h('span', { class: 'fr-hint-text', id: hintId }, opts.hint) : null),
    control,
    h('div', { class: 'fr-messages-group', id: msgId, 'aria-live': 'polite' }));
  return group;
}

export function checkbox(name, label, checked = false) {
  const id = nextId(`case-${name}`);
  return h('div', { class: 'fr-checkbox-group fr-mb-2w', dataset: { field: name } },
    h('input', { type: 'checkbox', id, name, checked: checked || null }),
    h('label', { class: 'fr-label', for: id }, label));
}

/** Clears the errors a form shows. */
export function clearErrors(form) {
  for (const g of form.querySelectorAll('[data-field]')) {
    g.classList.remove('fr-input-group--error', 'fr-select-group--error');
    const c = g.querySelector('input, select, textarea');
    if (c) c.removeAttribute('aria-invalid');
    const m = g.querySelector('.fr-messages-group');
    if (m) m.replaceChildren();
  }
}

/**
 * Shows an API error on a form: each field error next to its field (focus goes to the first),
 * anything else in the form's alert slot.
 */
export function showErrors(form, slot, err) {
  clearErrors(form);
  let first = null;
  for (const { field: name, detail } of err.fields || []) {
    const g = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (!g) continue;
    g.classList.add(g.classList.contains('fr-select-group') ? 'fr-select-group--error' : 'fr-input-group--error');
    const c = g.querySelector('input, select, textarea');
    c.setAttribute('aria-invalid', 'true');
    g.querySelector('.fr-messages-group').replaceChildren(h('p', { class: 'fr-message fr-message--error', role: 'alert' }, detail));
    first = first || c;
  }
  if (first) {
    slot.replaceChildren(alert('error', null, 'Le formulaire contient des erreurs : corrigez les champs signalés.'));
    first.focus();
  } else {
    notify(slot, 'error', 'L’action n’a pas abouti', err.message);
  }
}

export function formValues(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name) continue;
    if (el.type === 'checkbox') out[el.name] = el.checked;
    else out[el.name] = el.value.trim();
  }
  return out;
}

// --- Confirmation dialog (the DSFR modal, driven through the DSFR's own API).

const nextFrame = () => new Promise((r) => requestAnimationFrame(r));

/**
 * Opens a DSFR modal once the DSFR has set it up (it does so on the following frames, and
 * ignores a disclose until then). False when the DSFR's script is not there.
 */
async function disclose(el) {
  for (let i = 0; i < 120; i++) {
    const api = window.dsfr && window.dsfr(el)?.modal;
    if (api) api.disclose();
    await nextFrame();
    if (el.classList.contains('fr-modal--opened')) return true;
  }
  return false;
}

/**
 * Asks before an action. Resolves true when confirmed. `body` is text or nodes. Escape, the
 * close button and the cancel button resolve false; focus then returns to what had it.
 */
export function confirmDialog({ title, body, confirm, cancel = 'Annuler', danger = false }) {
  return new Promise((resolve) => {
    const back = document.activeElement;
    const id = nextId('dialogue');
    let answer = false;
    const dialog = h('dialog', { id, class: 'fr-modal', 'aria-labelledby': `${id}-titre` });
    const ok = h('button', { type: 'button', class: `fr-btn ${danger ? 'fr-btn--secondary cassiopee-danger' : ''}`.trim(), 'aria-controls': id, onclick: () => { answer = true; } }, confirm);
    dialog.append(h('div', { class: 'fr-container fr-container--fluid fr-container-md' },
      h('div', { class: 'fr-grid-row fr-grid-row--center' },
        h('div', { class: 'fr-col-12 fr-col-md-8 fr-col-lg-6' },
          h('div', { class: 'fr-modal__body' },
            h('div', { class: 'fr-modal__header' },
              h('button', { type: 'button', class: 'fr-btn--close fr-btn', title: 'Fermer', 'aria-controls': id }, 'Fermer')),
            h('div', { class: 'fr-modal__content' },
              h('h2', { class: 'fr-modal__title', id: `${id}-titre` }, title),
              typeof body === 'string' ? h('p', {}, body) : body),
            h('div', { class: 'fr-modal__footer' },
              h('ul', { class: 'fr-btns-group fr-btns-group--right fr-btns-group--inline-reverse fr-btns-group--inline-lg' },
                h('li', {}, ok),
                h('li', {}, h('button', { type: 'button', class: 'fr-btn fr-btn--secondary', 'aria-controls': id }, cancel)))))))));
    // The DSFR opens a modal from a button that controls it: a hidden one stands in for it.
    const trigger = h('button', { type: 'button', class: 'fr-sr-only', tabindex: '-1', 'aria-controls': id, 'data-fr-opened': 'false' }, title);
    dialog.addEventListener('dsfr.conceal', () => {
      setTimeout(() => {
        dialog.remove();
        trigger.remove();
        if (back && back.isConnected) back.focus();
        resolve(answer);
      }, 0);
    });
    document.body.append(trigger, dialog);
    disclose(dialog).then((opened) => {
      if (!opened) {
        // Without the DSFR's script the dialog still works, as a plain native one.
        dialog.classList.add('fr-modal--opened');
        dialog.showModal();
        dialog.addEventListener('click', (e) => { if (e.target.closest('[aria-controls]')) { dialog.close(); dialog.dispatchEvent(new Event('dsfr.conceal')); } });
      }
    });
  });
}

// --- Tables.

/**
 * A DSFR table: `columns` [[label, (row) => cell]], with a caption read by screen readers. On
 * a phone each row stacks into a block whose cells carry their column's name; the ARIA roles
 * keep it a table for assistive technologies whatever its display. `wide`: a table that may
 * scroll sideways, whose container is then reachable from the keyboard.
 */
export function table(caption, columns, rows, opts = {}) {
  return h('div', { class: `fr-table cassiopee-table ${opts.bordered ? 'fr-table--bordered' : ''}`.trim() },
    h('div', { class: 'fr-table__wrapper' },
      // A wide table scrolls on a phone: its container then takes the keyboard's focus.
      h('div', { class: 'fr-table__container', tabindex: opts.wide ? '0' : null, role: opts.wide ? 'region' : null, 'aria-label': opts.wide ? caption : null },
        h('div', { class: 'fr-table__content' },
          h('table', { role: 'table' },
            h('caption', { class: opts.showCaption ? '' : 'fr-sr-only' }, caption),
            h('thead', { role: 'rowgroup' }, h('tr', { role: 'row' }, columns.map(([label]) => h('th', { scope: 'col', role: 'columnheader' }, label)))),
            h('tbody', { role: 'rowgroup' }, rows.length
              ? rows.map((r) => h('tr', { role: 'row' }, columns.map(([label, cell]) => h('td', { role: 'cell', 'data-label': label }, cell(r)))))
              : h('tr', { role: 'row' }, h('td', { role: 'cell', colspan: columns.length, class: 'cassiopee-table__empty' }, opts.empty || 'Aucune ligne.'))))))));
}

/** Saves bytes as a file the browser downloads. */
export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename, class: 'fr-sr-only' }, filename);
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// --- The audit log, as staff read it.

const AUDIT_ACTIONS = {
  'session.created': 'Session planifiée', 'session.updated': 'Session modifiée', 'session.cancelled': 'Session annulée',
  'session.deleted': 'Session supprimée', 'session.imported': 'Session importée', 'training.created': 'Formation créée',
  'training.updated': 'Formation modifiée', 'training.archived': 'Formation archivée', 'training.imported': 'Formation importée',
  'programme.planned': 'Formation mise au programme', 'programme.unplanned': 'Formation retirée du programme',
  'interest.registered': 'Intérêt signalé', 'waitlist.moved': 'Déplacé dans la liste d’attente', 'feedback.given': 'Avis donné', 'officer.imported': 'Officier importé',
  'officer.exported': 'Données exportées', 'officer.erased': 'Données effacées',
};
const AUDIT_ORIGINS = { self: 'l’officier', staff: 'le personnel', import: 'un import', system: 'une tâche automatique' };
const AUDIT_FIELDS = {
  place: 'lieu', capacity: 'places', trainer: 'intervenant', status: 'situation', starts_at: 'début', ends_at: 'fin',
  first_day: 'premier jour', last_day: 'dernier jour', enrolment_closes_at: 'clôture des inscriptions',
  free_withdrawal_until: 'désistement libre jusqu’au', schedule_version: 'version du planning', title: 'intitulé',
  kind: 'nature', archived: 'archivée', waitlist: 'liste d’attente', deleted: 'supprimée', import: 'import',
  hours: 'horaires', position: 'position', rating: 'note', relevance: 'intérêt pour le projet', code: 'code', theme: 'thème',
};

export const auditAction = (line) => (line.action.startsWith('enrolment.')
  ? `Inscription : ${STATUS_LABELS[line.action.slice(10)] || line.action.slice(10)}`
  : AUDIT_ACTIONS[line.action] || line.action);

const AUDIT_VALUES = {
  scheduled: 'programmée', cancelled: 'annulée', required: 'obligatoire', recommended: 'recommandée',
  created: 'créé', updated: 'mis à jour', direct: 'directe', offer: 'sur proposition',
};
/** Fields that identify the record rather than describe it. */
const AUDIT_HIDDEN = new Set(['id', 'training_id', 'reference']);

function auditValue(v) {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'boolean') return v ? 'oui' : 'non';
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v)) return formatDateTime(v);
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)) return formatShortDay(v);
  if (typeof v === 'string') return STATUS_LABELS[v] || AUDIT_VALUES[v] || v;
  if (typeof v === 'object' && v.mode) return AUDIT_VALUES[v.mode] || v.mode;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** What a line changed, field by field: « lieu : Paris → Lyon ». */
export function auditChanges(line) {
  const before = line.before || {};
  const after = line.after || {};
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => !AUDIT_HIDDEN.has(k));
  if (!keys.length) return '–';
  return h('ul', { class: 'cassiopee-audit-changes' }, keys.map((k) => h('li', {},
    `${AUDIT_FIELDS[k] || k} : `,
    k in before ? `${auditValue(before[k])} → ` : '',
    auditValue(after[k]))));
}

/** The audit log as a table; `who` names the author of a line. */
export function auditTable(caption, lines, who, extra = []) {
  return table(caption, [
    ['Date', (l) => formatDateTime(l.at)],
    ['Action', auditAction],
    ...extra,
    ['Par', (l) => who(l) || AUDIT_ORIGINS[l.origin] || l.origin],
    ['Modification', auditChanges],
    ['Motif', (l) => l.reason || '–'],
  ], lines, { empty: 'Aucune modification enregistrée.', wide: true });
}
