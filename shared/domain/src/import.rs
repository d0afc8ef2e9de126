//! Spreadsheet import: turns the CSV files that MiRVOG staff keep today into typed rows.
//!
//! The files are `;`-separated, usually UTF-8 with a byte-order mark, sometimes Windows-1252;
//! dates are French (`29/12/2025`), amounts are written `4 800`, daily hours `09:00-17:30`.
//! Columns are found by their header name, whatever their order, and extra columns are ignored.
//!
//! Parsing never writes anything and never stops at a bad row: every row is either kept, with
//! its physical line number (the header is line 1), or rejected with a French reason naming the
//! column and the value at fault. Only a problem with the whole file (empty, binary, a required
//! column missing) is a [`FileError`]. Cross-file checks (does this session's training exist?)
//! are the caller's, who applies the rows.

use crate::model::{Email, EnrolmentStatus, Modality, Money, StaffRole};
use crate::time::{DailyHours, parse_date};
use chrono::NaiveDate;
use csv::StringRecord;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::Hash;

/// Longest text accepted in a cell, in characters.
pub const MAX_CELL_CHARS: usize = 300;
/// Most seats a session may have, and most people a group may hold.
pub const MAX_SEATS: u32 = 1000;
/// Longest training, in days.
pub const MAX_LENGTH_DAYS: u32 = 365;
/// Longest accompaniment, in months.
pub const MAX_ACCOMPANIMENT_MONTHS: u32 = 120;
/// How much of a bad value is quoted back in a message, in characters.
const SHOWN_CHARS: usize = 40;
/// A file with more than one control character (CR, LF and TAB aside) in this many characters
/// is taken as binary: 20 is 5 %, where random bytes give about 13 %.
const CHARS_PER_CONTROL: usize = 20;

/// The spreadsheets that can be imported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportKind {
    Officers,
    Staff,
    Trainings,
    Sessions,
    Enrolments,
}

impl ImportKind {
    pub const ALL: [ImportKind; 5] = [
        ImportKind::Officers,
        ImportKind::Staff,
        ImportKind::Trainings,
        ImportKind::Sessions,
        ImportKind::Enrolments,
    ];

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "officers" => ImportKind::Officers,
            "staff" => ImportKind::Staff,
            "trainings" => ImportKind::Trainings,
            "sessions" => ImportKind::Sessions,
            "enrolments" => ImportKind::Enrolments,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::Officers => "officers",
            ImportKind::Staff => "staff",
            ImportKind::Trainings => "trainings",
            ImportKind::Sessions => "sessions",
            ImportKind::Enrolments => "enrolments",
        }
    }

    /// The columns of this spreadsheet, in the order MiRVOG files have them: what a blank
    /// template would hold.
    pub fn columns(self) -> &'static [Column] {
        match self {
            ImportKind::Officers => OFFICER_COLUMNS,
            ImportKind::Staff => STAFF_COLUMNS,
            ImportKind::Trainings => TRAINING_COLUMNS,
            ImportKind::Sessions => SESSION_COLUMNS,
            ImportKind::Enrolments => ENROLMENT_COLUMNS,
        }
    }
}

/// A column of a spreadsheet: its French header, and whether the file must have it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub required: bool,
}

const fn required(name: &'static str) -> Column {
    Column {
        name,
        required: true,
    }
}

const fn optional(name: &'static str) -> Column {
    Column {
        name,
        required: false,
    }
}

// Header names, exactly as the MiRVOG files write them.
const LAST_NAME: &str = "Nom";
const FIRST_NAME: &str = "Prénom";
const GRADE: &str = "Grade";
const BRANCH: &str = "Armée / service";
const EMAIL: &str = "Courriel";
const PHONE: &str = "Téléphone";
const ACCOMPANIMENT_START: &str = "Début d'accompagnement";
const ACCOMPANIMENT_END: &str = "Fin d'accompagnement";
const DURATION_MONTHS: &str = "Durée (mois)";
const ADVISOR: &str = "Conseiller MiRVOG";
const FUNCTION: &str = "Fonction";
const ROLE: &str = "Rôle";
const CODE: &str = "Code";
const TITLE: &str = "Intitulé";
const THEME: &str = "Thème";
const MODALITY: &str = "Modalité";
const LENGTH_DAYS: &str = "Durée (jours)";
const PROVIDER: &str = "Organisme";
const SESSION_COST: &str = "Coût session (€)";
const TRAINEE_COST: &str = "Coût par stagiaire (€)";
const MIN_GROUP: &str = "Effectif min";
const MAX_GROUP: &str = "Effectif max";
const REFERENCE: &str = "Réf. session";
const TRAINING_CODE: &str = "Code formation";
const FIRST_DAY: &str = "Date de début";
const LAST_DAY: &str = "Date de fin";
const HOURS: &str = "Horaires";
const PLACE: &str = "Lieu";
const CAPACITY: &str = "Places";
const ENROLMENT_CLOSE: &str = "Clôture des inscriptions";
const FREE_WITHDRAWAL: &str = "Désistement sans frais jusqu'au";
const TRAINER: &str = "Formateur";
const STATUS: &str = "Statut";
const ENROLLED_ON: &str = "Inscrit le";

const OFFICER_COLUMNS: &[Column] = &[
    required(LAST_NAME),
    required(FIRST_NAME),
    required(GRADE),
    required(BRANCH),
    required(EMAIL),
    optional(PHONE),
    required(ACCOMPANIMENT_START),
    required(ACCOMPANIMENT_END),
    optional(DURATION_MONTHS),
    optional(ADVISOR),
];

const STAFF_COLUMNS: &[Column] = &[
    required(LAST_NAME),
    required(FIRST_NAME),
    required(FUNCTION),
    required(EMAIL),
    required(ROLE),
];

const TRAINING_COLUMNS: &[Column] = &[
    required(CODE),
    required(TITLE),
    required(THEME),
    required(MODALITY),
    required(LENGTH_DAYS),
    required(PROVIDER),
    required(SESSION_COST),
    required(TRAINEE_COST),
    required(MIN_GROUP),
    required(MAX_GROUP),
];

const SESSION_COLUMNS: &[Column] = &[
    required(REFERENCE),
    required(TRAINING_CODE),
    required(FIRST_DAY),
    required(LAST_DAY),
    required(HOURS),
    required(PLACE),
    required(CAPACITY),
    required(ENROLMENT_CLOSE),
    required(FREE_WITHDRAWAL),
    optional(TRAINER),
];

const ENROLMENT_COLUMNS: &[Column] = &[
    required(EMAIL),
    required(REFERENCE),
    required(STATUS),
    required(ENROLLED_ON),
];

/// One rejected row: physical line number in the file (header = line 1) and a French reason.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RejectedRow {
    pub line: usize,
    pub reason: String,
}

/// The good rows with their line numbers, and the rejected ones.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed<T> {
    pub rows: Vec<(usize, T)>,
    pub rejected: Vec<RejectedRow>,
}

/// A problem with the whole file (nothing can be imported). Display = French message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("Le fichier est vide : il ne contient même pas de ligne d'en-tête.")]
    Empty,
    #[error(
        "Le fichier n'est pas un texte CSV (contenu binaire) : enregistrez-le depuis le tableur \
         au format « CSV (séparateur : point-virgule) »."
    )]
    NotText,
    #[error("{}", missing_columns_message(.0))]
    MissingColumns(Vec<String>),
    #[error("Le fichier CSV est illisible : {0}")]
    Malformed(String),
    #[error(
        "Les colonnes sont séparées par « {} » : enregistrez le fichier au format « CSV \
         (séparateur : point-virgule) ».",
        separator_name(*.0)
    )]
    WrongSeparator(char),
}

fn separator_name(c: char) -> String {
    match c {
        '\t' => "tabulation".to_string(),
        other => other.to_string(),
    }
}

fn missing_columns_message(names: &[String]) -> String {
    let label = if names.len() > 1 {
        "Colonnes manquantes"
    } else {
        "Colonne manquante"
    };
    format!("{label} : {}", names.join(", "))
}

/// Decodes a spreadsheet export: strips a byte-order mark, reads UTF-8, and falls back to
/// Windows-1252 (what French Excel writes by default) when the bytes are not valid UTF-8.
/// UTF-16 with a byte-order mark is read too. Refuses empty files and binary ones.
pub fn decode(bytes: &[u8]) -> Result<String, FileError> {
    let text = match encoding_rs::Encoding::for_bom(bytes) {
        Some((encoding, bom_len)) => {
            let rest = bytes.get(bom_len..).unwrap_or_default();
            let (text, had_errors) = encoding.decode_without_bom_handling(rest);
            if !had_errors {
                text.into_owned()
            } else if encoding == encoding_rs::UTF_8 {
                windows_1252(rest)
            } else {
                return Err(FileError::NotText);
            }
        }
        None => match std::str::from_utf8(bytes) {
            Ok(text) => text.to_owned(),
            Err(_) => windows_1252(bytes),
        },
    };
    if text.trim().is_empty() {
        return Err(FileError::Empty);
    }
    if looks_binary(&text) {
        return Err(FileError::NotText);
    }
    Ok(text)
}

