//! The one-time links of the emails (`/liens/{token}`), opened without signing in.
//!
//! `GET` only says what the link will do and offers a button: mail scanners fetch every link
//! of a message, so a `GET` must never act. The button's `POST` claims the link's nonce once
//! and for all in the store (`claim_once`), then runs the use case as the officer the link
//! names. A second click finds the nonce claimed and changes nothing.
//!
//! The nonce is claimed before the use case runs, so that two clicks at once cannot both act.
//! The claim made, the button checks, as the page does, that the link's question is still open
//! (`is_open`): a link acts only on the state it was sent for, never on a seat won since.
//! Should the use case then refuse (the offer has expired meanwhile, the officer is no longer
//! waiting), the link is spent all the same: its answer is final, since each refusal is a
//! state the link cannot change any more, and the officer can still act in the application.
//!
//! Browsers (`Accept: text/html`) get a French HTML page; other callers, `Accept:
//! application/json` among them, get the outcome, or a problem body, as JSON.

use crate::http::{Incoming, json};
use crate::pages::{self, Button};
use crate::problem::{problem, raw_problem, status_of};
use cassiopee_domain::error::{DomainError, Result};
use cassiopee_domain::ids::{OfficerId, SessionId};
use cassiopee_domain::model::Actor;
use cassiopee_domain::model::EnrolmentStatus;
use cassiopee_domain::notices::french_dates;
use cassiopee_domain::usecases::{self as uc, Deps};
use lambda_http::Body;
use lambda_http::http::{Response, StatusCode};
use serde_json::json;

/// What a link lets its bearer do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    AcceptOffer,
    DeclineOffer,
    LeaveWaitlist,
}

impl Act {
    fn as_str(self) -> &'static str {
        match self {
            Act::AcceptOffer => "accept_offer",
            Act::DeclineOffer => "decline_offer",
            Act::LeaveWaitlist => "leave_waitlist",
        }
    }
}

/// A link whose signature and expiry held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Intent {
    pub act: Act,
    pub session_id: SessionId,
    pub officer_id: OfficerId,
    pub nonce: String,
}

/// Why a link was refused before anything was looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Malformed, or altered: its signature does not match.
    Invalid,
    Expired,
    /// Still signed and in time, but what it answers is over: the offer was answered or has
    /// lapsed, or the officer is no longer on the waiting list.
    Settled,
}

/// Whether the caller wants JSON rather than a page: a browser opening a link or posting its
/// form asks for `text/html`; anything else (`Accept: application/json`, or no preference) gets
/// JSON, problem bodies included.
pub fn wants_json(req: &Incoming) -> bool {
    !req.header("accept")
        .is_some_and(|a| a.to_ascii_lowercase().contains("text/html"))
}

/// "la session « Lire un bilan » du lundi 7 au mardi 8 décembre 2027, de 09h00 à 17h30".
async fn describe(deps: &Deps, session: &SessionId) -> Result<String> {
    let Some(s) = deps.store.session(session).await? else {
        return Ok("la session".to_string());
    };
    let title = match deps.store.training(&s.training_id).await? {
        Some(t) => t.title,
        None => s.reference.clone(),
    };
    Ok(format!("la session « {title} » ({})", french_dates(&s)))
}

fn refused(refusal: Refusal, as_json: bool) -> Response<Body> {
    let (status, code, title, detail) = match refusal {
        Refusal::Invalid => (
            StatusCode::NOT_FOUND,
            "link-invalid",
            "Lien non valide",
            "Ce lien n'est pas valide : il a peut-être été mal copié. Ouvrez l'application \
             Cassiopée pour agir sur votre inscription.",
        ),
        Refusal::Expired => (
            StatusCode::GONE,
            "link-expired",
            "Lien expiré",
            "Ce lien a expiré : le délai pour répondre est passé. Ouvrez l'application \
             Cassiopée pour voir où en est votre inscription.",
        ),
        Refusal::Settled => (
            StatusCode::CONFLICT,
            "link-settled",
            "Plus rien à faire",
            "Ce lien n'a plus d'objet : la proposition a déjà reçu une réponse ou a \
             expiré, ou vous ne figurez plus sur la liste d'attente. Ouvrez l'application \
             Cassiopée pour voir où en est votre inscription.",
        ),
    };
    if as_json {
        raw_problem(status, code, detail, &[])
    } else {
        pages::html(status, pages::page(title, &[detail.to_string()], None))
    }
}

/// Whether the question the link answers is still open: an offer still made to the officer
/// (accept, decline), or the officer still on the waiting list (leave). The page and the
/// button both ask it, so that a link never acts on a state it was not sent for: without it,
/// a "leave the waiting list" link used after a promotion would withdraw the officer from a
/// confirmed seat.
async fn is_open(deps: &Deps, intent: &Intent) -> Result<bool> {
    let status = deps
        .store
        .enrolment(&intent.session_id, &intent.officer_id)
        .await?
        .map(|e| e.status);
    Ok(match intent.act {
        Act::AcceptOffer | Act::DeclineOffer => status == Some(EnrolmentStatus::Offered),
        Act::LeaveWaitlist => status == Some(EnrolmentStatus::Waitlisted),
    })
}

