//! Errors as `application/problem+json` (RFC 9457): a stable `type`, the HTTP status, and a
//! French `detail` for the UI. Internal causes are logged once here and never sent.

use cassiopee_domain::error::{DomainError, ErrorKind};
use lambda_http::Body;
use lambda_http::http::{Response, StatusCode, header};
use serde_json::json;

pub const PROBLEM_BASE: &str = "https://cassiopee.mirvog.invalid/problems/";

pub fn status_of(e: &DomainError) -> StatusCode {
    match e.kind {
        ErrorKind::Invalid if e.code == "malformed-request" => StatusCode::BAD_REQUEST,
        ErrorKind::Invalid if e.code == "payload-too-large" => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
        ErrorKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn title_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "Requête invalide",
        401 => "Authentification requise",
        403 => "Accès refusé",
        404 => "Introuvable",
        405 => "Méthode non autorisée",
        406 => "Format non disponible",
        409 => "Conflit",
        410 => "Expiré",
        413 => "Requête trop volumineuse",
        415 => "Type de contenu non pris en charge",
        422 => "Données invalides",
        429 => "Trop de requêtes",
        503 => "Service momentanément indisponible",
        _ => "Erreur interne",
    }
}

/// Renders an error. Internal ones are logged with their cause; client mistakes are not logged
/// beyond their code.
pub fn problem(e: &DomainError) -> Response<Body> {
    let status = status_of(e);
    if e.kind == ErrorKind::Internal {
        tracing::error!(
            error.code = e.code,
            error.cause = e.cause.as_deref().unwrap_or(""),
            "internal error"
        );
    } else if e.kind == ErrorKind::Unavailable {
        tracing::warn!(
            error.code = e.code,
            error.cause = e.cause.as_deref().unwrap_or(""),
            "a dependency gave up"
        );
    } else {
        tracing::info!(
            error.code = e.code,
            status = status.as_u16(),
            "request refused"
        );
    }
    let mut r = raw_problem(status, e.code, &e.detail, &e.fields);
    if let Some(seconds) = e.retry_after
        && let Ok(v) = seconds.to_string().parse()
    {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

pub fn raw_problem(
    status: StatusCode,
    code: &str,
    detail: &str,
    fields: &[cassiopee_domain::error::FieldError],
) -> Response<Body> {
    let mut body = json!({
        "type": format!("{PROBLEM_BASE}{code}"),
        "title": title_of(status),
        "status": status.as_u16(),
        "detail": detail,
        "code": code,
    });
    if !fields.is_empty() {
        body["errors"] = json!(fields);
    }
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/problem+json")
        .body(Body::Text(body.to_string()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_never_shows_its_cause() {
        let r = problem(&DomainError::internal(
            "sqlite: disk I/O error at /secret/path",
        ));
        assert_eq!(r.status(), 500);
        let Body::Text(text) = r.body() else {
            panic!("text body")
        };
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("\"type\":\"https://cassiopee.mirvog.invalid/problems/internal\""));
    }

    #[test]
    fn a_dependency_that_gave_up_answers_503_with_a_delay_and_no_cause() {
        let r = problem(&DomainError::unavailable("dynamodb: ThrottlingException"));
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
        let Body::Text(text) = r.body() else {
            panic!("text body")
        };
        assert!(!text.contains("Throttling"), "{text}");
        assert!(text.contains("temporarily-unavailable"), "{text}");
    }

    #[test]
    fn field_errors_are_listed_and_answer_422() {
        let r = problem(&DomainError::field("capacity", "Trop grand."));
        assert_eq!(r.status(), 422);
        let Body::Text(text) = r.body() else {
            panic!("text body")
        };
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(v["errors"][0]["field"], "capacity");
    }
}