fn windows_1252(bytes: &[u8]) -> String {
    encoding_rs::WINDOWS_1252
        .decode_without_bom_handling(bytes)
        .0
        .into_owned()
}

/// A NUL anywhere, or more than a few control characters (line ends and tabs aside).
fn looks_binary(text: &str) -> bool {
    let mut total = 0usize;
    let mut control = 0usize;
    for c in text.chars() {
        if c == '\0' {
            return true;
        }
        total += 1;
        if c.is_control() && !matches!(c, '\r' | '\n' | '\t') {
            control += 1;
        }
    }
    control * CHARS_PER_CONTROL > total
}

/// An officer in transition, as `officiers.csv` lists them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfficerRow {
    pub last_name: String,
    pub first_name: String,
    pub grade: String,
    pub branch: String,
    pub email: Email,
    pub phone: Option<String>,
    pub accompaniment_start: NaiveDate,
    pub accompaniment_end: NaiveDate,
    pub duration_months: Option<u32>,
    /// As written in the file, e.g. `C. Morvan`: the caller matches it against the staff.
    pub advisor: Option<String>,
}

/// A MiRVOG staff member, as `personnel.csv` lists them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffRow {
    pub last_name: String,
    pub first_name: String,
    pub function: String,
    pub email: Email,
    pub role: StaffRole,
}

/// A training of the catalogue, as `catalogue.csv` lists them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrainingRow {
    /// Trimmed and upper-cased.
    pub code: String,
    pub title: String,
    pub theme: String,
    pub modality: Modality,
    pub length_days: u32,
    pub provider: String,
    pub session_cost: Money,
    pub trainee_cost: Money,
    pub min_group: u32,
    pub max_group: u32,
}

/// A dated session, as `sessions.csv` lists them. Days are Paris calendar days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    /// Trimmed and upper-cased.
    pub reference: String,
    /// Trimmed and upper-cased.
    pub training_code: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub hours: DailyHours,
    pub place: String,
    pub capacity: u32,
    pub enrolment_close_day: NaiveDate,
    pub free_withdrawal_day: NaiveDate,
    pub trainer: Option<String>,
}

/// An officer's enrolment in a session, as `inscriptions.csv` lists them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrolmentRow {
    pub email: Email,
    /// Trimmed and upper-cased.
    pub session_reference: String,
    pub status: EnrolmentStatus,
    /// For a withdrawal: `désisté tardif`, after the free-withdrawal cut-off.
    pub late: bool,
    pub enrolled_on: NaiveDate,
}

/// Reads `officiers.csv`. An e-mail seen twice rejects the later line.
pub fn parse_officers(bytes: &[u8]) -> Result<Parsed<OfficerRow>, FileError> {
    parse_rows(bytes, ImportKind::Officers, read_officer, |row| {
        (
            row.email.clone(),
            format!("Le courriel « {} »", shown(row.email.as_str())),
        )
    })
}

/// Reads `personnel.csv`. An e-mail seen twice rejects the later line.
pub fn parse_staff(bytes: &[u8]) -> Result<Parsed<StaffRow>, FileError> {
    parse_rows(bytes, ImportKind::Staff, read_staff, |row| {
        (
            row.email.clone(),
            format!("Le courriel « {} »", shown(row.email.as_str())),
        )
    })
}

/// Reads `catalogue.csv`. A code seen twice rejects the later line.
pub fn parse_trainings(bytes: &[u8]) -> Result<Parsed<TrainingRow>, FileError> {
    parse_rows(bytes, ImportKind::Trainings, read_training, |row| {
        (
            row.code.clone(),
            format!("Le code « {} »", shown(&row.code)),
        )
    })
}

/// Reads `sessions.csv`. A reference seen twice rejects the later line. Whether the training
/// code exists is left to the caller.
pub fn parse_sessions(bytes: &[u8]) -> Result<Parsed<SessionRow>, FileError> {
    parse_rows(bytes, ImportKind::Sessions, read_session, |row| {
        (
            row.reference.clone(),
            format!("La référence « {} »", shown(&row.reference)),
        )
    })
}

/// Reads `inscriptions.csv`. The same officer twice in the same session rejects the later line.
/// Whether the officer and the session exist is left to the caller.
pub fn parse_enrolments(bytes: &[u8]) -> Result<Parsed<EnrolmentRow>, FileError> {
    parse_rows(bytes, ImportKind::Enrolments, read_enrolment, |row| {
        let key = (row.email.clone(), row.session_reference.clone());
        let what = format!(
            "L'inscription de « {} » à la session « {} »",
            shown(row.email.as_str()),
            shown(&row.session_reference)
        );
        (key, what)
    })
}

fn read_officer(c: &mut Cells<'_>) -> Option<OfficerRow> {
    let last_name = c.text(LAST_NAME);
    let first_name = c.text(FIRST_NAME);
    let grade = c.text(GRADE);
    let branch = c.text(BRANCH);
    let email = c.email(EMAIL);
    let phone = c.optional_text(PHONE);
    let start = c.date(ACCOMPANIMENT_START);
    let end = c.date(ACCOMPANIMENT_END);
    let duration_months = c.optional_count(DURATION_MONTHS, 1, MAX_ACCOMPANIMENT_MONTHS);
    let advisor = c.optional_text(ADVISOR);
    c.check_order(ACCOMPANIMENT_START, start, ACCOMPANIMENT_END, end);
    Some(OfficerRow {
        last_name: last_name?,
        first_name: first_name?,
        grade: grade?,
        branch: branch?,
        email: email?,
        phone: phone?,
        accompaniment_start: start?,
        accompaniment_end: end?,
        duration_months: duration_months?,
        advisor: advisor?,
    })
}

fn read_staff(c: &mut Cells<'_>) -> Option<StaffRow> {
    let last_name = c.text(LAST_NAME);
    let first_name = c.text(FIRST_NAME);
    let function = c.text(FUNCTION);
    let email = c.email(EMAIL);
    let role = c.typed(ROLE, |raw| {
        parse_role(raw).ok_or_else(|| {
            format!(
                "« {} » n'est pas un rôle connu (conseiller, administrateur)",
                shown(raw)
            )
        })
    });
    Some(StaffRow {
        last_name: last_name?,
        first_name: first_name?,
        function: function?,
        email: email?,
        role: role?,
    })
}

fn read_training(c: &mut Cells<'_>) -> Option<TrainingRow> {
    let code = c.code(CODE);
    let title = c.text(TITLE);
    let theme = c.text(THEME);
    let modality = c.typed(MODALITY, |raw| {
        Modality::parse(raw).ok_or_else(|| {
            format!(
                "« {} » n'est pas une modalité connue (présentiel, distanciel, hybride)",
                shown(raw)
            )
        })
    });
    let length_days = c.count(LENGTH_DAYS, 1, MAX_LENGTH_DAYS);
    let provider = c.text(PROVIDER);
    let session_cost = c.money(SESSION_COST);
    let trainee_cost = c.money(TRAINEE_COST);
    let min_group = c.count(MIN_GROUP, 0, MAX_SEATS);
    let max_group = c.count(MAX_GROUP, 1, MAX_SEATS);
    c.check_not_above(MIN_GROUP, min_group, MAX_GROUP, max_group);
    Some(TrainingRow {
        code: code?,
        title: title?,
        theme: theme?,
        modality: modality?,
        length_days: length_days?,
        provider: provider?,
        session_cost: session_cost?,
        trainee_cost: trainee_cost?,
        min_group: min_group?,
        max_group: max_group?,
    })
}

fn read_session(c: &mut Cells<'_>) -> Option<SessionRow> {
    let reference = c.code(REFERENCE);
    let training_code = c.code(TRAINING_CODE);
    let first_day = c.date(FIRST_DAY);
    let last_day = c.date(LAST_DAY);
    let hours = c.typed(HOURS, |raw| {
        DailyHours::parse(raw).map_err(|e| e.to_string())
    });
    let place = c.text(PLACE);
    let capacity = c.count(CAPACITY, 0, MAX_SEATS);
    let enrolment_close_day = c.date(ENROLMENT_CLOSE);
    let free_withdrawal_day = c.date(FREE_WITHDRAWAL);
    let trainer = c.optional_text(TRAINER);
    c.check_order(FIRST_DAY, first_day, LAST_DAY, last_day);
    Some(SessionRow {
        reference: reference?,
        training_code: training_code?,
        first_day: first_day?,
        last_day: last_day?,
        hours: hours?,
        place: place?,
        capacity: capacity?,
        enrolment_close_day: enrolment_close_day?,
        free_withdrawal_day: free_withdrawal_day?,
        trainer: trainer?,
    })
}

