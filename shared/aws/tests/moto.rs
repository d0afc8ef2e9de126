//! The SES and EventBridge adapters against moto's server over HTTP: sent mail is read back
//! from the emulator, published events are observed through an SQS target.

use aws_sdk_sqs::types::QueueAttributeName;
use cassiopee_aws::{EventBridgePublisher, SesMailer};
use cassiopee_domain::ids::{OfficerId, SessionId};
use cassiopee_domain::model::{Email, EnrolmentStatus};
use cassiopee_domain::notices::{Attachment, OutgoingEmail};
use cassiopee_domain::ports::{DomainEvent, EventPublisher, Mailer};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The emulator's endpoint: `CASSIOPEE_MOTO_ENDPOINT` when the test command started one,
/// otherwise one started here from the project's virtualenv, which exits with this process.
fn endpoint() -> Option<String> {
    static ENDPOINT: OnceLock<Option<String>> = OnceLock::new();
    ENDPOINT
        .get_or_init(|| {
            if let Ok(e) = std::env::var("CASSIOPEE_MOTO_ENDPOINT") {
                return Some(e);
            }
            let python = repo().join(".venv/bin/python");
            let script = repo().join("scripts/moto_server.py");
            if !python.exists() {
                return None;
            }
            let port = TcpListener::bind("127.0.0.1:0")
                .ok()?
                .local_addr()
                .ok()?
                .port();
            let code = format!(
                "import os, sys, threading, time\n\
                 parent = os.getppid()\n\
                 def watch():\n    while os.getppid() == parent: time.sleep(0.5)\n    os._exit(0)\n\
                 threading.Thread(target=watch, daemon=True).start()\n\
                 sys.argv = ['moto_server', '{port}']\n\
                 exec(open({script:?}).read())\n"
            );
            Command::new(python)
                .arg("-c")
                .arg(code)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .ok()?;
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Some(format!("http://127.0.0.1:{port}"));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            None
        })
        .clone()
}

/// The endpoint, or a loud skip; under `CI=true` a missing emulator fails the test.
fn require_moto() -> Option<String> {
    match endpoint() {
        Some(e) => Some(e),
        None if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("the AWS emulator is missing: run scripts/aws-tools.sh (CI must have it)")
        }
        None => {
            eprintln!("SKIPPED: no AWS emulator (run scripts/aws-tools.sh to install moto)");
            None
        }
    }
}

async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("eu-west-3"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_sesv2::config::Credentials::new(
            "test", "test", None, None, "static",
        ))
        .load()
        .await
}

