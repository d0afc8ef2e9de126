//! The mail port on SES v2.

use async_trait::async_trait;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, MessageTag, RawMessage};
use cassiopee_adapters::mime_message;
use cassiopee_domain::error::{DomainError, Result};
use cassiopee_domain::notices::OutgoingEmail;
use cassiopee_domain::ports::Mailer;
use lettre::message::Mailbox;

/// Sends each email through SES v2 as a raw MIME message built by `lettre`, the same bytes the
/// local outbox writes: the text and HTML parts as `multipart/alternative`, inside a
/// `multipart/mixed` when a calendar invitation goes with them. (SES's `Simple` content would
/// carry the two parts but no attachment, hence the raw message.)
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
    async fn send(&self, email: &OutgoingEmail, notice: Option<i64>) -> Result<Option<String>> {
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
        if let Some(id) = notice {
            // SES hands the tags back in every event it publishes for this email: the delivery
            // reports find their notice by it.
            let tag = MessageTag::builder()
                .name(cassiopee_domain::ledger::NOTICE_TAG)
                .value(id.to_string())
                .build()
                .map_err(|e| DomainError::internal(format!("ses email tag: {e}")))?;
            request = request.email_tags(tag);
        }
        let sent = request.send().await.map_err(|e| {
            DomainError::internal(format!(
                "ses send_email: {}",
                aws_sdk_sesv2::error::DisplayErrorContext(&e)
            ))
        })?;
        tracing::info!(
            message_id = sent.message_id().unwrap_or(""),
            notice,
            "email handed to SES"
        );
        Ok(sent.message_id().map(str::to_string))
    }
}
