//! The scheduled and event-driven functions: promote-waitlist, send-reminders and
//! compute-statistics. Each takes the raw Lambda payload (an EventBridge event or a scheduler
//! invocation) and answers a small JSON summary.

use crate::routes::Function;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use cassiopee_domain::error::{DomainError, Result};
use cassiopee_domain::ledger::{self, DeliveryReport};
use cassiopee_domain::outreach;
use cassiopee_domain::ports::{DeliveryStatus, DomainEvent};
use cassiopee_domain::privacy;
use cassiopee_domain::usecases::{self as uc, Deps};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;

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

/// Runs a job function on its payload (the local server and the tests: a deployed function
/// runs its own [`Job`] only).
pub async fn dispatch(deps: &Deps, function: Function, payload: Value) -> Result<Value> {
    match function {
        Function::PromoteWaitlist => PromoteWaitlist::run(deps, payload).await,
        Function::SendReminders => SendReminders::run(deps, payload).await,
        Function::ComputeStatistics => ComputeStatistics::run(deps, payload).await,
        other => Err(DomainError::internal(format!(
            "{} is not a job function",
            other.name()
        ))),
    }
}

/// What one job function does with its payload, fixed at compile time, so that its binary
/// links no other job (as `handlers::Operations` does for the HTTP functions).
pub trait Job {
    fn run(deps: &Deps, payload: Value) -> impl Future<Output = Result<Value>> + Send;
}

/// promote-waitlist: see [`promote_waitlist`].
pub struct PromoteWaitlist;

impl Job for PromoteWaitlist {
    fn run(deps: &Deps, payload: Value) -> impl Future<Output = Result<Value>> + Send {
        promote_waitlist(deps, payload)
    }
}

/// send-reminders: on its schedule, queues what is due, then sends within one budget of the
/// function's time; on a `NoticesQueued` event (a change queued notices), only sends.
pub struct SendReminders;

impl Job for SendReminders {
    async fn run(deps: &Deps, payload: Value) -> Result<Value> {
        if payload.get("detail-type").and_then(Value::as_str)
            == Some(DomainEvent::NoticesQueued.detail_type())
        {
            let sent = uc::drain_outbox(deps, uc::JOB_BUDGET).await;
            return Ok(json!({ "emails_sent": sent }));
        }
        // Everything is queued first, then sent within one budget of the function's time.
        let queued = uc::queue_reminders(deps).await?;
        let invited =
            outreach::invite_to_undersubscribed_sessions(deps, outreach::DEFAULT_INVITATION_DAYS)
                .await?;
        let closed = outreach::close_waiting_lists(deps).await?;
        let sent = uc::drain_outbox(deps, uc::JOB_BUDGET).await;
        let digests = outreach::send_staff_digests(deps).await?;
        Ok(json!({
            "reminders_queued": queued,
            "invitations_queued": invited,
            "waitlist_closed_queued": closed,
            "emails_sent": sent,
            "staff_digests_sent": digests,
        }))
    }
}

/// compute-statistics: the daily purge of ended accompaniments, then the statistics.
pub struct ComputeStatistics;

impl Job for ComputeStatistics {
    async fn run(deps: &Deps, _payload: Value) -> Result<Value> {
        // Purged first, so that the snapshot is computed on what is kept.
        let purged = privacy::purge_ended_accompaniments(deps, deps.retention_months).await?;
        let (snapshot, asked) = uc::compute_statistics(deps).await?;
        Ok(json!({
            "rows": snapshot.rows.len(),
            "feedback_requests_queued": asked,
            "officers_purged": purged,
        }))
    }
}

/// promote-waitlist: a domain event frees seats for one session; the periodic sweep (a
/// scheduled event) expires offers and catches up on every open session. It also takes the
/// delivery reports SES publishes on the default bus (source `aws.ses`), which complete the
/// notification ledger.
async fn promote_waitlist(deps: &Deps, payload: Value) -> Result<Value> {
    let envelope: EventBridgeEvent<Value> = serde_json::from_value(payload).map_err(|e| {
        DomainError::invalid("malformed-event", format!("événement illisible : {e}"))
    })?;
    if envelope.source == SES_SOURCE {
        return ses_report(deps, &envelope).await;
    }
    if envelope.detail_type == "Scheduled Event" || envelope.source == "aws.scheduler" {
        let promoted = uc::sweep_offers(deps).await?;
        return Ok(json!({ "swept": true, "promoted": promoted }));
    }
    let event: DomainEvent = serde_json::from_value(envelope.detail)
        .map_err(|e| DomainError::invalid("malformed-event", format!("détail illisible : {e}")))?;
    let promoted = uc::on_event(deps, &event).await?;
    Ok(json!({ "promoted": promoted }))
}

