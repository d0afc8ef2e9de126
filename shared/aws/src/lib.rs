//! AWS adapters besides storage: the mail port on SES v2 (raw MIME, so that attachments such as
//! calendar invitations travel as they are) and the event port on EventBridge. Each sits behind
//! a cargo feature of the same name, so that a function links only the clients it calls.

#[cfg(feature = "eventbridge")]
mod eventbridge;
#[cfg(feature = "ses")]
mod ses;

#[cfg(feature = "eventbridge")]
pub use eventbridge::{EVENT_SOURCE, EventBridgePublisher};
#[cfg(feature = "ses")]
pub use ses::SesMailer;
