// A staff member in the browser: plans a session (an error first, shown next to its field),
// enrols an officer on their behalf, marks attendance once the session has started, exports
// the roster; and every console page is clean for axe-core and shot at 360 and 1280 px.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, startBrowser, newPage, signIn, waitReady, checkPage, assertAccessible, openedDialog } from './harness.mjs';

const STAFF = 'hugues.vidal@intradef.example';
const OFFICER = 'herve.kerjean@intradef.example';
const demoData = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'demo', 'data');
let server;
let browser;
let page;
let token;
let created;

const go = async (path) => {
  await page.goto(`${server.url}${path}`);
  await waitReady(page, path.split('?')[0]);
};
const message = () => page.locator('#message-action');

before(async () => {
  server = await startServer();
  browser = await startBrowser();
  page = await newPage(browser.context);
  token = await server.token(STAFF);
  await signIn(page, server.url, STAFF);
  await waitReady(page, '/personnel');
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the dashboard shows the next sessions, those under their minimum and late withdrawals', async () => {
  const next = page.getByRole('table', { name: 'Prochaines sessions et leur remplissage' });
  assert.match(await next.textContent(), /COM-02-S058/);
  assert.ok(await page.getByRole('heading', { name: 'Sessions sous leur minimum' }).isVisible());
  assert.ok(await page.getByRole('heading', { name: 'Désistements tardifs' }).isVisible());
  await checkPage(page, 'personnel-tableau-de-bord');
});

test('the planning shows a month and a list', async () => {
  await page.getByRole('link', { name: 'Planning' }).first().click();
  await waitReady(page, '/personnel/planning');
  assert.match(await page.title(), /décembre 2026/);
  assert.match(await page.locator('.cassiopee-month').textContent(), /COM-02-S058/);
  await checkPage(page, 'personnel-planning-mois');
  await page.getByRole('link', { name: 'Afficher la liste' }).click();
  await page.getByRole('link', { name: 'Afficher le mois' }).waitFor();
  await checkPage(page, 'personnel-planning-liste');
});

test('creates a session, told first of a wrong field next to it', async () => {
  const { json } = await server.api('GET', '/admin/trainings', { token });
  const training = json.trainings.find((t) => t.code === 'COM-01');
  await go('/personnel/sessions/nouvelle');
  await page.getByLabel('Formation').selectOption(training.id);
  await page.getByLabel('Premier jour').fill('2026-12-10');
  await page.getByLabel('Dernier jour').fill('2026-12-10');
  await page.getByLabel('Horaires de chaque jour').fill('18:00-09:00');
  await page.getByLabel('Lieu').fill('École militaire, salle Foch');
  await page.getByLabel('Nombre de places').fill('3');
  await page.getByLabel('Clôture des inscriptions').fill('2026-12-08T18:00');
  await page.getByLabel('Désistement sans pénalité jusqu’au').fill('2026-12-05T18:00');
  await page.getByRole('button', { name: 'Planifier la session' }).click();
  const hours = page.getByLabel('Horaires de chaque jour');
  const error = page.locator('[data-field="daily_hours"] .fr-message--error');
  await error.waitFor();
  assert.equal(await hours.getAttribute('aria-invalid'), 'true');
  assert.ok(await hours.evaluate((el) => el === document.activeElement), 'focus goes to the wrong field');
  assert.ok((await hours.getAttribute('aria-describedby')).includes(await error.evaluate((e) => e.parentElement.id)));
  await checkPage(page, 'personnel-session-nouvelle-erreur');
  await hours.fill('09:00-12:30');
  await page.getByRole('button', { name: 'Planifier la session' }).click();
  await page.waitForURL(/\/personnel\/sessions\/[0-9A-Z]{26}\?creee=1$/);
  created = new URL(page.url()).pathname.split('/').pop();
  await waitReady(page, `/personnel/sessions/${created}`);
  await message().getByText('Session planifiée').waitFor();
  const s = (await server.api('GET', `/admin/sessions/${created}`, { token })).json;
  assert.equal(s.capacity, 3);
  assert.equal(s.daily_hours, '09:00-12:30');
  assert.equal(s.place, 'École militaire, salle Foch');
  assert.equal(s.training.code, 'COM-01');
  assert.equal(s.enrolment_closes_at, '2026-12-08T18:00:00+01:00');
});