fn read_enrolment(c: &mut Cells<'_>) -> Option<EnrolmentRow> {
    let email = c.email(EMAIL);
    let session_reference = c.code(REFERENCE);
    let status = c.typed(STATUS, |raw| {
        parse_status(raw).ok_or_else(|| {
            format!(
                "« {} » n'est pas un statut connu (inscrit, liste d'attente, présent, absent, \
                 désisté, désisté tardif)",
                shown(raw)
            )
        })
    });
    let enrolled_on = c.date(ENROLLED_ON);
    let (status, late) = status?;
    Some(EnrolmentRow {
        email: email?,
        session_reference: session_reference?,
        status,
        late,
        enrolled_on: enrolled_on?,
    })
}

/// The statuses MiRVOG files use, and whether the withdrawal was late.
fn parse_status(raw: &str) -> Option<(EnrolmentStatus, bool)> {
    Some(match fold(raw).as_str() {
        "inscrit" => (EnrolmentStatus::Confirmed, false),
        "liste d'attente" => (EnrolmentStatus::Waitlisted, false),
        "present" => (EnrolmentStatus::Attended, false),
        "absent" => (EnrolmentStatus::Absent, false),
        "desiste" => (EnrolmentStatus::Withdrawn, false),
        "desiste tardif" => (EnrolmentStatus::Withdrawn, true),
        _ => return None,
    })
}

/// [`StaffRole::parse`], also accepting `conseillere` written without its accent.
fn parse_role(raw: &str) -> Option<StaffRole> {
    StaffRole::parse(raw).or_else(|| match fold(raw).as_str() {
        "conseillere" => Some(StaffRole::Advisor),
        _ => None,
    })
}

/// Where each known column sits in the file.
struct Header {
    index: HashMap<&'static str, usize>,
    /// Fields a row must have: up to the last non-blank header cell.
    width: usize,
}

impl Header {
    fn resolve(headers: &StringRecord, columns: &'static [Column]) -> Result<Self, FileError> {
        let keys: Vec<String> = headers.iter().map(header_key).collect();
        let mut index = HashMap::new();
        let mut missing = Vec::new();
        for column in columns {
            let key = header_key(column.name);
            match keys.iter().position(|k| *k == key) {
                Some(i) => {
                    index.insert(column.name, i);
                }
                None if column.required => missing.push(column.name.to_string()),
                None => {}
            }
        }
        if !missing.is_empty() {
            // One cell holding every column name: the file was saved with another separator.
            if headers.len() == 1 {
                let cell = headers.get(0).unwrap_or("");
                if let Some(sep) = [',', '\t', '|'].into_iter().find(|c| cell.contains(*c)) {
                    return Err(FileError::WrongSeparator(sep));
                }
            }
            return Err(FileError::MissingColumns(missing));
        }
        let width = keys
            .iter()
            .rposition(|k| !k.is_empty())
            .map_or(0, |i| i + 1);
        Ok(Self { index, width })
    }
}

/// Reads the parts of a file common to every kind: decoding, header, blank lines, field
/// counts, duplicates. `read` turns one row's cells into a typed row (recording what is wrong
/// in the cells); `key` gives the row's identity in the file and how to name it.
fn parse_rows<T, K: Eq + Hash>(
    bytes: &[u8],
    kind: ImportKind,
    read: fn(&mut Cells<'_>) -> Option<T>,
    key: fn(&T) -> (K, String),
) -> Result<Parsed<T>, FileError> {
    let text = decode(bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| FileError::Malformed(e.to_string()))?
        .clone();
    if headers.iter().all(|h| h.trim().is_empty()) {
        return Err(FileError::Empty);
    }
    let header = Header::resolve(&headers, kind.columns())?;

    let mut parsed = Parsed {
        rows: Vec::new(),
        rejected: Vec::new(),
    };
    let mut first_seen: HashMap<K, usize> = HashMap::new();
    let mut record = StringRecord::new();
    let mut lines = Lines {
        text: text.as_bytes(),
        offset: 0,
        line: 1,
    };
    let mut last_error_line = None;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                // With `flexible` and text input this should not happen; a row it can be
                // pinned on is rejected, anything else (or no progress) stops the file.
                let line = e.position().map(|p| lines.at(p.byte()));
                if line.is_none() || line == last_error_line {
                    return Err(FileError::Malformed(e.to_string()));
                }
                last_error_line = line;
                parsed.rejected.push(RejectedRow {
                    line: line.unwrap_or_default(),
                    reason: format!("Ligne illisible : {e}"),
                });
                continue;
            }
        }
        let line = match record.position() {
            Some(p) => lines.at(p.byte()),
            None => lines.line,
        };
        if record.iter().all(|field| field.trim().is_empty()) {
            continue;
        }
        if let Some(reason) = field_count_problem(&record, header.width) {
            parsed.rejected.push(RejectedRow { line, reason });
            continue;
        }
        let mut cells = Cells {
            record: &record,
            header: &header,
            problems: Vec::new(),
        };
        let row = read(&mut cells);
        let row = match row {
            Some(row) if cells.problems.is_empty() => row,
            _ => {
                let reason = if cells.problems.is_empty() {
                    "Ligne invalide.".to_string()
                } else {
                    format!("{}.", cells.problems.join(" ; "))
                };
                parsed.rejected.push(RejectedRow { line, reason });
                continue;
            }
        };
        let (key, what) = key(&row);
        match first_seen.entry(key) {
            Entry::Occupied(first) => {
                let first = first.get();
                let reason = format!("{what} figure déjà ligne {first} : cette ligne est ignorée.");
                parsed.rejected.push(RejectedRow { line, reason });
            }
            Entry::Vacant(slot) => {
                slot.insert(line);
                parsed.rows.push((line, row));
            }
        }
    }
    Ok(parsed)
}

/// Physical line numbers, counted from byte offsets. The csv crate's own line count is off
/// for our purpose: a record's position points before the blank lines skipped ahead of it and,
/// with CRLF line ends, before the LF that ends the previous line.
struct Lines<'t> {
    text: &'t [u8],
    /// Where counting stopped, and the line number there.
    offset: usize,
    line: usize,
}

impl Lines<'_> {
    /// The line of the first character of the record whose position is `byte`.
    fn at(&mut self, byte: u64) -> usize {
        let mut start = usize::try_from(byte).map_or(self.text.len(), |b| b.min(self.text.len()));
        while matches!(self.text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start > self.offset {
            let span = self.text.get(self.offset..start).unwrap_or_default();
            for (i, &b) in span.iter().enumerate() {
                // CRLF, LF and a lone CR each end a line.
                let lone_cr = b == b'\r' && span.get(i + 1).copied() != Some(b'\n');
                if b == b'\n' || lone_cr {
                    self.line += 1;
                }
            }
            self.offset = start;
        }
        self.line
    }
}

/// Too few fields, or more than the header with something in them (a `;` typed in a cell
/// without quotes shifts every following column).
fn field_count_problem(record: &StringRecord, width: usize) -> Option<String> {
    let count = record.len();
    if count < width {
        return Some(format!(
            "La ligne compte {count} champ(s) alors que l'en-tête en compte {width}."
        ));
    }
    let spill = record
        .iter()
        .skip(width)
        .any(|field| !field.trim().is_empty());
    if spill {
        return Some(format!(
            "La ligne compte {count} champs alors que l'en-tête en compte {width} : un « ; » \
             écrit dans une cellule doit être entre guillemets."
        ));
    }
    None
}

/// The cells of one row, and what is wrong with them so far.
struct Cells<'a> {
    record: &'a StringRecord,
    header: &'a Header,
    problems: Vec<String>,
}

impl<'a> Cells<'a> {
    fn problem(&mut self, reason: String) {
        self.problems.push(reason);
    }

