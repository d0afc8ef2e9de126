// An officer in the browser: signs in, enrols in a session with seats, joins a full session's
// waiting list, withdraws on time and late (told the consequence first), leaves the waiting
// list; every page clean for axe-core and shot at 360 and 1280 px.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer, startBrowser, newPage, waitReady, checkPage, assertAccessible, openedDialog, screenshots } from './harness.mjs';

const OFFICER = 'herve.kerjean@intradef.example';
const WITH_SEATS = '01KDVDNA00G8QD9VX6DEAEP295'; // COM-02-S058, 14 seats left, free withdrawal until 2 Dec
let server;
let browser;
let page;
let token;

async function standing(id) {
  const r = await server.api('GET', `/sessions/${id}`, { token });
  assert.equal(r.status, 200);
  return r.json;
}

async function findSession(pred) {
  const { json } = await server.api('GET', '/sessions', { token });
  const s = json.sessions.find(pred);
  assert.ok(s, 'the demo data has such a session');
  return s;
}

before(async () => {
  server = await startServer();
  browser = await startBrowser();
  page = await newPage(browser.context);
  token = await server.token(OFFICER);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('signs in from the keyboard alone', async () => {
  await page.goto(`${server.url}/connexion`);
  await waitReady(page, '/connexion');
  await checkPage(page, 'connexion');
  // An unknown address: the error stands next to the field and the field says it is invalid.
  await page.getByLabel('Adresse électronique').fill('personne@intradef.example');
  await page.keyboard.press('Enter');
  const error = page.locator('[data-field="email"] .fr-message--error');
  await error.waitFor();
  assert.match(await error.textContent(), /Aucun officier/);
  assert.equal(await page.getByLabel('Adresse électronique').getAttribute('aria-invalid'), 'true');
  const describedBy = await page.getByLabel('Adresse électronique').getAttribute('aria-describedby');
  assert.ok(describedBy.split(' ').includes(await error.evaluate((e) => e.parentElement.id)));
  await assertAccessible(page, 'connexion (erreur)');
  await page.getByLabel('Adresse électronique').fill(OFFICER);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/officier\/sessions$/);
  await waitReady(page, '/officier/sessions');
  assert.match(await page.locator('#outils').textContent(), /Kerjean/);
});

test('lists upcoming sessions with filters', async () => {
  await checkPage(page, 'officier-sessions');
  await page.getByLabel('Thème').selectOption('Communication');
  await page.getByText('Avec des places restantes').click();
  assert.ok(await page.getByLabel('Avec des places restantes').isChecked());
  await page.getByRole('button', { name: 'Filtrer' }).click();
  await page.waitForURL(/theme=Communication/);
  await page.getByText(/^\d+ sessions?$/).waitFor();
  const { json } = await server.api('GET', '/sessions?theme=Communication&available=true', { token });
  const cards = page.locator('.fr-card');
  assert.equal(await cards.count(), json.sessions.length);
  assert.ok(json.sessions.length > 0);
  for (const text of await cards.allTextContents()) assert.match(text, /place/);
  await checkPage(page, 'officier-sessions-filtrees');
});

test('enrols in a session with seats, in Paris time, from the keyboard', async () => {
  await page.goto(`${server.url}/officier/sessions/${WITH_SEATS}`);
  await waitReady(page, `/officier/sessions/${WITH_SEATS}`);
  // The browser runs in New York; the page shows the Paris hours of the session.
  assert.match(await page.locator('.cassiopee-facts').textContent(), /lundi 7 décembre 2026, 14:00 – 17:30 \(heure de Paris\)/);
  await checkPage(page, 'officier-session');
  const enrol = page.getByRole('button', { name: 'M’inscrire' });
  for (let i = 0; i < 80 && !(await enrol.evaluate((b) => b === document.activeElement)); i++) await page.keyboard.press('Tab');
  assert.ok(await enrol.evaluate((b) => b === document.activeElement), 'the enrol button is reachable with Tab');
  const outline = await enrol.evaluate((b) => getComputedStyle(b).outlineStyle);
  assert.notEqual(outline, 'none', 'the focused button shows its focus');
  await page.keyboard.press('Enter');
  await page.locator('#message-action').getByText('Inscription confirmée').waitFor();
  assert.match(await page.locator('#ma-situation').textContent(), /Vous êtes inscrit/);
  assert.equal((await standing(WITH_SEATS)).me.status, 'confirmed');
  await checkPage(page, 'officier-session-inscrit');
});

test('joins a full session’s waiting list and sees the position', async () => {
  const full = await findSession((s) => s.seats_left === 0 && s.waiting_list_open);
  const before = full.waiting_list_length;
  await page.goto(`${server.url}/officier/sessions/${full.id}`);
  await waitReady(page, `/officier/sessions/${full.id}`);
  await page.getByRole('button', { name: 'Rejoindre la liste d’attente' }).click();
  await page.locator('#message-action').getByText('Inscription sur la liste d’attente').waitFor();
  const me = (await standing(full.id)).me;
  assert.equal(me.status, 'waitlisted');
  assert.equal(me.position, before + 1);
  assert.match(await page.locator('#ma-situation').textContent(), new RegExp(`en position ${before + 1}`));
  await checkPage(page, 'officier-session-attente');
});

test('withdraws on time, then late after being told the consequence, and leaves the waiting list', async () => {
  // On time: a second session with seats, whose free-withdrawal cut-off is still ahead.
  const other = await findSession((s) => s.seats_left > 0 && s.id !== WITH_SEATS && new Date(s.free_withdrawal_until) > new Date('2026-12-01T09:00:00Z'));
  await server.api('POST', `/sessions/${other.id}/enrolment`, { token });
  await page.goto(`${server.url}/officier/sessions/${other.id}`);
  await waitReady(page, `/officier/sessions/${other.id}`);
  await page.getByRole('button', { name: 'Me désister' }).click();
  const dialog = await openedDialog(page, 'Confirmer le désistement');
  assert.match(await dialog.textContent(), /sans pénalité/);
  await assertAccessible(page, 'officier-desistement-dialogue');
  await dialog.getByRole('button', { name: 'Confirmer le désistement' }).click();
  await page.locator('#message-action').getByText('Désistement enregistré').waitFor();
  let me = (await standing(other.id)).me;
  assert.equal(me.status, 'withdrawn');
  assert.equal(me.late, false);

  // Late: two days later, past COM-02-S058's cut-off (2 December) but before it starts.
  await server.api('POST', '/dev/clock', { body: { now: '2026-12-03T10:00:00+01:00' } });
  await page.goto(`${server.url}/officier/sessions/${WITH_SEATS}`);
  await waitReady(page, `/officier/sessions/${WITH_SEATS}`);
  await page.getByRole('button', { name: 'Me désister' }).click();
  const late = await openedDialog(page, 'Confirmer le désistement');
  assert.match(await late.textContent(), /Désistement tardif/);
  assert.match(await late.textContent(), /compté comme tardif/);
  await screenshotsOfDialog();
  // Escape keeps the seat.
  await page.keyboard.press('Escape');
  await late.waitFor({ state: 'detached' });
  assert.equal((await standing(WITH_SEATS)).me.status, 'confirmed');
  await page.getByRole('button', { name: 'Me désister' }).click();
  await page.getByRole('button', { name: 'Me désister malgré tout' }).click();
  await page.locator('#message-action').getByText('Votre désistement est compté comme tardif.').waitFor();
  me = (await standing(WITH_SEATS)).me;
  assert.equal(me.status, 'withdrawn');
  assert.equal(me.late, true);

  // The waiting list joined above.
  const { json } = await server.api('GET', '/me/enrolments?when=upcoming', { token });
  const waiting = json.enrolments.find((e) => e.status === 'waitlisted');
  assert.ok(waiting);
  await page.goto(`${server.url}/officier/sessions/${waiting.session.id}`);
  await waitReady(page, `/officier/sessions/${waiting.session.id}`);
  await page.getByRole('button', { name: 'Quitter la liste d’attente' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Quitter la liste d’attente' }).click();
  await page.locator('#message-action').getByText('Vous avez quitté la liste d’attente').waitFor();
  // Leaving a waiting list is recorded as declining the place.
  assert.equal((await standing(waiting.session.id)).me.status, 'declined');
});

async function screenshotsOfDialog() {
  await assertAccessible(page, 'officier-desistement-tardif-dialogue');
  await screenshots(page, 'officier-desistement-tardif');
}

test('my trainings: upcoming, past, programme, interest in a training and the calendar link', async () => {
  await page.goto(`${server.url}/officier/sessions`);
  await waitReady(page, '/officier/sessions');
  await page.getByRole('link', { name: 'Mes formations' }).first().click();
  await waitReady(page, '/officier/mes-formations');
  const { json } = await server.api('GET', '/me/enrolments?when=past', { token });
  const past = page.getByRole('table', { name: 'Mes sessions passées' });
  assert.equal(await past.locator('tbody tr').count(), json.enrolments.length);
  assert.match(await past.textContent(), /Désisté/);
  const { json: catalogue } = await server.api('GET', '/trainings', { token });
  const training = catalogue.trainings[0];
  await page.getByRole('button', { name: `Cette formation m’intéresse : ${training.title}` }).click();
  await page.locator('#message-interet').getByText('Intérêt enregistré').waitFor();
  const staff = await server.token('hugues.vidal@intradef.example');
  const { json: demand } = await server.api('GET', '/admin/trainings', { token: staff });
  assert.equal(demand.trainings.find((t) => t.id === training.id).interested, 1);
  // The calendar link: created and shown once, then revoked.
  await page.getByText('Vous n’avez pas de lien d’agenda actif.').waitFor();
  await page.getByRole('button', { name: 'Créer mon lien d’agenda' }).click();
  await page.locator('#message-agenda').getByText('Lien d’agenda créé').waitFor();
  const url = await page.getByLabel('Mon lien d’agenda').inputValue();
  assert.match(url, /\/me\/calendar\.ics\?token=[A-Za-z0-9_-]{43}$/);
  const { json: link } = await server.api('GET', '/me/calendar-link', { token });
  assert.equal(link.exists, true);
  // The feed answers on its own token, with no sign-in.
  const feed = await fetch(`${server.url}/me/calendar.ics?${url.split('?')[1]}`);
  assert.equal(feed.status, 200);
  assert.equal(feed.headers.get('content-type'), 'text/calendar; charset=utf-8');
  assert.match(await feed.text(), /^BEGIN:VCALENDAR/);
  await page.getByText(/Un lien d’agenda est actif depuis le/).waitFor();
  await checkPage(page, 'officier-mes-formations');
  await page.getByRole('button', { name: 'Révoquer le lien' }).click();
  await page.locator('#message-agenda').getByText('Lien révoqué').waitFor();
  await page.getByText('Vous n’avez pas de lien d’agenda actif.').waitFor();
  assert.equal((await fetch(`${server.url}/me/calendar.ics?${url.split('?')[1]}`)).status, 404);
});

test('gives feedback on a session attended, told in French when it cannot be given', async () => {
  await page.goto(`${server.url}/officier/mes-formations`);
  await waitReady(page, '/officier/mes-formations');
  const { json } = await server.api('GET', '/me/enrolments?when=past', { token });
  const asked = json.enrolments.filter((e) => e.feedback === 'requested');
  assert.ok(asked.length >= 2, 'the demo officer attended sessions that ask for feedback');
  const [first, second] = asked;
  const past = page.getByRole('table', { name: 'Mes sessions passées' });
  await past.getByRole('link', { name: `Donner mon avis sur ${first.session.training.title}` }).first().click();
  const form = page.locator(`#avis-${first.session.id}`);
  await form.getByRole('button', { name: 'Envoyer mon avis' }).click();
  const error = form.locator('[data-field="rating"] .fr-message--error');
  await error.waitFor();
  assert.equal(await form.getByLabel('Note globale de la session').getAttribute('aria-invalid'), 'true');
  await form.getByLabel('Note globale de la session').selectOption('4');
  await form.getByLabel('Intérêt pour votre projet professionnel').selectOption('5');
  await form.getByLabel(/^Commentaire/).fill('Très concret, utile pour ma reconversion.');
  await form.getByRole('button', { name: 'Envoyer mon avis' }).click();
  await form.getByText('Avis enregistré').waitFor();
  const staff = await server.token('hugues.vidal@intradef.example');
  const { json: report } = await server.api('GET', `/admin/sessions/${first.session.id}/feedback`, { token: staff });
  assert.deepEqual(report.lines.map((l) => [l.rating, l.relevance, l.comment]), [[4, 5, 'Très concret, utile pour ma reconversion.']]);

  // An answer given meanwhile (another tab): the API's 409, in French, next to the form.
  const other = page.locator(`#avis-${second.session.id}`);
  const direct = await server.api('POST', `/me/enrolments/${second.session.id}/feedback`, { token, body: { rating: 3, relevance: 3 } });
  assert.equal(direct.status, 201);
  await other.getByLabel('Note globale de la session').selectOption('2');
  await other.getByLabel('Intérêt pour votre projet professionnel').selectOption('2');
  await other.getByRole('button', { name: 'Envoyer mon avis' }).click();
  await other.getByText('Avis non enregistré').waitFor();
  const again = await server.api('POST', `/me/enrolments/${second.session.id}/feedback`, { token, body: { rating: 3, relevance: 3 } });
  assert.equal(again.status, 409);
  assert.equal(again.json.code, 'feedback-already-given');
  assert.ok((await other.textContent()).includes(again.json.detail), 'the API’s French detail is shown');
  await checkPage(page, 'officier-avis');
  await page.reload();
  await waitReady(page, '/officier/mes-formations');
  assert.equal(await page.locator(`#avis-${first.session.id}`).count(), 0);
  assert.match(await past.textContent(), /Donné/);
});

test('my notifications list the emails sent, reached from the phone menu, and are read on opening', async () => {
  // On a phone the navigation sits behind the header's menu button.
  await page.setViewportSize({ width: 360, height: 780 });
  await page.goto(`${server.url}/officier/mes-formations`);
  await waitReady(page, '/officier/mes-formations');
  assert.equal(await page.getByRole('link', { name: 'Mes notifications' }).isVisible(), false);
  await page.getByRole('button', { name: 'Menu' }).click();
  await page.getByRole('link', { name: 'Mes notifications' }).click();
  await waitReady(page, '/officier/notifications');
  await page.waitForFunction(() => !document.getElementById('menu-modal').classList.contains('fr-modal--opened'));
  await page.setViewportSize({ width: 1280, height: 900 });
  const { json } = await server.api('GET', '/me/notifications', { token });
  assert.ok(json.notifications.length >= 4, 'enrolment, waiting list and withdrawals were told');
  assert.ok(json.unread >= 4, 'none read yet');
  assert.equal(await page.locator('tbody tr').count(), json.notifications.length);
  assert.match(await page.locator('tbody').textContent(), /Inscription confirmée/);
  // The menu counts the unread ones.
  assert.equal(await page.locator('#non-lues').textContent(), `${json.unread} non lues`);
  await checkPage(page, 'officier-notifications');

  // Opening one marks it read, and the count goes down.
  const first = json.notifications[0];
  await page.locator(`details[data-notification="${first.id}"] summary`).click();
  await page.locator('tbody tr').first().locator('[data-etat="lu"]').waitFor();
  await page.locator('#non-lues').getByText(`${json.unread - 1}`).waitFor();
  const after = (await server.api('GET', '/me/notifications', { token })).json;
  assert.equal(after.unread, json.unread - 1);
  assert.equal(after.notifications.find((n) => n.id === first.id).read, true);

  await page.getByRole('button', { name: 'Tout marquer comme lu' }).click();
  await page.locator('#message-notifications').getByText('Notifications lues').waitFor();
  assert.equal(await page.locator('[data-etat="non-lu"]').count(), 0);
  assert.equal(await page.locator('#non-lues').count(), 0);
  assert.equal((await server.api('GET', '/me/notifications', { token })).json.unread, 0);
  await assertAccessible(page, 'officier-notifications (lues)');
});

test('accepts a place offered from the waiting list', async () => {
  await server.api('POST', '/dev/clock', { body: { now: '2026-12-01T10:00:00+01:00' } });
  const staff = await server.token('hugues.vidal@intradef.example');
  const { json: catalogue } = await server.api('GET', '/admin/trainings', { token: staff });
  const s = (await server.api('POST', '/admin/sessions', {
    token: staff,
    body: {
      training_id: catalogue.trainings[0].id, first_day: '2027-03-01', last_day: '2027-03-01', daily_hours: '14:00-17:00',
      place: 'Visioconférence', capacity: 1, enrolment_closes_at: '2027-02-20', free_withdrawal_until: '2027-02-15',
      waitlist_mode: 'offer', offer_hours: 48,
    },
  })).json;
  const { json } = await server.api('GET', '/admin/officers', { token: staff });
  const first = json.officers.find((o) => o.email !== OFFICER);
  assert.equal((await server.api('POST', `/admin/sessions/${s.id}/enrolments`, { token: staff, body: { officer_id: first.id } })).json.status, 'confirmed');
  assert.equal((await server.api('POST', `/sessions/${s.id}/enrolment`, { token })).json.status, 'waitlisted');
  await server.api('DELETE', `/admin/sessions/${s.id}/enrolments/${first.id}`, { token: staff });
  await server.api('POST', '/dev/jobs/promote-waitlist');
  assert.equal((await standing(s.id)).me.status, 'offered');

  await page.goto(`${server.url}/officier/sessions/${s.id}`);
  await waitReady(page, `/officier/sessions/${s.id}`);
  assert.match(await page.locator('#ma-situation').textContent(), /Une place vous est proposée jusqu’au/);
  await checkPage(page, 'officier-session-proposition');
  await page.getByRole('button', { name: 'Accepter la place' }).click();
  await page.locator('#message-action').getByText('Place acceptée').waitFor();
  assert.equal((await standing(s.id)).me.status, 'confirmed');
});

test('a one-time link from an email asks before acting, acts once, and needs no sign-in', async () => {
  await server.api('POST', '/dev/clock', { body: { now: '2026-12-01T10:00:00+01:00' } });
  const staff = await server.token('hugues.vidal@intradef.example');
  const { json: catalogue } = await server.api('GET', '/admin/trainings', { token: staff });
  const s = (await server.api('POST', '/admin/sessions', {
    token: staff,
    body: {
      training_id: catalogue.trainings[0].id, first_day: '2027-03-08', last_day: '2027-03-08', daily_hours: '09:00-12:00',
      place: 'Visioconférence', capacity: 1, enrolment_closes_at: '2027-02-26', free_withdrawal_until: '2027-02-22',
    },
  })).json;
  const { json } = await server.api('GET', '/admin/officers', { token: staff });
  const first = json.officers.find((o) => o.email !== OFFICER);
  await server.api('POST', `/admin/sessions/${s.id}/enrolments`, { token: staff, body: { officer_id: first.id } });
  assert.equal((await server.api('POST', `/sessions/${s.id}/enrolment`, { token })).json.status, 'waitlisted');
  const { json: outbox } = await server.api('GET', '/dev/outbox');
  const mail = outbox.emails.findLast((e) => e.to.includes(OFFICER) && e.subject.startsWith('Liste d'));
  assert.ok(mail, 'the waiting-list email');
  const linkToken = /\/liens\/([A-Za-z0-9_.-]+[A-Za-z0-9_-])/.exec(mail.text)?.[1];
  assert.ok(linkToken, `a leave link in: ${mail.text}`);

  // On AWS the address reaches the static site: its page asks the API, signed out.
  // A new tab: its session storage holds nobody signed in.
  const anonymous = await newPage(browser.context);
  await anonymous.goto(`${server.url}/connexion`);
  await waitReady(anonymous, '/connexion');
  const open = () => anonymous.evaluate((t) => {
    history.pushState({}, '', `/liens/${t}`);
    window.dispatchEvent(new PopStateEvent('popstate'));
  }, linkToken);
  await open();
  await waitReady(anonymous, `/liens/${linkToken}`);
  assert.match(await anonymous.locator('h1').textContent(), /Quitter la liste d’attente|Quitter la liste d'attente/);
  assert.equal((await standing(s.id)).me.status, 'waitlisted', 'opening the link changes nothing');
  await assertAccessible(anonymous, 'lien à usage unique');
  await anonymous.getByRole('button', { name: /Quitter la liste/ }).click();
  await anonymous.getByText('C’est fait').waitFor();
  assert.notEqual((await standing(s.id)).me?.status, 'waitlisted');
  // Opened again, the page has nothing more to offer; a second post says it was done.
  await open();
  await waitReady(anonymous, `/liens/${linkToken}`);
  await anonymous.getByText('n’a plus d’objet', { exact: false }).or(anonymous.getByText("n'a plus d'objet", { exact: false })).first().waitFor();
  assert.equal(await anonymous.getByRole('button', { name: /Quitter la liste/ }).count(), 0);
  const again = await server.api('POST', `/liens/${linkToken}`);
  assert.equal(again.json.outcome, 'already_done');
  assert.deepEqual(anonymous.errors, []);
  await anonymous.close();
});

// Last: it erases the officer every other test signs in as.
test('my data: downloads everything held, and erasing needs the word, asks, then signs out', async () => {
  await page.goto(`${server.url}/officier/mes-donnees`);
  await waitReady(page, '/officier/mes-donnees');
  await checkPage(page, 'officier-mes-donnees');
  const [file] = await Promise.all([page.waitForEvent('download'),
    page.getByRole('button', { name: 'Télécharger mes données (JSON)' }).click()]);
  assert.match(file.suggestedFilename(), /^mes-donnees-cassiopee-\d{4}-\d{2}-\d{2}\.json$/);
  const data = JSON.parse(readFileSync(await file.path(), 'utf8'));
  assert.equal(data.officer.email, OFFICER);
  assert.ok(data.enrolments.length > 0 && data.enrolments.every((e) => Array.isArray(e.history)));
  await page.getByText('Vos données sont téléchargées').waitFor();

  // A wrong word: told next to the field, nothing sent.
  await page.getByLabel(/Pour confirmer, écrivez EFFACER/).fill('oui');
  await page.getByRole('button', { name: 'Effacer mes données' }).click();
  const error = page.locator('[data-field="confirmation"] .fr-message--error');
  await error.waitFor();
  assert.match(await error.textContent(), /EFFACER en majuscules/);
  await assertAccessible(page, 'officier-mes-donnees (erreur)');
  assert.equal((await server.api('GET', '/me', { token })).status, 200);

  // The word, then the dialog: Escape keeps everything, the button erases.
  await page.getByLabel(/Pour confirmer, écrivez EFFACER/).fill('EFFACER');
  await page.getByRole('button', { name: 'Effacer mes données' }).click();
  await openedDialog(page, 'Effacer définitivement vos données ?');
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'detached' });
  assert.equal((await server.api('GET', '/me', { token })).status, 200, 'Escape erased nothing');
  await page.getByRole('button', { name: 'Effacer mes données' }).click();
  const dialog = await openedDialog(page, 'Effacer définitivement vos données ?');
  assert.match(await dialog.textContent(), /sans votre nom/);
  await assertAccessible(page, 'officier-effacement-dialogue');
  await dialog.getByRole('button', { name: 'Effacer définitivement' }).click();
  await page.getByText('Vos données sont effacées').waitFor();
  await checkPage(page, 'officier-donnees-effacees');
  assert.equal((await server.api('GET', '/me', { token })).status, 403, 'the officer is no longer known');
  await page.goto(`${server.url}/officier/sessions`);
  await page.waitForURL(/\/connexion$/);
});
