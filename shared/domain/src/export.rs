//! Exports for French Excel: CSV in UTF-8 with a byte-order mark (so that Excel reads the
//! accents), `;` between fields (the list separator of a French Windows), CRLF line ends and
//! RFC 4180 quoting (by the `csv` crate: a field holding `;`, `"`, CR or LF is quoted, its
//! quotes doubled). Times are Paris `dd/mm/yyyy HH:MM`, decimals use a comma.
//!
//! A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, TAB or CR as a formula
//! (CSV injection). Every cell goes through [`neutralise`], which puts an apostrophe in front
//! of such a cell in the file: Excel shows the text as typed and runs nothing. The stored
//! value is never changed.
//!
//! The same tables also export as XLSX ([`Table::to_xlsx`]), where every cell is a text cell:
//! nothing in it is ever a formula, so the text is written exactly as stored.

use crate::model::{EnrolmentStatus, Money, Officer, Staff};
use crate::ports::{RosterLine, StatisticsSnapshot};
use crate::time::{Instant, in_paris};
use crate::usecases::EnrolmentLine;
use std::borrow::Cow;

/// The first characters that make a spreadsheet read a cell as a formula.
pub const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The cell as written in the file: unchanged, or behind an apostrophe when it would run.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_TRIGGERS) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A table to export: a header line, then rows of cells as they should read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Self {
        Self {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// An XLSX workbook of one sheet named `sheet`: the header line in bold and frozen, every
    /// cell a text cell, columns fitted to their content.
    pub fn to_xlsx(&self, sheet: &str) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        use rust_xlsxwriter::{Format, Workbook};
        let mut book = Workbook::new();
        let bold = Format::new().set_bold();
        let ws = book.add_worksheet();
        ws.set_name(sheet_name(sheet))?;
        for (col, h) in self.headers.iter().enumerate() {
            ws.write_string_with_format(0, col as u16, h, &bold)?;
        }
        for (i, row) in self.rows.iter().enumerate() {
            for (col, cell) in row.iter().enumerate() {
                ws.write_string(i as u32 + 1, col as u16, cell)?;
            }
        }
        ws.set_freeze_panes(1, 0)?;
        ws.autofit();
        book.save_to_buffer()
    }

    /// The CSV file, as bytes (UTF-8, BOM first).
    pub fn to_csv(&self) -> Vec<u8> {
        let mut out = "\u{feff}".as_bytes().to_vec();
        let mut w = csv::WriterBuilder::new()
            .delimiter(b';')
            .terminator(csv::Terminator::CRLF)
            .quote_style(csv::QuoteStyle::Necessary)
            .flexible(true)
            .from_writer(&mut out);
        for record in std::iter::once(&self.headers).chain(&self.rows) {
            // Writing into a Vec cannot fail.
            let _ = w.write_record(record.iter().map(|c| neutralise(c).into_owned()));
        }
        let _ = w.flush();
        drop(w);
        out
    }
}

/// `03/12/2026 09:05`, in Paris.
pub fn paris_datetime(t: Instant) -> String {
    in_paris(t).format("%d/%m/%Y %H:%M").to_string()
}

/// `1234,50`: a number Excel reads in a French locale (the unit goes in the header).
pub fn money(m: Money) -> String {
    let sign = if m.cents() < 0 { "-" } else { "" };
    format!(
        "{sign}{},{:02}",
        (m.cents() / 100).abs(),
        (m.cents() % 100).abs()
    )
}

/// Per-mille as a percentage with one decimal: `667` → `66,7`.
pub fn percent(permille: Option<u32>) -> String {
    permille
        .map(|p| format!("{},{}", p / 10, p % 10))
        .unwrap_or_default()
}

/// Hundredths as a decimal: `433` → `4,33`.
pub fn hundredths(h: Option<u32>) -> String {
    h.map(|h| format!("{},{:02}", h / 100, h % 100))
        .unwrap_or_default()
}

/// `oui` / `non`.
pub fn yes_no(b: bool) -> String {
    if b { "oui" } else { "non" }.to_string()
}

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(31)
        .collect();
    if cleaned.trim().is_empty() {
        "Export".to_string()
    } else {
        cleaned
    }
}

