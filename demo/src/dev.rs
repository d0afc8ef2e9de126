//! Routes of the local mode only (never deployed): sign-in, the clock, the outbox, the jobs.

use crate::Local;
use anyhow::Context;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cassiopee_api::jobs;
use cassiopee_api::routes::Function;
use cassiopee_domain::model::Email;
use cassiopee_domain::time::{self, to_paris_rfc3339};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::path::Path as FsPath;

pub const ISSUER: &str = "cassiopee-local";
pub const AUDIENCE: &str = "cassiopee";

/// Claims of a local token, shaped like a Cognito ID token.
#[derive(Debug, Serialize, Deserialize)]
pub struct TokenClaims {
    pub sub: String,
    pub email: String,
    #[serde(
        rename = "cognito:groups",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub groups: Vec<String>,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
}

/// Signs and verifies local tokens (HS256) with a secret kept in the data folder, so that a
/// restart keeps people signed in.
pub struct Signer {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl Signer {
    pub fn load_or_create(dir: &FsPath) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).context("creating the data folder")?;
        let path = dir.join("dev-signing-key");
        let secret = match std::fs::read(&path) {
            Ok(s) if s.len() >= 32 => s,
            _ => {
                let s: Vec<u8> = (0..4)
                    .flat_map(|_| ulid::Ulid::generate().0.to_le_bytes())
                    .collect();
                std::fs::write(&path, &s).context("writing the local signing key")?;
                s
            }
        };
        Ok(Self {
            encoding: EncodingKey::from_secret(&secret).context("signing key")?,
            decoding: DecodingKey::from_secret(&secret).context("signing key")?,
        })
    }

    pub fn sign(&self, sub: &str, email: &str, staff: bool) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = TokenClaims {
            sub: sub.to_string(),
            email: email.to_string(),
            groups: if staff {
                vec!["staff".into()]
            } else {
                Vec::new()
            },
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            exp: now + 12 * 3600,
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// Verifies a token as API Gateway's JWT authorizer would (signature, issuer, audience,
    /// expiry) and answers the claims it hands to the function: every value as a string, and
    /// groups as Cognito's `[a b]`.
    pub fn verify(&self, token: &str) -> Option<HashMap<String, String>> {
        let mut v = Validation::new(Algorithm::HS256);
        v.set_issuer(&[ISSUER]);
        v.set_audience(&[AUDIENCE]);
        let data = jsonwebtoken::decode::<TokenClaims>(token, &self.decoding, &v).ok()?;
        let c = data.claims;
        let mut claims = HashMap::from([
            ("sub".to_string(), c.sub),
            ("email".to_string(), c.email),
            ("iss".to_string(), c.iss),
            ("aud".to_string(), c.aud),
            ("exp".to_string(), c.exp.to_string()),
            ("iat".to_string(), c.iat.to_string()),
            ("token_use".to_string(), "id".to_string()),
        ]);
        if !c.groups.is_empty() {
            claims.insert("cognito:groups".into(), format!("[{}]", c.groups.join(" ")));
        }
        Some(claims)
    }
}

fn problem(status: StatusCode, code: &str, detail: &str) -> Response {
    let r = cassiopee_api::problem::raw_problem(status, code, detail, &[]);
    crate::gateway::to_axum(r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    email: String,
}

/// `POST /dev/sign-in {"email": "..."}` → `{"token": "..."}` for a known officer or staff member.
pub async fn sign_in(State(local): State<Local>, body: axum::body::Bytes) -> Response {
    let Ok(req) = serde_json::from_slice::<SignIn>(&body) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "malformed-request",
            "Corps attendu : {\"email\": \"prenom.nom@intradef.example\"}.",
        );
    };
    let Some(email) = Email::parse(&req.email) else {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            "Adresse électronique invalide.",
        );
    };
    let store = &local.deps.store;
    let found = match (
        store.staff_by_email(&email).await,
        store.officer_by_email(&email).await,
    ) {
        (Ok(Some(s)), _) => Some((
            s.id.to_string(),
            true,
            format!("{} {}", s.first_name, s.last_name),
        )),
        (_, Ok(Some(o))) => Some((
            o.id.to_string(),
            false,
            format!("{} {} {}", o.grade, o.first_name, o.last_name),
        )),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "sign-in lookup failed");
            return problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Une erreur interne est survenue.",
            );
        }
        _ => None,
    };
    let Some((sub, staff, name)) = found else {
        return problem(
            StatusCode::NOT_FOUND,
            "unknown-account",
            "Aucun officier ni membre du personnel n'a cette adresse.",
        );
    };
    match local.signer.sign(&sub, email.as_str(), staff) {
        Ok(token) => Json(json!({
            "token": token,
            "role": if staff { "staff" } else { "officer" },
            "name": name,
        }))
        .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot sign a local token");
            problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Une erreur interne est survenue.",
            )
        }
    }
}

fn clock_body(local: &Local) -> Response {
    let now = local.deps.now();
    Json(json!({ "now": to_paris_rfc3339(now), "utc": now.to_rfc3339() })).into_response()
}

pub async fn get_clock(State(local): State<Local>) -> Response {
    clock_body(&local)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetClock {
    now: Option<String>,
    advance: Option<String>,
}

/// `POST /dev/clock` with `{"now": "2026-05-05T10:00:00+02:00"}` or `{"advance": "PT48H"}`.
pub async fn set_clock(State(local): State<Local>, body: axum::body::Bytes) -> Response {
    let Ok(req) = serde_json::from_slice::<SetClock>(&body) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "malformed-request",
            "Corps attendu : {\"now\": \"2026-05-05T10:00:00+02:00\"} ou {\"advance\": \"PT48H\"}.",
        );
    };
    match (req.now, req.advance) {
        (Some(now), None) => match time::parse_instant(&now) {
            Ok(t) => local.clock.set(t),
            Err(e) => {
                return problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid-time",
                    &e.to_string(),
                );
            }
        },
        (None, Some(by)) => match time::parse_duration(&by) {
            Ok(d) => local.clock.advance(d),
            Err(e) => {
                return problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid-duration",
                    &e.to_string(),
                );
            }
        },
        _ => {
            return problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-field",
                "Donnez soit « now », soit « advance ».",
            );
        }
    }
    clock_body(&local)
}

