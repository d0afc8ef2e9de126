//! Errors. A caller branches on [`ErrorKind`] (which becomes an HTTP status) and on the stable
//! `code` (which becomes the problem `type`); `detail` is French text meant for the person
//! using the app. Internal failures keep their cause for the logs and never show it.

use serde::Serialize;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ErrorKind {
    /// The input is malformed or breaks a rule on its own (HTTP 400 or 422).
    Invalid,
    /// The thing does not exist, or is not the caller's to see (HTTP 404).
    NotFound,
    /// The request clashes with the current state (HTTP 409).
    Conflict,
    /// The caller is known but not allowed (HTTP 403).
    Forbidden,
    /// The caller is not identified (HTTP 401).
    Unauthenticated,
    /// No format the caller accepts can be served (HTTP 406).
    NotAcceptable,
    /// The caller made too many changes in a short time (HTTP 429).
    TooManyRequests,
    /// A dependency is overloaded or unreachable and retries ran out (HTTP 503, with
    /// `Retry-After`): the same request may succeed in a moment, and nothing was applied twice.
    Unavailable,
    /// Something failed on our side (HTTP 500); the detail shown is generic.
    Internal,
}

/// A problem with one field of the input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainError {
    pub kind: ErrorKind,
    /// Stable, machine-readable: the last segment of the problem `type`.
    pub code: &'static str,
    /// French, for the UI.
    pub detail: String,
    pub fields: Vec<FieldError>,
    /// For internal errors only: the cause, for the logs.
    pub cause: Option<String>,
    /// For [`ErrorKind::TooManyRequests`] and [`ErrorKind::Unavailable`]: seconds until the
    /// caller may try again.
    pub retry_after: Option<u32>,
}

impl DomainError {
    fn new(kind: ErrorKind, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            kind,
            code,
            detail: detail.into(),
            fields: Vec::new(),
            cause: None,
            retry_after: None,
        }
    }

    /// Too many changes: the caller may try again in `retry_after` seconds.
    pub fn too_many_changes(limit: u32, minutes: i64, retry_after: u32) -> Self {
        let wait = retry_after.div_ceil(60).max(1);
        let mut e = Self::new(
            ErrorKind::TooManyRequests,
            "too-many-changes",
            format!(
                "Vous avez effectué {limit} modifications en moins de {minutes} minutes : \
                 réessayez dans {wait} minute{}.",
                if wait > 1 { "s" } else { "" }
            ),
        );
        e.retry_after = Some(retry_after);
        e
    }

    pub fn invalid(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, code, detail)
    }

    pub fn field(field: &str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        let mut e = Self::new(ErrorKind::Invalid, "invalid-field", detail.clone());
        e.fields.push(FieldError {
            field: field.to_string(),
            detail,
        });
        e
    }

    pub fn not_found(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, code, detail)
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, code, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, "forbidden", detail)
    }

    pub fn not_acceptable(available: &str) -> Self {
        Self::new(
            ErrorKind::NotAcceptable,
            "not-acceptable",
            format!(
                "Aucun des formats demandés (en-tête Accept) n'est disponible ici : {available}."
            ),
        )
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            ErrorKind::Unauthenticated,
            "unauthenticated",
            "Veuillez vous connecter.",
        )
    }

    /// Wraps a failure of an adapter. The cause goes to the logs, never to the client.
    pub fn internal(cause: impl fmt::Display) -> Self {
        let mut e = Self::new(
            ErrorKind::Internal,
            "internal",
            "Une erreur interne est survenue. Réessayez dans quelques instants.",
        );
        e.cause = Some(cause.to_string());
        e
    }

    /// The store gave up on transient faults (throttling, conflicts, a lost connection) after
    /// its bounded retries.
    pub fn unavailable(cause: impl fmt::Display) -> Self {
        let mut e = Self::new(
            ErrorKind::Unavailable,
            "temporarily-unavailable",
            "Le service est très sollicité en ce moment : réessayez dans quelques secondes.",
        );
        e.cause = Some(cause.to_string());
        e.retry_after = Some(2);
        e
    }

    pub fn session_not_found() -> Self {
        Self::not_found("session-not-found", "Cette session n'existe pas.")
    }

    pub fn training_not_found() -> Self {
        Self::not_found("training-not-found", "Cette formation n'existe pas.")
    }

    pub fn officer_not_found() -> Self {
        Self::not_found("officer-not-found", "Cet officier n'existe pas.")
    }

    /// A session still has `live` enrolments (held, waiting or marked): it cannot be deleted.
    pub fn session_not_deletable(live: u32) -> Self {
        Self::conflict(
            "session-not-deletable",
            format!(
                "Impossible de supprimer cette session : {live} inscription(s) y sont en cours ou \
                 déjà pointées. Désinscrivez d'abord les officiers, ou annulez la session."
            ),
        )
    }

    pub fn feedback_not_attended() -> Self {
        Self::conflict(
            "feedback-not-attended",
            "Seuls les officiers présents à la session peuvent donner leur avis.",
        )
    }

    pub fn feedback_already_given() -> Self {
        Self::conflict(
            "feedback-already-given",
            "Vous avez déjà donné votre avis sur cette session : une seule réponse est possible.",
        )
    }

    pub fn enrolment_not_found() -> Self {
        Self::not_found("enrolment-not-found", "Aucune inscription à cette session.")
    }
}

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)?;
        if let Some(cause) = &self.cause {
            write!(f, " (cause: {cause})")?;
        }
        Ok(())
    }
}

impl std::error::Error for DomainError {}

impl From<crate::time::TimeError> for DomainError {
    fn from(e: crate::time::TimeError) -> Self {
        DomainError::invalid("invalid-time", e.to_string())
    }
}

pub type Result<T, E = DomainError> = std::result::Result<T, E>;