    /// The trimmed cell: `Some(None)` when empty (or its optional column is absent), `None`
    /// when it holds a control character or is too long (the problem is recorded).
    fn cell(&mut self, column: &'static str) -> Option<Option<&'a str>> {
        let record = self.record;
        let Some(raw) = self.header.index.get(column).and_then(|&i| record.get(i)) else {
            return Some(None);
        };
        let value = raw.trim();
        if value.is_empty() {
            return Some(None);
        }
        if value.chars().any(is_forbidden) {
            self.problem(format!(
                "Colonne « {column} » : « {} » contient un caractère de contrôle (retour à la \
                 ligne, tabulation…), interdit",
                shown(value)
            ));
            return None;
        }
        let length = value.chars().count();
        if length > MAX_CELL_CHARS {
            self.problem(format!(
                "Colonne « {column} » : « {} » est trop long ({length} caractères, au plus \
                 {MAX_CELL_CHARS})",
                shown(value)
            ));
            return None;
        }
        Some(Some(value))
    }

    /// A cell that must not be empty.
    fn filled(&mut self, column: &'static str) -> Option<&'a str> {
        match self.cell(column)? {
            Some(value) => Some(value),
            None => {
                self.problem(format!("Colonne « {column} » : la cellule est vide"));
                None
            }
        }
    }

    /// A required cell read by `parse`, whose error names the value.
    fn typed<T>(
        &mut self,
        column: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let value = self.filled(column)?;
        self.convert(column, value, parse)
    }

    /// An optional cell read by `parse`: `Some(None)` when empty.
    fn optional_typed<T>(
        &mut self,
        column: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<Option<T>> {
        match self.cell(column)? {
            Some(value) => self.convert(column, value, parse).map(Some),
            None => Some(None),
        }
    }

    fn convert<T>(
        &mut self,
        column: &'static str,
        value: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        match parse(value) {
            Ok(v) => Some(v),
            Err(reason) => {
                self.problem(format!("Colonne « {column} » : {reason}"));
                None
            }
        }
    }

    fn text(&mut self, column: &'static str) -> Option<String> {
        self.filled(column).map(str::to_string)
    }

    fn optional_text(&mut self, column: &'static str) -> Option<Option<String>> {
        self.cell(column).map(|value| value.map(str::to_string))
    }

    /// A code or reference: trimmed and upper-cased.
    fn code(&mut self, column: &'static str) -> Option<String> {
        self.filled(column).map(str::to_uppercase)
    }

    fn email(&mut self, column: &'static str) -> Option<Email> {
        self.typed(column, |raw| {
            Email::parse(raw).ok_or_else(|| {
                format!(
                    "« {} » n'est pas une adresse électronique valide",
                    shown(raw)
                )
            })
        })
    }

    fn date(&mut self, column: &'static str) -> Option<NaiveDate> {
        self.typed(column, |raw| parse_date(raw).map_err(|e| e.to_string()))
    }

    fn money(&mut self, column: &'static str) -> Option<Money> {
        self.typed(column, |raw| {
            Money::parse_french(raw).ok_or_else(|| {
                format!(
                    "« {} » n'est pas un montant valide en euros (exemples : 4 800 ou 1 250,50)",
                    shown(raw)
                )
            })
        })
    }

    fn count(&mut self, column: &'static str, min: u32, max: u32) -> Option<u32> {
        self.typed(column, |raw| parse_count(raw, min, max))
    }

    fn optional_count(&mut self, column: &'static str, min: u32, max: u32) -> Option<Option<u32>> {
        self.optional_typed(column, |raw| parse_count(raw, min, max))
    }

    /// Records a problem when the day in `last_column` comes before the one in `first_column`.
    fn check_order(
        &mut self,
        first_column: &'static str,
        first: Option<NaiveDate>,
        last_column: &'static str,
        last: Option<NaiveDate>,
    ) {
        let (Some(first), Some(last)) = (first, last) else {
            return;
        };
        if last < first {
            self.problem(format!(
                "Colonne « {last_column} » : le {} tombe avant le {} de la colonne \
                 « {first_column} »",
                last.format("%d/%m/%Y"),
                first.format("%d/%m/%Y")
            ));
        }
    }

    /// Records a problem when the number in `low_column` exceeds the one in `high_column`.
    fn check_not_above(
        &mut self,
        low_column: &'static str,
        low: Option<u32>,
        high_column: &'static str,
        high: Option<u32>,
    ) {
        let (Some(low), Some(high)) = (low, high) else {
            return;
        };
        if low > high {
            self.problem(format!(
                "Colonne « {low_column} » : {low} dépasse la valeur de la colonne \
                 « {high_column} » ({high})"
            ));
        }
    }
}

/// A whole number written with digits only (thousands spaces allowed), within `min..=max`.
fn parse_count(raw: &str, min: u32, max: u32) -> Result<u32, String> {
    let digits: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}'))
        .collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "« {} » n'est pas un nombre entier positif ou nul",
            shown(raw)
        ));
    }
    let significant = digits.trim_start_matches('0');
    let value = if significant.len() > 9 {
        None
    } else {
        digits.parse::<u32>().ok()
    };
    match value {
        Some(value) if value > max => Err(format!("{value} est invraisemblable (au plus {max})")),
        Some(value) if value < min => Err(format!("{value} est trop petit (au moins {min})")),
        Some(value) => Ok(value),
        None => Err(format!(
            "« {} » est invraisemblable (au plus {max})",
            shown(raw)
        )),
    }
}