/// One email of the outbox, decoded.
#[derive(Serialize)]
pub struct OutboxEntry {
    pub file: String,
    pub to: String,
    pub subject: String,
    pub date: String,
    pub text: String,
    /// The HTML alternative, when the email has one.
    pub html: Option<String>,
    /// The files attached (a calendar invitation, say).
    pub attachments: Vec<OutboxAttachment>,
}

/// A file attached to an email of the outbox.
#[derive(Serialize)]
pub struct OutboxAttachment {
    pub filename: String,
    pub content_type: String,
    pub text: String,
}

/// The first part of `mimetype` that is not an attachment, depth first.
fn body_of(mail: &mailparse::ParsedMail<'_>, mimetype: &str) -> Option<String> {
    if mail.subparts.is_empty() {
        let attached =
            mail.get_content_disposition().disposition == mailparse::DispositionType::Attachment;
        return (mail.ctype.mimetype == mimetype && !attached)
            .then(|| mail.get_body().ok())
            .flatten();
    }
    mail.subparts.iter().find_map(|p| body_of(p, mimetype))
}

fn attachments_of(mail: &mailparse::ParsedMail<'_>, out: &mut Vec<OutboxAttachment>) {
    let disposition = mail.get_content_disposition();
    if disposition.disposition == mailparse::DispositionType::Attachment {
        out.push(OutboxAttachment {
            filename: disposition
                .params
                .get("filename")
                .cloned()
                .unwrap_or_default(),
            content_type: mail
                .headers
                .iter()
                .find(|h| h.get_key().eq_ignore_ascii_case("Content-Type"))
                .map(|h| h.get_value())
                .unwrap_or_default(),
            text: mail.get_body().unwrap_or_default(),
        });
    }
    for p in &mail.subparts {
        attachments_of(p, out);
    }
}

pub fn read_outbox(dir: &FsPath) -> Vec<OutboxEntry> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .collect()
        })
        .unwrap_or_default();
    // The outbox names its files so that they sort in the order they were written.
    files.sort_by_key(|e| e.file_name());
    files
        .into_iter()
        .filter_map(|e| {
            let raw = std::fs::read(e.path()).ok()?;
            let mail = mailparse::parse_mail(&raw).ok()?;
            let header = |name: &str| {
                mail.headers
                    .iter()
                    .find(|h| h.get_key().eq_ignore_ascii_case(name))
                    .map(|h| h.get_value())
                    .unwrap_or_default()
            };
            Some(OutboxEntry {
                file: e.file_name().to_string_lossy().into_owned(),
                to: header("To"),
                subject: header("Subject"),
                date: header("Date"),
                text: body_of(&mail, "text/plain").unwrap_or_default(),
                html: body_of(&mail, "text/html"),
                attachments: {
                    let mut found = Vec::new();
                    attachments_of(&mail, &mut found);
                    found
                },
            })
        })
        .collect()
}

/// `GET /dev/outbox`: every email written, oldest first, once those queued so far are sent.
pub async fn outbox(State(local): State<Local>) -> Response {
    local.deps.events.settle().await;
    let emails = read_outbox(&local.outbox_dir);
    Json(json!({ "count": emails.len(), "emails": emails })).into_response()
}

/// A scheduler invocation, as EventBridge Scheduler sends it to a target.
pub fn scheduled_event(now: chrono::DateTime<chrono::Utc>) -> serde_json::Value {
    json!({
        "version": "0",
        "id": ulid::Ulid::generate().to_string(),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": "000000000000",
        "time": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "region": "eu-west-3",
        "resources": [],
        "detail": {},
    })
}

pub fn job_function(name: &str) -> Option<Function> {
    match name {
        "promote-waitlist" => Some(Function::PromoteWaitlist),
        "send-reminders" => Some(Function::SendReminders),
        "compute-statistics" => Some(Function::ComputeStatistics),
        _ => None,
    }
}

/// `POST /dev/jobs/{name}`: runs a scheduled job now, with the event its schedule would send.
pub async fn run_job(State(local): State<Local>, Path(name): Path<String>) -> Response {
    let Some(function) = job_function(&name) else {
        return problem(
            StatusCode::NOT_FOUND,
            "job-not-found",
            "Tâche inconnue : promote-waitlist, send-reminders ou compute-statistics.",
        );
    };
    match jobs::dispatch(&local.deps, function, scheduled_event(local.deps.now())).await {
        Ok(summary) => Json(json!({ "job": name, "result": summary })).into_response(),
        Err(e) => crate::gateway::to_axum(cassiopee_api::problem::problem(&e)),
    }
}

/// Runs the scheduled jobs on timers, as EventBridge Scheduler would: the offer sweep every
/// minute, reminders every five minutes, statistics every hour.
pub fn spawn_timers(local: Local) {
    let every = [
        (Function::PromoteWaitlist, 60u64),
        (Function::SendReminders, 300),
        (Function::ComputeStatistics, 3600),
    ];
    for (function, seconds) in every {
        let local = local.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(seconds));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let event = scheduled_event(local.deps.now());
                if let Err(e) = jobs::dispatch(&local.deps, function, event).await {
                    tracing::error!(job = function.name(), error = %e, "scheduled job failed");
                }
            }
        });
    }
}