/// The EventBridge `source` of SES's events.
pub const SES_SOURCE: &str = "aws.ses";

/// The part of an SES event (`detail`) that the ledger reads.
#[derive(Deserialize)]
struct SesDetail {
    #[serde(rename = "eventType")]
    event_type: String,
    mail: SesMail,
    bounce: Option<SesStamp>,
    complaint: Option<SesStamp>,
    delivery: Option<SesStamp>,
}

#[derive(Deserialize)]
struct SesMail {
    #[serde(rename = "messageId", default)]
    message_id: String,
    /// Every tag of the email, each with its values.
    #[serde(default)]
    tags: HashMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct SesStamp {
    timestamp: Option<String>,
    #[serde(rename = "bounceType")]
    bounce_type: Option<String>,
}

/// Reads a delivery report out of an SES event: `None` for an event of another type, or
/// about an email that carries no notice tag (sent by something else than the outbox).
pub fn delivery_report(
    envelope: &EventBridgeEvent<Value>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<DeliveryReport>> {
    let detail: SesDetail = serde_json::from_value(envelope.detail.clone()).map_err(|e| {
        DomainError::invalid("malformed-event", format!("événement SES illisible : {e}"))
    })?;
    let (status, stamp) = match detail.event_type.as_str() {
        "Delivery" => (DeliveryStatus::Delivered, &detail.delivery),
        "Bounce" => (DeliveryStatus::Bounced, &detail.bounce),
        "Complaint" => (DeliveryStatus::Complained, &detail.complaint),
        _ => return Ok(None),
    };
    let Some(notice_id) = detail
        .mail
        .tags
        .get(ledger::NOTICE_TAG)
        .and_then(|values| values.first())
        .and_then(|v| v.parse::<i64>().ok())
    else {
        tracing::warn!(
            message_id = detail.mail.message_id,
            "SES report about an email without a notice tag"
        );
        return Ok(None);
    };
    if let Some(kind) = stamp.as_ref().and_then(|s| s.bounce_type.as_deref()) {
        tracing::info!(notice = notice_id, bounce_type = kind, "bounce reported");
    }
    // The report's own time, else the time EventBridge stamped on the event.
    let at = stamp
        .as_ref()
        .and_then(|s| s.timestamp.as_deref())
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
        .or(envelope.time)
        .unwrap_or(now);
    Ok(Some(DeliveryReport {
        notice_id,
        status,
        at,
    }))
}

async fn ses_report(deps: &Deps, envelope: &EventBridgeEvent<Value>) -> Result<Value> {
    match delivery_report(envelope, deps.now())? {
        Some(report) => {
            let changed = ledger::record_delivery(deps, &report).await?;
            Ok(json!({
                "notice": report.notice_id,
                "delivery": report.status,
                "changed": changed,
            }))
        }
        None => Ok(json!({ "ignored": true })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> EventBridgeEvent<Value> {
        serde_json::from_str(include_str!(
            "../../../events/promote-waitlist-ses-bounce.json"
        ))
        .expect("the sample event parses")
    }

    #[test]
    fn the_sample_ses_bounce_names_its_notice_status_and_time() {
        let now = chrono::Utc::now();
        let report = delivery_report(&sample(), now)
            .expect("readable")
            .expect("a report");
        assert_eq!(report.notice_id, 1);
        assert_eq!(report.status, DeliveryStatus::Bounced);
        assert_eq!(
            report
                .at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "2026-12-03T10:05:11.420Z"
        );
    }

    #[test]
    fn other_ses_events_and_untagged_emails_are_ignored_and_garbage_refused() {
        let now = chrono::Utc::now();
        let mut opened = sample();
        opened.detail["eventType"] = json!("Open");
        assert_eq!(delivery_report(&opened, now).expect("readable"), None);
        let mut untagged = sample();
        untagged.detail["mail"]["tags"] = json!({ "notice": ["pas-un-nombre"] });
        assert_eq!(delivery_report(&untagged, now).expect("readable"), None);
        let mut garbage = sample();
        garbage.detail = json!({ "eventType": 3 });
        let err = delivery_report(&garbage, now).expect_err("refused");
        assert_eq!(err.code, "malformed-event");
    }
}