/// Characters refused in any cell or typed field: they would end up in mail headers or break a
/// line (the Unicode line and paragraph separators included).
pub(crate) fn is_forbidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// A value quoted back in a message: at most [`SHOWN_CHARS`] characters, control characters
/// escaped so that the message itself stays on one line.
fn shown(raw: &str) -> String {
    let mut out = String::new();
    for (i, c) in raw.chars().enumerate() {
        if i == SHOWN_CHARS {
            out.push('…');
            break;
        }
        if is_forbidden(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Lower-cases, drops French accents, unifies apostrophes and collapses whitespace, so that
/// `Liste d’Attente` and `liste d'attente` compare equal.
fn fold(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for word in raw.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in word.chars().flat_map(char::to_lowercase) {
            match c {
                'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => out.push('a'),
                'ç' => out.push('c'),
                'è' | 'é' | 'ê' | 'ë' => out.push('e'),
                'ì' | 'í' | 'î' | 'ï' => out.push('i'),
                'ñ' => out.push('n'),
                'ò' | 'ó' | 'ô' | 'õ' | 'ö' => out.push('o'),
                'ù' | 'ú' | 'û' | 'ü' => out.push('u'),
                'ý' | 'ÿ' => out.push('y'),
                'œ' => out.push_str("oe"),
                'æ' => out.push_str("ae"),
                '’' | '‘' | 'ʼ' | '`' | '´' => out.push('\''),
                '\u{feff}' => {}
                c => out.push(c),
            }
        }
    }
    out
}

/// How a header cell is compared: folded, with no whitespace at all (`Armée/service` is
/// `Armée / service`).
fn header_key(raw: &str) -> String {
    fold(raw).chars().filter(|c| !c.is_whitespace()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFICIERS: &[u8] = include_bytes!("../../../demo/data/officiers.csv");
    const PERSONNEL: &[u8] = include_bytes!("../../../demo/data/personnel.csv");
    const CATALOGUE: &[u8] = include_bytes!("../../../demo/data/catalogue.csv");
    const SESSIONS: &[u8] = include_bytes!("../../../demo/data/sessions.csv");
    const INSCRIPTIONS: &[u8] = include_bytes!("../../../demo/data/inscriptions.csv");

    const OFFICER_HEADER: &str = "Nom;Prénom;Grade;Armée / service;Courriel;Téléphone;\
        Début d'accompagnement;Fin d'accompagnement;Durée (mois);Conseiller MiRVOG";
    const OFFICER_ROW: &str = "Kerjean;Hervé;Ingénieur général de l'armement;\
        Direction générale de l'armement;herve.kerjean@intradef.example;06 83 80 72 85;\
        07/02/2027;09/08/2027;6;P. Laborde";
    const STAFF_HEADER: &str = "Nom;Prénom;Fonction;Courriel;Rôle";
    const TRAINING_HEADER: &str = "Code;Intitulé;Thème;Modalité;Durée (jours);Organisme;\
        Coût session (€);Coût par stagiaire (€);Effectif min;Effectif max";
    const SESSION_HEADER: &str = "Réf. session;Code formation;Date de début;Date de fin;\
        Horaires;Lieu;Places;Clôture des inscriptions;Désistement sans frais jusqu'au;Formateur";
    const ENROLMENT_HEADER: &str = "Courriel;Réf. session;Statut;Inscrit le";

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a valid test date")
    }

    fn file(header: &str, rows: &[&str]) -> Vec<u8> {
        let mut text = String::from(header);
        for row in rows {
            text.push('\n');
            text.push_str(row);
        }
        text.push('\n');
        text.into_bytes()
    }

    fn ok<T>(result: Result<Parsed<T>, FileError>) -> Parsed<T> {
        match result {
            Ok(parsed) => parsed,
            Err(e) => panic!("the file was refused: {e}"),
        }
    }

    /// The single rejection of a file of one bad row, checked to sit on line 2.
    fn only_rejection<T: std::fmt::Debug>(result: Result<Parsed<T>, FileError>) -> String {
        let parsed = ok(result);
        assert!(parsed.rows.is_empty(), "unexpected rows: {:?}", parsed.rows);
        assert_eq!(parsed.rejected.len(), 1, "{:?}", parsed.rejected);
        assert_eq!(parsed.rejected[0].line, 2);
        parsed.rejected[0].reason.clone()
    }

    fn officer_rejection(row: &str) -> String {
        only_rejection(parse_officers(&file(OFFICER_HEADER, &[row])))
    }

    fn training_rejection(row: &str) -> String {
        only_rejection(parse_trainings(&file(TRAINING_HEADER, &[row])))
    }

    fn session_rejection(row: &str) -> String {
        only_rejection(parse_sessions(&file(SESSION_HEADER, &[row])))
    }

    /// The officer row with one cell replaced.
    fn officer_with(column: usize, value: &str) -> String {
        let mut cells: Vec<&str> = OFFICER_ROW.split(';').collect();
        cells[column] = value;
        cells.join(";")
    }

    fn assert_mentions(reason: &str, parts: &[&str]) {
        for part in parts {
            assert!(
                reason.contains(part),
                "« {reason} » does not mention « {part} »"
            );
        }
    }

    /// The fixture re-encoded as Windows-1252, without byte-order mark, with CRLF line ends.
    fn as_windows_1252_crlf(bytes: &[u8]) -> Vec<u8> {
        let text = decode(bytes).expect("fixture decodes");
        let text = text.replace('\n', "\r\n");
        let (encoded, _, had_errors) = encoding_rs::WINDOWS_1252.encode(&text);
        assert!(!had_errors, "fixture has characters outside Windows-1252");
        assert!(
            std::str::from_utf8(&encoded).is_err(),
            "the copy should not be valid UTF-8"
        );
        encoded.into_owned()
    }

    /// The fixture with its columns in reverse order, written with the csv crate.
    fn with_columns_reversed(bytes: &[u8]) -> Vec<u8> {
        let text = decode(bytes).expect("fixture decodes");
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(b';')
            .has_headers(false)
            .from_reader(text.as_bytes());
        let mut writer = csv::WriterBuilder::new()
            .delimiter(b';')
            .from_writer(Vec::new());
        for record in reader.records() {
            let record = record.expect("fixture record");
            let reversed: Vec<&str> = record.iter().rev().collect();
            writer.write_record(&reversed).expect("write to memory");
        }
        writer.into_inner().expect("flush to memory")
    }

    fn assert_same_rows<T: PartialEq + std::fmt::Debug>(a: &Parsed<T>, b: &Parsed<T>) {
        assert_eq!(a.rows.len(), b.rows.len());
        assert_eq!(a, b);
    }

    #[test]
    fn import_kinds_round_trip_through_their_names() {
        for kind in ImportKind::ALL {
            assert_eq!(ImportKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(
            ImportKind::parse("enrolments"),
            Some(ImportKind::Enrolments)
        );
        assert_eq!(ImportKind::parse("inscriptions"), None);
        assert_eq!(ImportKind::parse(""), None);
    }

    #[test]
    fn the_officers_fixture_gives_112_rows_and_no_rejection() {
        let parsed = ok(parse_officers(OFFICIERS));
        assert_eq!(parsed.rows.len(), 112);
        assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        let (line, first) = &parsed.rows[0];
        assert_eq!(*line, 2);
        assert_eq!(first.last_name, "Kerjean");
        assert_eq!(first.first_name, "Hervé");
        assert_eq!(first.email.as_str(), "herve.kerjean@intradef.example");
        assert_eq!(first.phone.as_deref(), Some("06 83 80 72 85"));
        assert_eq!(first.accompaniment_start, day(2027, 2, 7));
        assert_eq!(first.accompaniment_end, day(2027, 8, 9));
        assert_eq!(first.duration_months, Some(6));
        assert_eq!(first.advisor.as_deref(), Some("P. Laborde"));
        assert_eq!(parsed.rows.last().map(|(line, _)| *line), Some(113));
    }

    #[test]
    fn the_staff_fixture_gives_4_rows_and_no_rejection() {
        let parsed = ok(parse_staff(PERSONNEL));
        assert_eq!(parsed.rows.len(), 4);
        assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        let roles: Vec<StaffRole> = parsed.rows.iter().map(|(_, r)| r.role).collect();
        assert_eq!(
            roles,
            [
                StaffRole::Advisor,
                StaffRole::Advisor,
                StaffRole::Advisor,
                StaffRole::Administrator
            ]
        );
        assert_eq!(parsed.rows[0].1.function, "Conseillère reconversion");
    }

    #[test]
    fn the_catalogue_fixture_gives_18_rows_and_no_rejection() {
        let parsed = ok(parse_trainings(CATALOGUE));
        assert_eq!(parsed.rows.len(), 18);
        assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        let first = &parsed.rows[0].1;
        assert_eq!(first.code, "GOUV-01");
        assert_eq!(first.modality, Modality::InPerson);
        assert_eq!(first.length_days, 2);
        assert_eq!(first.session_cost, Money::from_cents(480_000));
        assert_eq!(first.trainee_cost, Money::from_cents(35_000));
        assert_eq!((first.min_group, first.max_group), (6, 14));
    }

    #[test]
    fn the_sessions_fixture_gives_92_rows_and_no_rejection() {
        let parsed = ok(parse_sessions(SESSIONS));
        assert_eq!(parsed.rows.len(), 92);
        assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        let first = &parsed.rows[0].1;
        assert_eq!(first.reference, "PRJ-01-S001");
        assert_eq!(first.training_code, "PRJ-01");
        assert_eq!(
            (first.first_day, first.last_day),
            (day(2026, 1, 12), day(2026, 1, 14))
        );
        assert_eq!(first.hours.render(), "14:00-17:30");
        assert_eq!(first.place, "Bordeaux – Caserne Xaintrailles");
        assert_eq!(first.capacity, 3);
        assert_eq!(first.enrolment_close_day, day(2025, 12, 29));
        assert_eq!(first.free_withdrawal_day, day(2026, 1, 7));
        assert_eq!(first.trainer.as_deref(), Some("M. Dubreuil"));
        let without_trainer = parsed
            .rows
            .iter()
            .filter(|(_, s)| s.trainer.is_none())
            .count();
        assert_eq!(without_trainer, 12);
    }

    #[test]
    fn the_enrolments_fixture_gives_1033_rows_with_the_documented_statuses() {
        let parsed = ok(parse_enrolments(INSCRIPTIONS));
        assert_eq!(parsed.rows.len(), 1_033);
        assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        let count = |status: EnrolmentStatus, late: bool| {
            parsed
                .rows
                .iter()
                .filter(|(_, e)| e.status == status && e.late == late)
                .count()
        };
        assert_eq!(count(EnrolmentStatus::Attended, false), 436);
        assert_eq!(count(EnrolmentStatus::Confirmed, false), 371);
        assert_eq!(count(EnrolmentStatus::Waitlisted, false), 120);
        assert_eq!(count(EnrolmentStatus::Withdrawn, false), 49);
        assert_eq!(count(EnrolmentStatus::Withdrawn, true), 32);
        assert_eq!(count(EnrolmentStatus::Absent, false), 25);
        let first = &parsed.rows[0].1;
        assert_eq!(first.email.as_str(), "gaelle.n-diaye@intradef.example");
        assert_eq!(first.session_reference, "PRJ-01-S001");
        assert_eq!(first.enrolled_on, day(2025, 11, 15));
    }

    #[test]
    fn windows_1252_copies_with_crlf_and_no_bom_parse_to_the_same_rows() {
        let same = |bytes: &[u8]| as_windows_1252_crlf(bytes);
        assert_same_rows(
            &ok(parse_officers(OFFICIERS)),
            &ok(parse_officers(&same(OFFICIERS))),
        );
        assert_same_rows(
            &ok(parse_staff(PERSONNEL)),
            &ok(parse_staff(&same(PERSONNEL))),
        );
        assert_same_rows(
            &ok(parse_trainings(CATALOGUE)),
            &ok(parse_trainings(&same(CATALOGUE))),
        );
        assert_same_rows(
            &ok(parse_sessions(SESSIONS)),
            &ok(parse_sessions(&same(SESSIONS))),
        );
        assert_same_rows(
            &ok(parse_enrolments(INSCRIPTIONS)),
            &ok(parse_enrolments(&same(INSCRIPTIONS))),
        );
    }

    #[test]
    fn utf8_without_bom_parses_to_the_same_rows() {
        let without_bom = OFFICIERS
            .strip_prefix(b"\xEF\xBB\xBF".as_slice())
            .unwrap_or(OFFICIERS);
        assert_ne!(without_bom.len(), OFFICIERS.len());
        assert_same_rows(
            &ok(parse_officers(OFFICIERS)),
            &ok(parse_officers(without_bom)),
        );
    }

    #[test]
    fn columns_in_another_order_parse_the_same() {
        let reversed = with_columns_reversed;
        assert_same_rows(
            &ok(parse_officers(OFFICIERS)),
            &ok(parse_officers(&reversed(OFFICIERS))),
        );
        assert_same_rows(
            &ok(parse_staff(PERSONNEL)),
            &ok(parse_staff(&reversed(PERSONNEL))),
        );
        assert_same_rows(
            &ok(parse_trainings(CATALOGUE)),
            &ok(parse_trainings(&reversed(CATALOGUE))),
        );
        assert_same_rows(
            &ok(parse_sessions(SESSIONS)),
            &ok(parse_sessions(&reversed(SESSIONS))),
        );
        assert_same_rows(
            &ok(parse_enrolments(INSCRIPTIONS)),
            &ok(parse_enrolments(&reversed(INSCRIPTIONS))),
        );
    }

    #[test]
    fn headers_match_whatever_their_case_accents_and_spacing_and_extra_columns_are_ignored() {
        let header = "  COURRIEL ;Remarque; ref. SESSION;statut;INSCRIT  LE";
        let row = "A.B@Intradef.Example;à revoir;prj-01-s001;Présent;15/11/2025";
        let parsed = ok(parse_enrolments(&file(header, &[row])));
        assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        let e = &parsed.rows[0].1;
        assert_eq!(e.email.as_str(), "a.b@intradef.example");
        assert_eq!(e.session_reference, "PRJ-01-S001");
        assert_eq!(e.status, EnrolmentStatus::Attended);

        let header = "Nom;Prenom;Grade;Armee/service;Courriel;Debut d’accompagnement;\
            Fin d'accompagnement";
        let row = "Kerjean;Hervé;IGA;DGA;h.k@intradef.example;07/02/2027;09/08/2027";
        let parsed = ok(parse_officers(&file(header, &[row])));
        assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        let o = &parsed.rows[0].1;
        assert_eq!(
            (o.phone.clone(), o.duration_months, o.advisor.clone()),
            (None, None, None)
        );
    }

    #[test]
    fn empty_optional_cells_are_none() {
        let row = officer_with(5, " ");
        let row = row.replace(";6;P. Laborde", ";;");
        let parsed = ok(parse_officers(&file(OFFICER_HEADER, &[&row])));
        assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        let o = &parsed.rows[0].1;
        assert_eq!(
            (o.phone.clone(), o.duration_months, o.advisor.clone()),
            (None, None, None)
        );

        let row = "PRJ-01-S001;PRJ-01;12/01/2026;14/01/2026;14:00-17:30;Bordeaux;3;29/12/2025;\
            07/01/2026;";
        let parsed = ok(parse_sessions(&file(SESSION_HEADER, &[row])));
        assert_eq!(parsed.rows[0].1.trainer, None);
    }

    #[test]
    fn surrounding_whitespace_is_trimmed_and_codes_are_upper_cased() {
        let row = "  gouv-01 ; Gouvernance ;Gouvernance; Présentiel ; 2 ;Institut; 4 800 ;350;6;14";
        let parsed = ok(parse_trainings(&file(TRAINING_HEADER, &[row])));
        assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        let t = &parsed.rows[0].1;
        assert_eq!(t.code, "GOUV-01");
        assert_eq!(t.title, "Gouvernance");
        assert_eq!(t.length_days, 2);
        assert_eq!(t.session_cost, Money::from_cents(480_000));

        let row = "\u{a0}Morvan ;Claire;Conseillère;claire.morvan@intradef.example; CONSEILLERE ";
        let parsed = ok(parse_staff(&file(STAFF_HEADER, &[row])));
        assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        assert_eq!(parsed.rows[0].1.last_name, "Morvan");
        assert_eq!(parsed.rows[0].1.role, StaffRole::Advisor);
    }

    #[test]
    fn empty_lines_are_skipped_and_line_numbers_stay_physical() {
        let text =
            format!("\u{feff}{OFFICER_HEADER}\r\n\r\n;;;;;;;;;\r\n   \r\n{OFFICER_ROW}\r\n\r\n\n");
        let parsed = ok(parse_officers(text.as_bytes()));
        assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.rows[0].0, 5);
        // Old Mac line ends: a lone CR.
        let text = format!("{OFFICER_HEADER}\r\r{OFFICER_ROW}\r");
        assert_eq!(ok(parse_officers(text.as_bytes())).rows[0].0, 3);
    }

    #[test]
    fn a_quoted_field_may_hold_a_semicolon_and_doubled_quotes() {
        let row = "FIN-02;\"Finance ; valorisation et \"\"fusions\"\"\";Finance;hybride;3;\
            École supérieure de gestion;7 200;200;6;16";
        let parsed = ok(parse_trainings(&file(TRAINING_HEADER, &[row])));
        assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        assert_eq!(
            parsed.rows[0].1.title,
            "Finance ; valorisation et \"fusions\""
        );
    }

    #[test]
    fn a_quoted_line_break_is_refused_and_the_next_rows_keep_their_line_numbers() {
        let bad = officer_with(0, "\"Ker\njean\"");
        let good = officer_with(4, "autre@intradef.example");
        let parsed = ok(parse_officers(&file(OFFICER_HEADER, &[&bad, &good])));
        assert_eq!(parsed.rejected.len(), 1);
        assert_eq!(parsed.rejected[0].line, 2);
        assert_mentions(
            &parsed.rejected[0].reason,
            &["« Nom »", "Ker\\njean", "contrôle"],
        );
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.rows[0].0, 4);
    }

    #[test]
    fn control_characters_in_a_cell_are_refused() {
        for value in [
            "Ker\tjean",
            "Ker\u{0}jean",
            "Ker\rjean",
            "Ker\u{1b}jean",
            "Ker\u{2028}jean",
        ] {
            let bytes = file(OFFICER_HEADER, &[&officer_with(1, &format!("\"{value}\""))]);
            // A NUL anywhere makes the whole file binary; the other characters only the row.
            if value.contains('\0') {
                assert_eq!(parse_officers(&bytes), Err(FileError::NotText));
                continue;
            }
            let reason = only_rejection(parse_officers(&bytes));
            assert_mentions(&reason, &["« Prénom »", "contrôle"]);
            assert!(!reason.chars().any(char::is_control), "{reason:?}");
        }
    }

    #[test]
    fn a_cell_longer_than_300_characters_is_refused() {
        let long = "x".repeat(301);
        let reason = officer_rejection(&officer_with(2, &long));
        assert_mentions(
            &reason,
            &[
                "« Grade »",
                "301 caractères",
                &format!("{}…", "x".repeat(40)),
            ],
        );
        assert!(
            reason.chars().count() < 200,
            "the value is not truncated: {reason}"
        );
        let parsed = ok(parse_officers(&file(
            OFFICER_HEADER,
            &[&officer_with(2, &long[1..])],
        )));
        assert_eq!(parsed.rows.len(), 1);
    }

    #[test]
    fn an_empty_required_cell_is_refused() {
        let reason = officer_rejection(&officer_with(3, "  "));
        assert_mentions(&reason, &["« Armée / service »", "vide"]);
        let reason = session_rejection(
            "PRJ-01-S001;PRJ-01;12/01/2026;14/01/2026;14:00-17:30;;3;29/12/2025;07/01/2026;",
        );
        assert_mentions(&reason, &["« Lieu »", "vide"]);
    }

    #[test]
    fn an_invalid_email_is_refused() {
        let reason = officer_rejection(&officer_with(4, "herve.kerjean@intradef"));
        assert_mentions(
            &reason,
            &["« Courriel »", "« herve.kerjean@intradef »", "adresse"],
        );
        let reason = only_rejection(parse_staff(&file(
            STAFF_HEADER,
            &["Vidal;Hugues;Chef;\"Hugues <h.vidal@intradef.example>\";administrateur"],
        )));
        assert_mentions(&reason, &["« Courriel »", "Hugues <h.vidal"]);
    }

    #[test]
    fn an_invalid_date_is_refused() {
        let reason = officer_rejection(&officer_with(6, "31/02/2027"));
        assert_mentions(&reason, &["« Début d'accompagnement »", "« 31/02/2027 »"]);
        let reason = only_rejection(parse_enrolments(&file(
            ENROLMENT_HEADER,
            &["a@intradef.example;PRJ-01-S001;inscrit;demain"],
        )));
        assert_mentions(&reason, &["« Inscrit le »", "« demain »"]);
    }

    #[test]
    fn an_end_before_its_start_is_refused() {
        let reason = officer_rejection(&officer_with(7, "06/02/2027"));
        assert_mentions(
            &reason,
            &[
                "« Fin d'accompagnement »",
                "06/02/2027",
                "« Début d'accompagnement »",
                "07/02/2027",
            ],
        );
        let reason = session_rejection(
            "PRJ-01-S001;PRJ-01;14/01/2026;12/01/2026;14:00-17:30;Bordeaux;3;29/12/2025;\
             07/01/2026;",
        );
        assert_mentions(
            &reason,
            &["« Date de fin »", "12/01/2026", "« Date de début »"],
        );
        // A one-day session ends the day it starts.
        let one_day = "PRJ-02-S002;PRJ-02;19/01/2026;19/01/2026;14:00-17:30;Bordeaux;8;05/01/2026;\
            14/01/2026;M. Saïdi";
        assert_eq!(
            ok(parse_sessions(&file(SESSION_HEADER, &[one_day])))
                .rows
                .len(),
            1
        );
    }

    #[test]
    fn invalid_hours_are_refused() {
        for hours in ["17:30-09:00", "9h", "25:00-26:00"] {
            let reason = session_rejection(&format!(
                "PRJ-01-S001;PRJ-01;12/01/2026;14/01/2026;{hours};Bordeaux;3;29/12/2025;\
                 07/01/2026;"
            ));
            assert_mentions(&reason, &["« Horaires »", hours]);
        }
    }

    #[test]
    fn integers_must_be_whole_non_negative_and_plausible() {
        let session = |places: &str| {
            format!(
                "PRJ-01-S001;PRJ-01;12/01/2026;14/01/2026;14:00-17:30;Bordeaux;{places};\
                 29/12/2025;07/01/2026;"
            )
        };
        for places in ["-3", "3,5", "trois", "1001", "99999999999999999999"] {
            let reason = session_rejection(&session(places));
            assert_mentions(&reason, &["« Places »"]);
            assert!(
                reason.contains(places) || reason.contains("1000"),
                "{reason}"
            );
        }
        assert_eq!(
            ok(parse_sessions(&file(SESSION_HEADER, &[&session("1000")])))
                .rows
                .len(),
            1
        );
        assert_eq!(
            ok(parse_sessions(&file(SESSION_HEADER, &[&session("0")])))
                .rows
                .len(),
            1
        );

        let training = |length: &str, min: &str, max: &str| {
            format!("FIN-01;Bilan;Finance;présentiel;{length};Valmont;3 900;0;{min};{max}")
        };
        assert_mentions(
            &training_rejection(&training("366", "5", "12")),
            &["« Durée (jours) »"],
        );
        assert_mentions(
            &training_rejection(&training("0", "5", "12")),
            &["« Durée (jours) »"],
        );
        assert_mentions(
            &training_rejection(&training("2", "5", "1001")),
            &["« Effectif max »"],
        );
        assert_mentions(
            &training_rejection(&training("2", "-1", "12")),
            &["« Effectif min »"],
        );
        assert_mentions(
            &training_rejection(&training("2", "13", "12")),
            &["« Effectif min »", "13", "« Effectif max »", "12"],
        );
        assert_eq!(
            ok(parse_trainings(&file(
                TRAINING_HEADER,
                &[&training("365", "12", "12")]
            )))
            .rows
            .len(),
            1
        );
        assert_mentions(
            &officer_rejection(&officer_with(8, "6 mois")),
            &["« Durée (mois) »"],
        );
    }

    #[test]
    fn invalid_amounts_are_refused() {
        for amount in ["-100", "4 800,505", "gratuit"] {
            let reason = training_rejection(&format!(
                "FIN-01;Bilan;Finance;présentiel;2;Valmont;{amount};0;5;12"
            ));
            assert_mentions(&reason, &["« Coût session (€) »", amount, "montant"]);
        }
        let reason = training_rejection("FIN-01;Bilan;Finance;présentiel;2;Valmont;3 900;dix;5;12");
        assert_mentions(&reason, &["« Coût par stagiaire (€) »", "« dix »"]);
    }

    #[test]
    fn unknown_modalities_and_roles_are_refused() {
        let reason = training_rejection("FIN-01;Bilan;Finance;e-learning;2;Valmont;3 900;0;5;12");
        assert_mentions(
            &reason,
            &["« Modalité »", "« e-learning »", "présentiel, distanciel"],
        );
        let reason = only_rejection(parse_staff(&file(
            STAFF_HEADER,
            &["Vidal;Hugues;Chef;hugues.vidal@intradef.example;directeur"],
        )));
        assert_mentions(
            &reason,
            &["« Rôle »", "« directeur »", "conseiller, administrateur"],
        );
    }

    #[test]
    fn every_documented_status_is_read_whatever_its_case_accents_or_apostrophe() {
        let cases = [
            ("inscrit", EnrolmentStatus::Confirmed, false),
            (" Liste d’attente ", EnrolmentStatus::Waitlisted, false),
            ("LISTE D'ATTENTE", EnrolmentStatus::Waitlisted, false),
            ("present", EnrolmentStatus::Attended, false),
            ("Présent", EnrolmentStatus::Attended, false),
            ("absent", EnrolmentStatus::Absent, false),
            ("désisté", EnrolmentStatus::Withdrawn, false),
            ("Désisté  tardif", EnrolmentStatus::Withdrawn, true),
            ("desiste tardif", EnrolmentStatus::Withdrawn, true),
        ];
        for (raw, status, late) in cases {
            let row = format!("a@intradef.example;PRJ-01-S001;{raw};15/11/2025");
            let parsed = ok(parse_enrolments(&file(ENROLMENT_HEADER, &[&row])));
            assert!(parsed.rejected.is_empty(), "{raw}: {:?}", parsed.rejected);
            assert_eq!(
                (parsed.rows[0].1.status, parsed.rows[0].1.late),
                (status, late),
                "{raw}"
            );
        }
    }

    #[test]
    fn an_unknown_status_is_refused_with_the_accepted_ones() {
        let reason = only_rejection(parse_enrolments(&file(
            ENROLMENT_HEADER,
            &["a@intradef.example;PRJ-01-S001;excusé;15/11/2025"],
        )));
        assert_mentions(
            &reason,
            &[
                "« Statut »",
                "« excusé »",
                "inscrit, liste d'attente, présent, absent, désisté, désisté tardif",
            ],
        );
    }

    #[test]
    fn a_row_with_fewer_fields_than_the_header_is_refused() {
        let reason = officer_rejection("Kerjean;Hervé;IGA");
        assert_mentions(&reason, &["3 champ", "10"]);
        // Even when only optional cells are missing at the end.
        let reason = officer_rejection(OFFICER_ROW.trim_end_matches(";P. Laborde"));
        assert_mentions(&reason, &["9 champ", "10"]);
    }

    #[test]
    fn a_row_spilling_past_the_header_is_refused_but_trailing_empty_fields_are_not() {
        let reason = officer_rejection(&officer_with(0, "Le Goff;Yann"));
        assert_mentions(&reason, &["11 champs", "guillemets"]);
        let parsed = ok(parse_officers(&file(
            OFFICER_HEADER,
            &[&format!("{OFFICER_ROW};;")],
        )));
        assert_eq!(parsed.rows.len(), 1);
        // A trailing `;` on the header line is not a column.
        let header = format!("{OFFICER_HEADER};");
        assert_eq!(
            ok(parse_officers(&file(&header, &[OFFICER_ROW])))
                .rows
                .len(),
            1
        );
    }

    #[test]
    fn a_duplicate_key_rejects_the_later_line_and_names_the_first() {
        let other = OFFICER_ROW.replace("herve.kerjean@", "HERVE.Kerjean@");
        let parsed = ok(parse_officers(&file(
            OFFICER_HEADER,
            &[OFFICER_ROW, &other],
        )));
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.rejected[0].line, 3);
        assert_mentions(
            &parsed.rejected[0].reason,
            &["herve.kerjean@intradef.example", "ligne 2"],
        );

        let staff = "Vidal;Hugues;Chef;hugues.vidal@intradef.example;administrateur";
        let parsed = ok(parse_staff(&file(STAFF_HEADER, &[staff, staff])));
        assert_eq!((parsed.rows.len(), parsed.rejected[0].line), (1, 3));

        let training = "FIN-01;Bilan;Finance;présentiel;2;Valmont;3 900;0;5;12";
        let again = "fin-01 ;Autre;Finance;distanciel;1;Valmont;900;0;5;12";
        let parsed = ok(parse_trainings(&file(TRAINING_HEADER, &[training, again])));
        assert_eq!(parsed.rows.len(), 1);
        assert_mentions(&parsed.rejected[0].reason, &["« FIN-01 »", "ligne 2"]);

        let session = "PRJ-01-S001;PRJ-01;12/01/2026;14/01/2026;14:00-17:30;Bordeaux;3;29/12/2025;\
            07/01/2026;";
        let parsed = ok(parse_sessions(&file(SESSION_HEADER, &[session, session])));
        assert_eq!(parsed.rows.len(), 1);
        assert_mentions(&parsed.rejected[0].reason, &["« PRJ-01-S001 »", "ligne 2"]);

        let first = "a@intradef.example;PRJ-01-S001;inscrit;15/11/2025";
        let other_session = "a@intradef.example;PRJ-01-S002;inscrit;15/11/2025";
        let same = "A@intradef.example;prj-01-s001;désisté;16/11/2025";
        let parsed = ok(parse_enrolments(&file(
            ENROLMENT_HEADER,
            &[first, other_session, same],
        )));
        assert_eq!(parsed.rows.len(), 2);
        assert_eq!(parsed.rejected[0].line, 4);
        assert_mentions(
            &parsed.rejected[0].reason,
            &["PRJ-01-S001", "a@intradef.example", "ligne 2"],
        );
    }

    #[test]
    fn every_problem_of_a_row_is_reported_at_once() {
        let row = "Kerjean;;IGA;DGA;pas-un-courriel;06;32/01/2027;09/08/2027;6;P. Laborde";
        let reason = officer_rejection(row);
        assert_mentions(
            &reason,
            &["« Prénom »", "« Courriel »", "« Début d'accompagnement »"],
        );
    }

    #[test]
    fn a_file_mixing_good_and_bad_rows_keeps_the_good_ones_and_locates_the_bad_ones() {
        let rows = [
            "a@intradef.example;PRJ-01-S001;inscrit;15/11/2025", // 2 good
            "b@intradef.example;PRJ-01-S001;annulé;15/11/2025",  // 3 bad status
            "",                                                  // 4 skipped
            "c@intradef.example;PRJ-01-S001;présent;15/11/2025", // 5 good
            "d@intradef;PRJ-01-S001;présent;15/11/2025",         // 6 bad email
            "e@intradef.example;\"PRJ-01\nS001\";présent;15/11/2025", // 7-8 bad reference
            "f@intradef.example;PRJ-01-S001;absent;15/13/2025",  // 9 bad date
            "a@intradef.example;PRJ-01-S001;présent;15/11/2025", // 10 duplicate
            "g@intradef.example;PRJ-01-S001",                    // 11 too few fields
            "h@intradef.example;PRJ-01-S002;liste d'attente;01/12/2025", // 12 good
        ];
        let lf = file(ENROLMENT_HEADER, &rows);
        let crlf = String::from_utf8_lossy(&lf)
            .replace('\n', "\r\n")
            .into_bytes();
        let parsed = ok(parse_enrolments(&lf));
        let with_crlf = ok(parse_enrolments(&crlf));
        assert_eq!(with_crlf.rows, parsed.rows, "CRLF gives other lines");
        let lines =
            |p: &Parsed<EnrolmentRow>| p.rejected.iter().map(|r| r.line).collect::<Vec<_>>();
        assert_eq!(lines(&with_crlf), lines(&parsed), "CRLF gives other lines");
        let good: Vec<(usize, &str)> = parsed
            .rows
            .iter()
            .map(|(line, e)| (*line, e.email.as_str()))
            .collect();
        assert_eq!(
            good,
            [
                (2, "a@intradef.example"),
                (5, "c@intradef.example"),
                (12, "h@intradef.example")
            ]
        );
        let bad: Vec<usize> = parsed.rejected.iter().map(|r| r.line).collect();
        assert_eq!(bad, [3, 6, 7, 9, 10, 11]);
        assert_mentions(&parsed.rejected[0].reason, &["« Statut »", "« annulé »"]);
        assert_mentions(
            &parsed.rejected[1].reason,
            &["« Courriel »", "« d@intradef »"],
        );
        assert_mentions(
            &parsed.rejected[2].reason,
            &["« Réf. session »", "contrôle"],
        );
        assert_mentions(
            &parsed.rejected[3].reason,
            &["« Inscrit le »", "« 15/13/2025 »"],
        );
        assert_mentions(&parsed.rejected[4].reason, &["ligne 2"]);
        assert_mentions(&parsed.rejected[5].reason, &["2 champ"]);
    }

    #[test]
    fn a_missing_column_is_named_as_in_the_files() {
        let parsed = parse_enrolments(&file("Courriel;Réf. session;Inscrit le", &[]));
        assert_eq!(
            parsed,
            Err(FileError::MissingColumns(vec!["Statut".to_string()]))
        );
        let parsed = parse_enrolments(&file("Réf. session;Inscrit le", &[]));
        let expected = FileError::MissingColumns(vec!["Courriel".into(), "Statut".into()]);
        assert_eq!(parsed, Err(expected.clone()));
        assert_eq!(
            expected.to_string(),
            "Colonnes manquantes : Courriel, Statut"
        );
        assert_eq!(
            FileError::MissingColumns(vec!["Statut".into()]).to_string(),
            "Colonne manquante : Statut"
        );
        // Optional columns are not required; a comma-separated file misses them all.
        let header = "Réf. session;Code formation;Date de début;Date de fin;Horaires;Lieu;Places;\
            Clôture des inscriptions;Désistement sans frais jusqu'au";
        assert!(parse_sessions(&file(header, &[])).is_ok());
        let comma = parse_staff(b"Nom,Pr\xC3\xA9nom,Fonction,Courriel,R\xC3\xB4le\n");
        assert_eq!(comma, Err(FileError::WrongSeparator(',')));
        assert!(comma.unwrap_err().to_string().contains("point-virgule"));
    }

    #[test]
    fn a_header_alone_gives_no_rows() {
        let parsed = ok(parse_staff(STAFF_HEADER.as_bytes()));
        assert!(parsed.rows.is_empty() && parsed.rejected.is_empty());
    }

    #[test]
    fn empty_input_is_refused_as_empty() {
        for bytes in [&b""[..], b"\xEF\xBB\xBF", b"\r\n\r\n  \n", b";;;;\n;;\n"] {
            assert_eq!(parse_officers(bytes), Err(FileError::Empty), "{bytes:?}");
        }
        assert_eq!(decode(b""), Err(FileError::Empty));
    }

    #[test]
    fn binary_input_is_refused_as_not_text() {
        // A fixed pseudo-random sequence, so that the test is reproducible.
        let mut state: u32 = 0x2545_f491;
        let mut junk: Vec<u8> = (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state.to_le_bytes()[0]
            })
            .collect();
        assert!(junk.contains(&0));
        assert_eq!(parse_trainings(&junk), Err(FileError::NotText));
        // Still binary once every NUL is gone.
        junk.retain(|&b| b != 0);
        assert_eq!(parse_trainings(&junk), Err(FileError::NotText));
        // A PNG header, and a file with a single NUL.
        assert_eq!(
            decode(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Err(FileError::NotText)
        );
        assert_eq!(decode(b"Nom;Pr\0nom\n"), Err(FileError::NotText));
    }

    #[test]
    fn decoding_strips_the_bom_and_falls_back_to_windows_1252() {
        assert_eq!(
            decode(b"\xEF\xBB\xBFPr\xC3\xA9nom").as_deref(),
            Ok("Prénom")
        );
        assert_eq!(decode(b"Pr\xC3\xA9nom").as_deref(), Ok("Prénom"));
        assert_eq!(decode(b"Pr\xE9nom \x80").as_deref(), Ok("Prénom €"));
        // A UTF-8 byte-order mark before Windows-1252 bytes.
        assert_eq!(decode(b"\xEF\xBB\xBFPr\xE9nom").as_deref(), Ok("Prénom"));
        // UTF-16 with its byte-order mark, as some spreadsheets save "Unicode text".
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "Prénom;x".encode_utf16() {
            bytes.extend(unit.to_le_bytes());
        }
        assert_eq!(decode(&bytes).as_deref(), Ok("Prénom;x"));
    }

    #[test]
    fn file_errors_read_in_french() {
        assert!(FileError::Empty.to_string().contains("vide"));
        assert!(FileError::NotText.to_string().contains("CSV"));
        assert!(
            FileError::Malformed("x".into())
                .to_string()
                .starts_with("Le fichier CSV")
        );
    }

    #[test]
    fn columns_list_the_template_of_each_file() {
        let names: Vec<&str> = ImportKind::Enrolments
            .columns()
            .iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, ["Courriel", "Réf. session", "Statut", "Inscrit le"]);
        let optional: Vec<&str> = ImportKind::Officers
            .columns()
            .iter()
            .filter(|c| !c.required)
            .map(|c| c.name)
            .collect();
        assert_eq!(optional, ["Téléphone", "Durée (mois)", "Conseiller MiRVOG"]);
    }
}