/// GET on the emulator's own API, with the standard library only.
fn moto_get(endpoint: &str, path: &str) -> String {
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("connect to moto");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn ses_sends_the_raw_mime_message_to_its_recipient() {
    let Some(endpoint) = require_moto() else {
        return;
    };
    let config = sdk_config(&endpoint).await;
    let client = aws_sdk_sesv2::Client::new(&config);
    let domain = format!(
        "{}.cassiopee.invalid",
        ulid::Ulid::generate().to_string().to_lowercase()
    );
    client
        .create_email_identity()
        .email_identity(&domain)
        .send()
        .await
        .expect("verify the domain");
    let mailer = SesMailer::new(
        client,
        &format!("Cassiopée <ne-pas-repondre@{domain}>"),
        None,
    )
    .expect("mailer");
    let marker = ulid::Ulid::generate().to_string();
    let email = OutgoingEmail {
        to: Email::parse("jean.dupont@intradef.example").expect("email"),
        subject: format!("Inscription confirmée {marker}"),
        text: "Bonjour,\n\nVotre inscription est confirmée.".into(),
        html: Some("<p>Bonjour,</p><p>Votre inscription est confirmée.</p>".into()),
        date: chrono::Utc::now(),
        attachments: vec![Attachment {
            filename: "invitation.ics".into(),
            content_type: "text/calendar; charset=utf-8; method=REQUEST".into(),
            bytes: format!("BEGIN:VCALENDAR\r\nUID:{marker}\r\nEND:VCALENDAR\r\n").into_bytes(),
        }],
    };

    let message_id = mailer.send(&email, Some(42)).await.expect("sent");
    assert!(
        message_id.is_some_and(|m| !m.is_empty()),
        "SES answers the message id"
    );

    let data = moto_get(&endpoint, "/moto-api/data.json");
    let json: serde_json::Value = serde_json::from_str(&data).expect("moto data");
    let raw = json["ses"]["RawMessage"].to_string();
    assert!(
        raw.contains("jean.dupont@intradef.example"),
        "recipient missing: {raw:.400}"
    );
    assert!(
        raw.contains(&marker),
        "subject marker missing from the MIME: {raw:.400}"
    );
    assert!(
        raw.contains("filename=\\\"invitation.ics\\\"") && raw.contains(&format!("UID:{marker}")),
        "the calendar attachment did not reach SES: {raw:.1200}"
    );
    assert!(
        raw.contains("multipart/alternative") && raw.contains("text/html"),
        "the HTML alternative did not reach SES: {raw:.1200}"
    );
}

#[tokio::test]
async fn ses_refuses_a_sender_that_is_not_verified() {
    let Some(endpoint) = require_moto() else {
        return;
    };
    let config = sdk_config(&endpoint).await;
    let mailer = SesMailer::new(
        aws_sdk_sesv2::Client::new(&config),
        "x@unverified-domain.invalid",
        None,
    )
    .expect("mailer");
    let email = OutgoingEmail {
        to: Email::parse("jean.dupont@intradef.example").expect("email"),
        subject: "Test".into(),
        text: "Test".into(),
        html: None,
        date: chrono::Utc::now(),
        attachments: Vec::new(),
    };
    let err = mailer
        .send(&email, None)
        .await
        .expect_err("an unverified sender must fail");
    assert_eq!(err.kind, cassiopee_domain::ErrorKind::Internal);
}

#[tokio::test]
async fn events_reach_a_rule_target_with_their_detail_type_and_detail() {
    let Some(endpoint) = require_moto() else {
        return;
    };
    let config = sdk_config(&endpoint).await;
    let events = aws_sdk_eventbridge::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let name = format!(
        "cassiopee-test-{}",
        ulid::Ulid::generate().to_string().to_lowercase()
    );
    events
        .create_event_bus()
        .name(&name)
        .send()
        .await
        .expect("bus");
    let queue = sqs
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .expect("queue");
    let queue_url = queue.queue_url().expect("queue url").to_string();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue arn");
    let queue_arn = attrs
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .expect("arn")
        .clone();
    events
        .put_rule()
        .name(&name)
        .event_bus_name(&name)
        .event_pattern(
            r#"{"source": ["cassiopee"], "detail-type": ["SeatReleased", "EnrolmentChanged"]}"#,
        )
        .send()
        .await
        .expect("rule");
    events
        .put_targets()
        .rule(&name)
        .event_bus_name(&name)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(&queue_arn)
                .build()
                .expect("target"),
        )
        .send()
        .await
        .expect("target");
    let session = SessionId::generate();
    let published: Vec<DomainEvent> = (0..12)
        .map(|i| {
            if i == 0 {
                DomainEvent::SeatReleased {
                    session_id: session.clone(),
                }
            } else {
                DomainEvent::EnrolmentChanged {
                    session_id: session.clone(),
                    officer_id: OfficerId::generate(),
                    status: EnrolmentStatus::Confirmed,
                }
            }
        })
        .collect();

    EventBridgePublisher::new(events, &name)
        .publish(&published)
        .await
        .expect("published");

    let mut bodies = Vec::new();
    for _ in 0..10 {
        let got = sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive");
        bodies.extend(
            got.messages()
                .iter()
                .filter_map(|m| m.body().map(str::to_string)),
        );
        if bodies.len() >= published.len() {
            break;
        }
    }
    assert_eq!(
        bodies.len(),
        12,
        "twelve events in two calls of at most ten"
    );
    let parsed: Vec<serde_json::Value> = bodies
        .iter()
        .map(|b| serde_json::from_str(b).expect("event json"))
        .collect();
    let released = parsed
        .iter()
        .find(|e| e["detail-type"] == "SeatReleased")
        .expect("a SeatReleased event");
    assert_eq!(released["source"], "cassiopee");
    assert_eq!(released["detail"]["type"], "seat_released");
    assert_eq!(released["detail"]["session_id"], session.as_str());
}