/// A file name (without its extension) made only of letters, digits, `-` and `_`, whatever a
/// reference holds.
pub fn file_stem(stem: &str) -> String {
    stem.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The tables of each export.

/// A session's roster (émargement): one line per enrolment, in the roster's order.
pub fn roster_table(reference: &str, lines: &[RosterLine]) -> Table {
    let mut t = Table::new(&[
        "Session",
        "Nom",
        "Prénom",
        "Grade",
        "Armée / service",
        "Courriel",
        "Statut",
        "Rang sur la liste d'attente",
        "Désistement tardif",
        "Inscrit le",
        "Confirmé le",
        "Dernière modification",
    ]);
    for l in lines {
        let e = &l.enrolment;
        t.push(vec![
            reference.to_string(),
            l.officer.last_name.clone(),
            l.officer.first_name.clone(),
            l.officer.grade.clone(),
            l.officer.branch.clone(),
            l.officer.email.to_string(),
            e.status.label_fr().to_string(),
            l.position.map(|p| p.to_string()).unwrap_or_default(),
            yes_no(e.late && e.status == EnrolmentStatus::Withdrawn),
            paris_datetime(e.joined_at),
            e.confirmed_at.map(paris_datetime).unwrap_or_default(),
            paris_datetime(e.updated_at),
        ]);
    }
    t
}

/// The statistics, one line per row, then the total.
pub fn statistics_table(snapshot: &StatisticsSnapshot) -> Table {
    let mut t = Table::new(&[
        "Regroupement",
        "Clé",
        "Libellé",
        "Sessions",
        "Capacité",
        "Inscrits au début",
        "Taux de remplissage pondéré (%)",
        "Présents",
        "Absents",
        "Excusés",
        "Taux de présence (%)",
        "Désistements dans les délais",
        "Désistements tardifs",
        "Places perdues (désistements tardifs)",
        "Pic de liste d'attente",
        "Jamais servis (liste d'attente)",
        "Stagiaires facturés",
        "Coût (€)",
        "Coût par présent (€)",
        "Avis",
        "Note moyenne (sur 5)",
        "Intérêt pour le projet (sur 5)",
    ]);
    for r in snapshot.rows.iter().chain(snapshot.total.as_ref()) {
        let f = &r.figures;
        t.push(vec![
            r.scope.clone(),
            r.key.clone(),
            r.label.clone(),
            f.sessions.to_string(),
            f.capacity.to_string(),
            f.confirmed_at_start.to_string(),
            percent(r.fill_rate_permille),
            f.attended.to_string(),
            f.absent.to_string(),
            f.excused.to_string(),
            percent(r.attendance_permille),
            f.on_time_withdrawals.to_string(),
            f.late_withdrawals.to_string(),
            f.seats_lost_late.to_string(),
            f.waiting_peak.to_string(),
            f.waiting_never_served.to_string(),
            f.trainees_billed.to_string(),
            money(f.cost),
            r.cost_per_present.map(money).unwrap_or_default(),
            f.feedback_answers.to_string(),
            hundredths(r.rating_mean_hundredths),
            hundredths(r.relevance_mean_hundredths),
        ]);
    }
    t
}

/// Enrolments, one line each.
pub fn enrolments_table(lines: &[EnrolmentLine]) -> Table {
    let mut t = Table::new(&[
        "Session",
        "Début de la session",
        "Formation",
        "Intitulé",
        "Nom",
        "Prénom",
        "Courriel",
        "Statut",
        "Désistement tardif",
        "Origine",
        "Inscrit le",
        "Dernière modification",
    ]);
    for l in lines {
        let e = &l.enrolment;
        t.push(vec![
            l.session_reference.clone(),
            paris_datetime(l.session_starts_at),
            l.training_code.clone(),
            l.training_title.clone(),
            l.officer.last_name.clone(),
            l.officer.first_name.clone(),
            l.officer.email.to_string(),
            e.status.label_fr().to_string(),
            yes_no(e.late && e.status == EnrolmentStatus::Withdrawn),
            e.origin.as_str().to_string(),
            paris_datetime(e.joined_at),
            paris_datetime(e.updated_at),
        ]);
    }
    t
}

/// The officers followed, with their advisor's name.
pub fn officers_table(officers: &[Officer], staff: &[Staff]) -> Table {
    let mut t = Table::new(&[
        "Nom",
        "Prénom",
        "Grade",
        "Armée / service",
        "Courriel",
        "Téléphone",
        "Début d'accompagnement",
        "Fin d'accompagnement",
        "Conseiller MiRVOG",
    ]);
    for o in officers {
        let advisor = o
            .advisor_id
            .as_ref()
            .and_then(|id| staff.iter().find(|s| &s.id == id))
            .map(|s| format!("{} {}", s.first_name, s.last_name))
            .unwrap_or_default();
        t.push(vec![
            o.last_name.clone(),
            o.first_name.clone(),
            o.grade.clone(),
            o.branch.clone(),
            o.email.to_string(),
            o.phone.clone().unwrap_or_default(),
            o.accompaniment_start.format("%d/%m/%Y").to_string(),
            o.accompaniment_end.format("%d/%m/%Y").to_string(),
            advisor,
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn read_back(bytes: &[u8]) -> Vec<Vec<String>> {
        let text = std::str::from_utf8(bytes).expect("utf-8");
        let text = text.strip_prefix('\u{feff}').expect("BOM");
        csv::ReaderBuilder::new()
            .delimiter(b';')
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes())
            .records()
            .map(|r| r.expect("record").iter().map(str::to_string).collect())
            .collect()
    }

    #[test]
    fn the_file_has_a_bom_semicolons_crlf_and_rfc_4180_quoting() {
        let mut t = Table::new(&["Nom", "Commentaire"]);
        t.push(vec!["Lefèvre".into(), "a;b".into()]);
        t.push(vec!["O\"Neil".into(), "ligne 1\nligne 2".into()]);
        t.push(vec!["=1+1".into(), "-5".into()]);
        t.push(vec!["@SUM(A1)".into(), "\tx".into()]);
        t.push(vec!["\rcr".into(), "+33 1 23".into()]);
        assert_eq!(
            t.to_csv(),
            "\u{feff}Nom;Commentaire\r\n\
             Lefèvre;\"a;b\"\r\n\
             \"O\"\"Neil\";\"ligne 1\nligne 2\"\r\n\
             '=1+1;'-5\r\n\
             '@SUM(A1);'\tx\r\n\
             \"'\rcr\";'+33 1 23\r\n"
                .as_bytes()
        );
    }

    #[test]
    fn numbers_use_a_decimal_comma_and_times_are_paris_time() {
        assert_eq!(money(Money::from_cents(123_450)), "1234,50");
        assert_eq!(money(Money::from_cents(5)), "0,05");
        assert_eq!(percent(Some(667)), "66,7");
        assert_eq!(percent(None), "");
        assert_eq!(hundredths(Some(433)), "4,33");
        let t = crate::time::parse_instant("2026-07-01T09:05:00Z").expect("instant");
        assert_eq!(paris_datetime(t), "01/07/2026 11:05");
        assert_eq!(file_stem("émargement COM/02"), "_margement_COM_02");
        assert_eq!(sheet_name("a/b:c"), "a_b_c");
    }

    fn unzip(bytes: &[u8], name: &str) -> String {
        use std::io::Read;
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
        let mut text = String::new();
        archive
            .by_name(name)
            .expect("part")
            .read_to_string(&mut text)
            .expect("read");
        text
    }

    #[test]
    fn the_workbook_holds_text_cells_only_written_as_stored() {
        let mut t = Table::new(&["Nom", "Téléphone"]);
        t.push(vec!["=SOMME(A1;A2)".into(), "+33 1 23 45 67 89".into()]);
        let bytes = t.to_xlsx("Émargement").expect("xlsx");
        assert_eq!(&bytes[..4], b"PK\x03\x04");
        let sheet = unzip(&bytes, "xl/worksheets/sheet1.xml");
        assert!(!sheet.contains("<f>"), "no formula: {sheet}");
        assert_eq!(
            sheet.matches("t=\"s\"").count(),
            4,
            "four text cells: {sheet}"
        );
        let strings = unzip(&bytes, "xl/sharedStrings.xml");
        assert!(strings.contains("<t>=SOMME(A1;A2)</t>"), "{strings}");
        assert!(strings.contains("<t>+33 1 23 45 67 89</t>"), "{strings}");
        assert!(unzip(&bytes, "xl/workbook.xml").contains("name=\"Émargement\""));
    }

    proptest! {
        #[test]
        fn no_exported_cell_starts_with_a_formula_trigger_and_other_cells_round_trip(
            cells in proptest::collection::vec(
                proptest::collection::vec(any::<String>(), 1..4), 1..5)
        ) {
            let width = cells.iter().map(Vec::len).max().unwrap_or(1);
            let mut t = Table::new(&vec!["h"; width]);
            for row in &cells {
                t.push(row.clone());
            }
            let back = read_back(&t.to_csv());
            prop_assert_eq!(back.len(), cells.len() + 1);
            for (written, typed) in back[1..].iter().zip(&cells) {
                prop_assert_eq!(written.len(), typed.len());
                for (w, v) in written.iter().zip(typed) {
                    prop_assert!(!w.starts_with(FORMULA_TRIGGERS), "{:?}", w);
                    if v.starts_with(FORMULA_TRIGGERS) {
                        prop_assert_eq!(w, &format!("'{v}"));
                    } else {
                        prop_assert_eq!(w, v);
                    }
                }
            }
        }
    }
}