/// Spreadsheets mangled at random: whatever bytes arrive, each parser answers rows or a file
/// error, never a panic; the demo files cut, spliced or sprinkled with junk bytes likewise.
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    const FILES: [&[u8]; 5] = [
        include_bytes!("../../../demo/data/officiers.csv"),
        include_bytes!("../../../demo/data/personnel.csv"),
        include_bytes!("../../../demo/data/catalogue.csv"),
        include_bytes!("../../../demo/data/sessions.csv"),
        include_bytes!("../../../demo/data/inscriptions.csv"),
    ];

    fn parse_all(bytes: &[u8]) {
        let _ = parse_officers(bytes);
        let _ = parse_staff(bytes);
        let _ = parse_trainings(bytes);
        let _ = parse_sessions(bytes);
        let _ = parse_enrolments(bytes);
    }

    /// A demo file, cut at `cut` (a fraction), with `junk` written over it at `at`.
    fn mangled(file: usize, cut: f64, at: f64, junk: &[u8]) -> Vec<u8> {
        let f = FILES[file];
        let end = ((f.len() as f64) * cut) as usize;
        let mut out = f[..end.min(f.len())].to_vec();
        if !out.is_empty() {
            let start = ((out.len() as f64) * at) as usize % out.len();
            for (i, b) in junk.iter().enumerate() {
                if let Some(slot) = out.get_mut(start + i) {
                    *slot = *b;
                }
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 256,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn any_bytes_are_rows_or_a_file_error(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
            parse_all(&bytes);
        }

        #[test]
        fn a_real_sheet_cut_and_sprinkled_with_junk_never_panics(
            file in 0usize..5,
            cut in 0.0f64..1.0,
            at in 0.0f64..1.0,
            junk in prop::collection::vec(any::<u8>(), 0..64),
        ) {
            parse_all(&mangled(file, cut, at, &junk));
        }

        #[test]
        fn a_row_of_any_text_under_a_real_header_never_panics(
            cells in prop::collection::vec("\\PC{0,30}", 1..12),
            file in 0usize..5,
        ) {
            let header = FILES[file].split(|b| *b == b'\n').next().unwrap_or_default();
            let mut sheet = header.to_vec();
            sheet.extend_from_slice(b"\n");
            sheet.extend_from_slice(cells.join(";").as_bytes());
            sheet.extend_from_slice(b"\n");
            parse_all(&sheet);
        }
    }
}

/// The refusal of a spreadsheet row naming an officer whose data were erased (on request or
/// at the end of the retention period): importing them again would bring back what was
/// removed.
pub const ERASED_ROW: &str =
    "Les données de cet officier ont été effacées : retirez cette ligne du tableau.";
