//! The scheduled and event-driven functions: promote-waitlist, send-reminders and
//! compute-statistics. Each takes the raw Lambda payload (an EventBridge event or a scheduler
//! invocation) and answers a small JSON summary.

use crate::routes::Function;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use cassiopee_domain::error::{DomainError, Result};
use cassiopee_domain::outreach;
use cassiopee_domain::ports::DomainEvent;
use cassiopee_domain::usecases::{self as uc, Deps};
use serde_json::{Value, json};

/// The EventBridge `source` of Cassiopée's domain events.
pub const EVENT_SOURCE: &str = "cassiopee";

/// Wraps a domain event as EventBridge delivers it to a target.
pub fn eventbridge_envelope(event: &DomainEvent, time: chrono::DateTime<chrono::Utc>) -> Value {
    json!({
        "version": "0",
        "id": ulid::Ulid::generate().to_string(),
        "detail-type": event.detail_type(),
        "source": EVENT_SOURCE,
        "account": "000000000000",
        "time": time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "region": "eu-west-3",
        "resources": [],
        "detail": event,
    })
}

/// Runs a job function on its payload.
pub async fn dispatch(deps: &Deps, function: Function, payload: Value) -> Result<Value> {
    match function {
        Function::PromoteWaitlist => promote_waitlist(deps, payload).await,
        Function::SendReminders => {
            let queued = uc::send_reminders(deps).await?;
            let invited = outreach::invite_to_undersubscribed_sessions(
                deps,
                outreach::DEFAULT_INVITATION_DAYS,
            )
            .await?;
            let closed = outreach::close_waiting_lists(deps).await?;
            Ok(json!({
                "reminders_queued": queued,
                "invitations_queued": invited,
                "waitlist_closed_queued": closed,
            }))
        }
        Function::ComputeStatistics => {
            let (snapshot, asked) = uc::compute_statistics(deps).await?;
            Ok(json!({ "rows": snapshot.rows.len(), "feedback_requests_queued": asked }))
        }
        other => Err(DomainError::internal(format!(
            "{} is not a job function",
            other.name()
        ))),
    }
}

/// promote-waitlist: a domain event frees seats for one session; the periodic sweep (a
/// scheduled event) expires offers and catches up on every open session.
async fn promote_waitlist(deps: &Deps, payload: Value) -> Result<Value> {
    let envelope: EventBridgeEvent<Value> = serde_json::from_value(payload).map_err(|e| {
        DomainError::invalid("malformed-event", format!("événement illisible : {e}"))
    })?;
    if envelope.detail_type == "Scheduled Event" || envelope.source == "aws.scheduler" {
        let promoted = uc::sweep_offers(deps).await?;
        return Ok(json!({ "swept": true, "promoted": promoted }));
    }
    let event: DomainEvent = serde_json::from_value(envelope.detail)
        .map_err(|e| DomainError::invalid("malformed-event", format!("détail illisible : {e}")))?;
    let promoted = uc::on_event(deps, &event).await?;
    Ok(json!({ "promoted": promoted }))
}
