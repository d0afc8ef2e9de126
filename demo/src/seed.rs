//! The demo data: a copy of the MiRVOG spreadsheets, imported through the same use case as
//! `POST /admin/imports/{kind}` on first start with an empty store.

use cassiopee_domain::import::ImportKind;
use cassiopee_domain::model::Actor;
use cassiopee_domain::usecases::{self as uc, Deps, ImportReport};

/// The files, in the order their references need: staff before the officers they advise,
/// trainings before their sessions, everything before the enrolments.
pub const DEMO_FILES: [(ImportKind, &[u8]); 5] = [
    (ImportKind::Staff, include_bytes!("../data/personnel.csv")),
    (
        ImportKind::Officers,
        include_bytes!("../data/officiers.csv"),
    ),
    (
        ImportKind::Trainings,
        include_bytes!("../data/catalogue.csv"),
    ),
    (ImportKind::Sessions, include_bytes!("../data/sessions.csv")),
    (
        ImportKind::Enrolments,
        include_bytes!("../data/inscriptions.csv"),
    ),
];

/// Imports the demo files when the store holds nothing yet. Answers the reports, or nothing
/// when the store was already in use.
pub async fn seed_if_empty(deps: &Deps) -> anyhow::Result<Option<Vec<ImportReport>>> {
    if !deps.store.is_empty().await? {
        return Ok(None);
    }
    let mut reports = Vec::new();
    for (kind, bytes) in DEMO_FILES {
        let report = uc::import(deps, kind, bytes, Actor::import("demo-seed")).await?;
        reports.push(report);
    }
    Ok(Some(reports))
}