test('edits the session it planned', async () => {
  await page.getByRole('link', { name: 'Modifier la session' }).click();
  await waitReady(page, `/personnel/sessions/${created}/modifier`);
  assert.equal(await page.getByLabel('Horaires de chaque jour').inputValue(), '09:00-12:30');
  assert.equal(await page.getByLabel('Clôture des inscriptions').inputValue(), '2026-12-08T18:00');
  await page.getByLabel('Lieu').fill('École militaire, amphithéâtre Lyautey');
  await page.getByRole('button', { name: 'Enregistrer les modifications' }).click();
  await page.waitForURL(/modifiee=1$/);
  await message().getByText('Session modifiée').waitFor();
  const s = (await server.api('GET', `/admin/sessions/${created}`, { token })).json;
  assert.equal(s.place, 'École militaire, amphithéâtre Lyautey');
  assert.equal(s.daily_hours, '09:00-12:30');
  assert.equal(s.enrolment_closes_at, '2026-12-08T18:00:00+01:00');
});

test('enrols an officer on their behalf, then marks attendance once the session has started', async () => {
  const { json } = await server.api('GET', '/admin/officers', { token });
  const officer = json.officers.find((o) => o.email === OFFICER);
  await page.getByLabel('Officier', { exact: true }).selectOption(officer.id);
  await page.getByRole('button', { name: 'Inscrire', exact: true }).click();
  await message().getByText('Inscription enregistrée').waitFor();
  let roster = (await server.api('GET', `/admin/sessions/${created}/roster`, { token })).json.roster;
  assert.deepEqual(roster.map((l) => [l.officer.email, l.status, l.origin]), [[OFFICER, 'confirmed', 'staff']]);

  await server.api('POST', '/dev/clock', { body: { now: '2026-12-10T10:00:00+01:00' } });
  await go(`/personnel/sessions/${created}`);
  const presence = page.getByLabel(`Présence de ${officer.grade} ${officer.first_name} ${officer.last_name}`);
  await presence.selectOption('attended');
  await message().getByText('Présence enregistrée').waitFor();
  roster = (await server.api('GET', `/admin/sessions/${created}/roster`, { token })).json.roster;
  assert.equal(roster[0].status, 'attended');
  assert.equal(await page.getByLabel(`Présence de ${officer.grade} ${officer.first_name} ${officer.last_name}`).inputValue(), 'attended');
  await checkPage(page, 'personnel-session-presences');
});

test('the session and officer pages list the notifications sent, with their delivery', async () => {
  await go(`/personnel/sessions/${created}`);
  const sent = page.getByRole('table', { name: 'Notifications de la session' });
  await sent.waitFor();
  const { json } = await server.api('GET', `/admin/sessions/${created}/notifications`, { token });
  assert.ok(json.count >= 1, 'the enrolment by staff was told');
  assert.equal(await sent.locator('tbody tr').count(), json.count);
  assert.match(await sent.textContent(), /Inscription confirmée/);
  assert.match(await sent.textContent(), /Envoyé/);
  await checkPage(page, 'personnel-session-notifications');

  const officer = json.notifications[0].officer_id;
  await sent.getByRole('link').first().click();
  await waitReady(page, `/personnel/officiers/${officer}`);
  const mine = page.getByRole('table', { name: 'Notifications de l’officier' });
  await mine.waitFor();
  const { json: theirs } = await server.api('GET', `/admin/officers/${officer}/notifications`, { token });
  assert.equal(await mine.locator('tbody tr').count(), theirs.count);
  await checkPage(page, 'personnel-officier-notifications');
  // Back where the next test expects the page.
  await go(`/personnel/sessions/${created}`);
});