/// `GET /liens/{token}`: what the link will do, and the button that does it.
pub async fn show(
    deps: &Deps,
    path: &str,
    intent: std::result::Result<Intent, Refusal>,
    as_json: bool,
) -> Result<Response<Body>> {
    let intent = match intent {
        Ok(i) => i,
        Err(r) => return Ok(refused(r, as_json)),
    };
    // The page says what the link would do now: nothing, once its question is settled.
    if !is_open(deps, &intent).await? {
        return Ok(refused(Refusal::Settled, as_json));
    }
    let what = describe(deps, &intent.session_id).await?;
    let (title, text, label) = match intent.act {
        Act::AcceptOffer => (
            "Accepter la place proposée",
            format!("Une place vous est proposée pour {what}. Confirmez pour l'accepter."),
            "Accepter la place",
        ),
        Act::DeclineOffer => (
            "Décliner la place proposée",
            format!(
                "Une place vous est proposée pour {what}. Confirmez pour la décliner : elle \
                 sera proposée à la personne suivante."
            ),
            "Décliner la place",
        ),
        Act::LeaveWaitlist => (
            "Quitter la liste d'attente",
            format!("Confirmez pour retirer votre nom de la liste d'attente de {what}."),
            "Quitter la liste d'attente",
        ),
    };
    if as_json {
        return Ok(json(
            StatusCode::OK,
            &json!({
                "action": intent.act.as_str(),
                "title": title,
                "detail": text,
                "label": label,
            }),
        ));
    }
    let note = "Rien n'est fait tant que vous n'avez pas appuyé sur le bouton.".to_string();
    Ok(pages::html(
        StatusCode::OK,
        pages::page(
            title,
            &[text, note],
            Some(Button {
                action: path,
                label,
            }),
        ),
    ))
}

/// `POST /liens/{token}`: claims the link once, then acts as the officer it names.
pub async fn act(
    deps: &Deps,
    intent: std::result::Result<Intent, Refusal>,
    as_json: bool,
) -> Result<Response<Body>> {
    let intent = match intent {
        Ok(i) => i,
        Err(r) => return Ok(refused(r, as_json)),
    };
    let what = describe(deps, &intent.session_id).await?;
    let key = format!("link:{}", intent.nonce);
    if !deps.store.claim_once(&key, deps.now()).await? {
        let detail = "Ce lien a déjà servi : votre réponse avait déjà été enregistrée, \
                      rien n'a changé.";
        return Ok(if as_json {
            json(
                StatusCode::OK,
                &json!({
                    "outcome": "already_done",
                    "action": intent.act.as_str(),
                    "detail": detail,
                }),
            )
        } else {
            pages::html(
                StatusCode::OK,
                pages::page("Déjà fait", &[detail.to_string()], None),
            )
        });
    }
    // Checked after the claim, so that a second click still reads "already done": a settled
    // question spends the link like any other refusal (see the module's doc).
    if !is_open(deps, &intent).await? {
        tracing::info!(
            action = intent.act.as_str(),
            officer = %intent.officer_id,
            session = %intent.session_id,
            "one-time link used on a settled question"
        );
        return Ok(refused(Refusal::Settled, as_json));
    }
    let actor = Actor::officer(&intent.officer_id);
    let outcome = match intent.act {
        Act::AcceptOffer | Act::DeclineOffer => uc::answer_offer(
            deps,
            &intent.session_id,
            &intent.officer_id,
            intent.act == Act::AcceptOffer,
            actor,
        )
        .await
        .map(|status| json!({ "status": status })),
        Act::LeaveWaitlist => uc::withdraw(deps, &intent.session_id, &intent.officer_id, actor)
            .await
            .and_then(|o| serde_json::to_value(o).map_err(DomainError::internal)),
    };
    tracing::info!(
        action = intent.act.as_str(),
        officer = %intent.officer_id,
        session = %intent.session_id,
        done = outcome.is_ok(),
        "one-time link used"
    );
    let result = match outcome {
        Ok(r) => r,
        Err(e) => {
            return Ok(if as_json {
                problem(&e)
            } else {
                let status = status_of(&e);
                if status.is_server_error() {
                    tracing::error!(error = %e, "one-time link failed");
                }
                let detail = if status.is_server_error() {
                    "Votre demande n'a pu aboutir. Réessayez plus tard dans l'application."
                        .to_string()
                } else {
                    e.detail.clone()
                };
                pages::html(status, pages::page("Action impossible", &[detail], None))
            });
        }
    };
    let (title, text) = match intent.act {
        Act::AcceptOffer => (
            "Place acceptée",
            format!("Votre inscription à {what} est confirmée."),
        ),
        Act::DeclineOffer => (
            "Place déclinée",
            format!("Vous avez décliné la place proposée pour {what}."),
        ),
        Act::LeaveWaitlist => (
            "Liste d'attente quittée",
            format!("Vous ne figurez plus sur la liste d'attente de {what}."),
        ),
    };
    Ok(if as_json {
        json(
            StatusCode::OK,
            &json!({
                "outcome": "done",
                "action": intent.act.as_str(),
                "result": result,
                "detail": text,
            }),
        )
    } else {
        pages::html(StatusCode::OK, pages::page(title, &[text], None))
    })
}
