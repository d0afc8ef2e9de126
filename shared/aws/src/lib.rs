//! AWS adapters besides storage: the mail port on SES v2 (raw MIME, so that attachments such as
//! calendar invitations travel as they are) and the event port on EventBridge.

use async_trait::async_trait;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};
use cassiopee_adapters::mime_message;
use cassiopee_domain::error::{DomainError, Result};
use cassiopee_domain::notices::OutgoingEmail;
use cassiopee_domain::ports::{DomainEvent, EventPublisher, Mailer};
use lettre::message::Mailbox;

/// Sends each email through SES v2 as a raw MIME message built by `lettre`, the same bytes the
/// local outbox writes.
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    from: Mailbox,
    configuration_set: Option<String>,
}

impl SesMailer {
    pub fn new(
        client: aws_sdk_sesv2::Client,
        from: &str,
        configuration_set: Option<String>,
    ) -> Result<Self> {
        let from = from
            .parse()
            .map_err(|e| DomainError::internal(format!("bad sender: {e}")))?;
        Ok(Self {
            client,
            from,
            configuration_set,
        })
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<()> {
        let message = mime_message(&self.from, email)?;
        let raw = RawMessage::builder()
            .data(Blob::new(message.formatted()))
            .build()
            .map_err(|e| DomainError::internal(format!("ses raw message: {e}")))?;
        let mut request = self
            .client
            .send_email()
            .from_email_address(self.from.to_string())
            .destination(
                Destination::builder()
                    .to_addresses(email.to.as_str())
                    .build(),
            )
            .content(EmailContent::builder().raw(raw).build());
        if let Some(set) = &self.configuration_set {
            request = request.configuration_set_name(set);
        }
        let sent = request.send().await.map_err(|e| {
            DomainError::internal(format!(
                "ses send_email: {}",
                aws_sdk_sesv2::error::DisplayErrorContext(&e)
            ))
        })?;
        tracing::info!(
            message_id = sent.message_id().unwrap_or(""),
            "email handed to SES"
        );
        Ok(())
    }
}

/// The `source` of every Cassiopée event on the bus.
pub const EVENT_SOURCE: &str = "cassiopee";

/// Publishes domain events on an EventBridge bus, ten entries per call (the service's limit).
pub struct EventBridgePublisher {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl EventBridgePublisher {
    pub fn new(client: aws_sdk_eventbridge::Client, bus: impl Into<String>) -> Self {
        Self {
            client,
            bus: bus.into(),
        }
    }
}

#[async_trait]
impl EventPublisher for EventBridgePublisher {
    async fn publish(&self, events: &[DomainEvent]) -> Result<()> {
        for chunk in events.chunks(10) {
            let mut entries = Vec::with_capacity(chunk.len());
            for event in chunk {
                let detail = serde_json::to_string(event).map_err(DomainError::internal)?;
                entries.push(
                    PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(EVENT_SOURCE)
                        .detail_type(event.detail_type())
                        .detail(detail)
                        .build(),
                );
            }
            let out = self
                .client
                .put_events()
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| {
                    DomainError::internal(format!(
                        "eventbridge put_events: {}",
                        aws_sdk_eventbridge::error::DisplayErrorContext(&e)
                    ))
                })?;
            if out.failed_entry_count() > 0 {
                let reasons: Vec<String> = out
                    .entries()
                    .iter()
                    .filter_map(|e| {
                        e.error_code()
                            .map(|c| format!("{c}: {}", e.error_message().unwrap_or("")))
                    })
                    .collect();
                return Err(DomainError::internal(format!(
                    "eventbridge refused events: {}",
                    reasons.join("; ")
                )));
            }
        }
        Ok(())
    }
}