test('exports the roster as CSV, or says that the export is not available yet', async () => {
  const csv = await server.api('GET', `/admin/sessions/${created}/roster`, { token, accept: 'text/csv' });
  const isCsv = csv.status === 200 && (csv.headers.get('content-type') || '').includes('text/csv');
  const exportButton = page.getByRole('button', { name: 'Exporter la liste (CSV)' });
  if (isCsv) {
    const [download] = await Promise.all([page.waitForEvent('download'), exportButton.click()]);
    // The file as saved, byte for byte: a UTF-8 BOM for French Excel, then the API's CSV (whose
    // decoded text has the BOM stripped by the fetch API), `;` separators and CRLF line ends.
    const raw = readFileSync(await download.path());
    assert.deepEqual([...raw.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    const text = raw.subarray(3).toString('utf8');
    assert.equal(text, csv.text.replace(/^\uFEFF/, ''));
    assert.match(text, /^Session;Nom;Prénom;/);
    assert.match(text, /\r\n$/);
    assert.match(text, /Kerjean/i);
    await page.getByText('Export téléchargé').waitFor();
  } else {
    await exportButton.click();
    await page.getByText('Export CSV pas encore disponible').waitFor();
  }
  await assertAccessible(page, 'personnel-session-export');
});

test('trainings, officers and statistics pages', async () => {
  await go('/personnel/formations');
  assert.match(await page.locator('table').textContent(), /COM-01/);
  await checkPage(page, 'personnel-formations');
  await page.getByRole('link', { name: 'COM-01', exact: true }).click();
  await waitReady(page, page.url().replace(server.url, ''));
  assert.equal(await page.getByLabel('Code').inputValue(), 'COM-01');
  await checkPage(page, 'personnel-formation');
  await go('/personnel/officiers?q=kerjean');
  await page.getByRole('link', { name: /KERJEAN Hervé/ }).click();
  await page.getByRole('heading', { name: 'Inscriptions' }).waitFor();
  const officerId = new URL(page.url()).pathname.split('/').pop();
  const { json: catalogue } = await server.api('GET', '/admin/trainings', { token });
  const training = catalogue.trainings.find((t) => t.code === 'FIN-01');
  await page.getByLabel('Formation').selectOption(training.id);
  await page.getByLabel('Nature').selectOption('required');
  await page.getByRole('button', { name: 'Ajouter au programme' }).click();
  await page.locator('#message-officier').getByText('Programme mis à jour').waitFor();
  const { json: detail } = await server.api('GET', `/admin/officers/${officerId}`, { token });
  assert.deepEqual(detail.programme.items.map((i) => [i.training.code, i.kind]), [['FIN-01', 'required']]);
  await checkPage(page, 'personnel-officier');
  await go('/personnel/statistiques');
  assert.equal(await page.locator('svg.cassiopee-chart').count(), 4);
  await checkPage(page, 'personnel-statistiques');
});

// A chart's data table sits in a closed <details>: found by its place, not by its role.
const figureTable = (title) => page.locator(`figure[data-chart="${title}"] table`);
const rowsOf = async (locator) => locator.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
const stats = async (query) => (await server.api('GET', `/admin/statistics?${query}`, { token })).json;

test('statistics show the API’s figures, in its French renderings, for the whole history', async () => {
  await go('/personnel/statistiques');
  const month = await stats('group=month');
  const withRate = month.rows.filter((r) => r.fill_rate_permille !== null);
  assert.ok(withRate.length > 3, 'the demo data has past months');
  assert.deepEqual(await rowsOf(figureTable('Taux de remplissage par mois')), withRate.map((r) => [r.label, r.display.fill_rate]));
  const theme = await stats('group=theme');
  assert.deepEqual(await rowsOf(figureTable('Taux de remplissage par thème')), theme.rows.filter((r) => r.fill_rate_permille !== null).map((r) => [r.label, r.display.fill_rate]));
  const training = await stats('group=training');
  const costs = training.rows.filter((r) => r.cost_per_present !== null);
  assert.deepEqual(await rowsOf(figureTable('Coût par participant présent')), costs.map((r) => [r.key, r.display.cost_per_present]));
  assert.deepEqual(await rowsOf(figureTable('Assiduité par formation')), training.rows.filter((r) => r.attendance_permille !== null).map((r) => [r.key, r.display.attendance]));
  // The detail by training ends with the period's total row, as the API gives it.
  const detail = await rowsOf(page.getByRole('table', { name: 'Statistiques par formation, avec le total de la période' }));
  assert.equal(detail.length, training.rows.length + 1);
  const t = training.total;
  assert.deepEqual(detail.at(-1), ['Total', String(t.figures.sessions), String(t.figures.capacity), String(t.figures.confirmed_at_start),
    t.display.fill_rate, String(t.figures.attended), String(t.figures.absent), String(t.figures.excused), t.display.attendance, t.display.cost, t.display.cost_per_present || '–']);
  const late = await rowsOf(page.getByRole('table', { name: 'Désistements et places perdues par formation' }));
  assert.deepEqual(late.at(-1), ['Total', String(t.figures.on_time_withdrawals), String(t.figures.late_withdrawals), String(t.figures.seats_lost_late)]);
  const waiting = await rowsOf(page.getByRole('table', { name: 'Demande en liste d’attente par formation' }));
  assert.deepEqual(waiting.at(-1), ['Total', String(t.figures.waiting_peak), String(t.figures.waiting_never_served)]);
});

test('statistics for a period, with its error next to the field, and its exports', async () => {
  await go('/personnel/statistiques');
  await page.locator('#statistiques-du').fill('2026-06-30');
  await page.locator('#statistiques-au').fill('2026-03-01');
  await page.getByRole('button', { name: 'Afficher' }).click();
  const error = page.locator('[data-field="to"] .fr-message--error');
  await error.waitFor();
  const problem = await server.api('GET', '/admin/statistics?from=2026-06-30&to=2026-03-01', { token });
  assert.equal(problem.status, 422);
  assert.equal(await error.textContent(), problem.json.detail);
  assert.match(problem.json.detail, /postérieure/);
  const to = page.getByLabel(/^Au/);
  assert.equal(await to.getAttribute('aria-invalid'), 'true');
  assert.ok(await to.evaluate((el) => el === document.activeElement), 'focus goes to the wrong field');
  await checkPage(page, 'personnel-statistiques-erreur');

  // A malformed day typed in the address: the API's field message, next to "Du".
  await go('/personnel/statistiques?du=2026-13-01');
  const fromError = page.locator('[data-field="from"] .fr-message--error');
  await fromError.waitFor();
  const bad = await server.api('GET', '/admin/statistics?from=2026-13-01', { token });
  assert.equal(await fromError.textContent(), bad.json.errors[0].detail);

  await go('/personnel/statistiques');
  await page.getByLabel(/^Du/).fill('2026-03-01');
  await page.getByLabel(/^Au/).fill('2026-06-30');
  await page.getByLabel('Regroupement du détail et des exports').selectOption('theme');
  await page.getByRole('button', { name: 'Afficher' }).click();
  await page.waitForURL(/du=2026-03-01&au=2026-06-30&regroupement=theme$/);
  await page.getByRole('table', { name: 'Statistiques par thème, avec le total de la période' }).waitFor();
  const month = await stats('group=month&from=2026-03-01&to=2026-06-30');
  assert.deepEqual(month.rows.map((r) => r.key), ['2026-03', '2026-04', '2026-05', '2026-06']);
  assert.deepEqual(await rowsOf(figureTable('Taux de remplissage par mois')), month.rows.map((r) => [r.label, r.display.fill_rate]));
  const theme = await stats('group=theme&from=2026-03-01&to=2026-06-30');
  const detail = await rowsOf(page.getByRole('table', { name: 'Statistiques par thème, avec le total de la période' }));
  assert.deepEqual(detail.map((r) => [r[0], r[4], r[9]]), [...theme.rows, theme.total].map((r) => [r.label, r.display.fill_rate, r.display.cost]));
  await checkPage(page, 'personnel-statistiques-periode');

  const query = '/admin/statistics?group=theme&from=2026-03-01&to=2026-06-30';
  const csv = await server.api('GET', query, { token, accept: 'text/csv' });
  assert.equal(csv.status, 200);
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Exporter (CSV)' }).click()]);
  assert.equal(file.suggestedFilename(), 'statistiques-theme-2026-03-01_2026-06-30.csv');
  const raw = readFileSync(await file.path());
  assert.deepEqual([...raw.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  assert.equal(raw.subarray(3).toString('utf8'), csv.text.replace(/^\uFEFF/, ''));
  assert.match(csv.text, /Regroupement;Clé;Libellé;/);
  await page.getByText('Export téléchargé').waitFor();
  const [xlsx] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Exporter (Excel)' }).click()]);
  assert.equal(xlsx.suggestedFilename(), 'statistiques-theme-2026-03-01_2026-06-30.xlsx');
  assert.equal(readFileSync(await xlsx.path()).subarray(0, 2).toString('latin1'), 'PK', 'an XLSX file is a zip');
});

test('a past session shows its feedback: averages, the spread of scores and the comments', async () => {
  const officerToken = await server.token(OFFICER);
  const { json } = await server.api('GET', '/me/enrolments?when=past', { token: officerToken });
  const attended = json.enrolments.find((e) => e.feedback === 'requested');
  const given = await server.api('POST', `/me/enrolments/${attended.session.id}/feedback`, {
    token: officerToken, body: { rating: 5, relevance: 4, comment: 'Formateur disponible, exemples concrets.' },
  });
  assert.equal(given.status, 201);
  await go(`/personnel/sessions/${attended.session.id}`);
  const { json: report } = await server.api('GET', `/admin/sessions/${attended.session.id}/feedback`, { token });
  await page.getByRole('heading', { name: `Avis des participants (${report.answers})` }).waitFor();
  assert.match(await page.locator('#page').textContent(), new RegExp(`1 avis sur ${report.attended} présent\\(s\\)\\. Note moyenne : 5,00 / 5 ; intérêt pour le projet professionnel : 4,00 / 5\\.`));
  const comments = await rowsOf(page.getByRole('table', { name: 'Avis et commentaires des participants' }));
  assert.deepEqual(comments.map((r) => r.slice(1, 4)), [['5 / 5', '4 / 5', 'Formateur disponible, exemples concrets.']]);
  await checkPage(page, 'personnel-session-avis');
});

test('imports a spreadsheet with a per-row report and its progress', async () => {
  await go('/personnel/imports');
  await page.setInputFiles('#fichier-trainings', join(demoData, 'catalogue.csv'));
  await page.getByRole('button', { name: 'Importer' }).click();
  await page.getByText('Import terminé : 1 fichier(s) traité(s).').waitFor();
  assert.equal(await page.locator('#progression-import').evaluate((p) => p.value), 1);
  const expected = readFileSync(join(demoData, 'catalogue.csv'), 'utf8').trim().split('\n').length - 1;
  assert.match(await page.locator('#rapports').textContent(), new RegExp(`${expected} inchangé\\(s\\)`));
  await checkPage(page, 'personnel-imports');
});

test('reorders a waiting list with a reason, then cancels the session after confirming', async () => {
  await server.api('POST', '/dev/clock', { body: { now: '2026-12-01T10:00:00+01:00' } });
  const { json: catalogue } = await server.api('GET', '/admin/trainings', { token });
  const training = catalogue.trainings.find((t) => t.code === 'DRT-01');
  const s = (await server.api('POST', '/admin/sessions', {
    token,
    body: {
      training_id: training.id, first_day: '2027-02-01', last_day: '2027-02-01', daily_hours: '09:00-12:00',
      place: 'Visioconférence', capacity: 1, enrolment_closes_at: '2027-01-25', free_withdrawal_until: '2027-01-20',
    },
  })).json;
  const { json } = await server.api('GET', '/admin/officers', { token });
  const three = json.officers.slice(0, 3);
  for (const o of three) {
    const r = await server.api('POST', `/admin/sessions/${s.id}/enrolments`, { token, body: { officer_id: o.id } });
    assert.equal(r.status, 201);
  }
  await go(`/personnel/sessions/${s.id}`);
  const second = three[2];
  await page.getByLabel('Motif du changement d’ordre').fill('Priorité de reconversion');
  await page.getByRole('button', { name: `Monter ${second.grade} ${second.first_name} ${second.last_name} en position 1` }).click();
  await message().getByText('Liste d’attente réordonnée').waitFor();
  const roster = (await server.api('GET', `/admin/sessions/${s.id}/roster`, { token })).json.roster;
  const waiting = roster.filter((l) => l.status === 'waitlisted').sort((a, b) => a.position - b.position);
  assert.deepEqual(waiting.map((l) => l.officer.id), [three[2].id, three[1].id]);
  await checkPage(page, 'personnel-session-attente');

  // Withdrawing the one seated officer on their behalf seats the first one waiting.
  const seated = three[0];
  await page.getByRole('button', { name: `Désinscrire ${seated.grade} ${seated.first_name} ${seated.last_name}` }).click();
  const confirm = await openedDialog(page, `Désinscrire ${seated.grade} ${seated.first_name} ${seated.last_name}`);
  assert.match(await confirm.textContent(), /dans le délai sans pénalité/);
  await confirm.getByRole('button', { name: 'Désinscrire' }).click();
  await message().getByText('Désinscription enregistrée').waitFor();
  const after = (await server.api('GET', `/admin/sessions/${s.id}/roster`, { token })).json.roster;
  assert.equal(after.find((l) => l.officer.id === seated.id).status, 'withdrawn');
  assert.equal(after.find((l) => l.officer.id === three[2].id).status, 'confirmed');

  await page.getByRole('button', { name: 'Annuler la session' }).click();
  const dialog = await openedDialog(page, `Annuler la session ${s.reference}`);
  assert.match(await dialog.textContent(), /Les 2 personne\(s\) inscrites ou en attente/);
  await assertAccessible(page, 'personnel-annulation-dialogue');
  await dialog.getByRole('button', { name: 'Annuler la session' }).click();
  await message().getByText('Session annulée').waitFor();
  assert.equal((await server.api('GET', `/admin/sessions/${s.id}`, { token })).json.status, 'cancelled');
});

test('the session and officer pages show the audit log, and staff export then erase an officer', async () => {
  await go(`/personnel/sessions/${created}`);
  const log = page.getByRole('table', { name: 'Journal des modifications de la session' });
  await log.waitFor();
  const { json } = await server.api('GET', `/admin/sessions/${created}/audit`, { token });
  assert.ok(json.count >= 3, 'planned, edited, an enrolment by staff');
  assert.equal(await log.locator('tbody tr').count(), json.count);
  const text = await log.textContent();
  assert.match(text, /Session planifiée/);
  assert.match(text, /Session modifiée/);
  assert.match(text, /Inscription : /);
  assert.match(text, /Vidal/i, 'the author by name');
  assert.doesNotMatch(text, /training_id|scheduled/, 'fields and values in French');
  await checkPage(page, 'personnel-session-journal');

  // An officer nobody else's test uses.
  const { json: list } = await server.api('GET', '/admin/officers', { token });
  const o = list.officers.find((x) => x.email !== OFFICER && !x.email.startsWith('herve'));
  await go(`/personnel/officiers/${o.id}`);
  await page.getByRole('table', { name: 'Journal des modifications de l’officier' }).waitFor();
  const [file] = await Promise.all([page.waitForEvent('download'),
    page.getByRole('button', { name: 'Exporter ses données (JSON)' }).click()]);
  const data = JSON.parse(readFileSync(await file.path(), 'utf8'));
  assert.equal(data.officer.id, o.id);
  await page.getByText('Export téléchargé').waitFor();

  // A reason is required, then the dialog asks before anything happens.
  await page.getByRole('button', { name: 'Effacer les données de l’officier' }).click();
  await page.locator('[data-field="reason"] .fr-message--error').waitFor();
  await page.getByLabel(/Motif de l’effacement/).fill('Demande écrite reçue le 2 décembre 2026');
  await page.getByRole('button', { name: 'Effacer les données de l’officier' }).click();
  const dialog = await openedDialog(page, `Effacer les données de ${o.grade} ${o.first_name} ${o.last_name} ?`);
  await assertAccessible(page, 'personnel-effacement-dialogue');
  await dialog.getByRole('button', { name: 'Effacer définitivement' }).click();
  await page.getByText('Données effacées').first().waitFor();
  const gone = await server.api('GET', `/admin/officers/${o.id}`, { token });
  assert.equal(gone.status, 404);
  await page.getByRole('link', { name: 'voir l’effacement' }).click();
  const journal = page.getByRole('table', { name: 'Journal de l’officier effacé' });
  await journal.waitFor();
  assert.match(await journal.textContent(), /Données effacées/);
  assert.match(await journal.textContent(), /Demande écrite reçue le 2 décembre 2026/);
  await checkPage(page, 'personnel-officier-efface');
});
