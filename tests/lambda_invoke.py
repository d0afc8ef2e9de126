"""Every function, built by cargo-lambda and served by `cargo lambda watch`, invoked with its
sample event from `events/` through `cargo lambda invoke`, on the real AWS adapters pointed at
the emulator (moto): the DynamoDB store, the SES v2 mailer and the EventBridge publisher.

The emulator's table is seeded with the demo spreadsheets by the local server in DynamoDB mode
(the same import as `POST /admin/imports/{kind}`); the functions then run on a clock started at
the time the sample events were written for (`CASSIOPEE_CLOCK`).

Run by `scripts/test.sh` after `cargo test`, with `CASSIOPEE_MOTO_ENDPOINT` set. Prints one line
per case and `lambda invoke: N passed, M failed`; exits non-zero on any failure.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
REGION = "eu-west-3"
CLOCK = "2026-12-03T10:00"
SESSION_WITH_ROSTER = "01KDVDNA000E2MJW76XV3QK2DP"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def aws_env(endpoint):
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }


def client(service, endpoint):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def wait_for(predicate, what, timeout, proc=None, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.25)
    tail = Path(log).read_text(errors="replace")[-4000:] if log else ""
    raise SystemExit(f"{what} did not happen within {timeout} s\n{tail}")


def seed_table(endpoint, env, work):
    """Creates and seeds the table with the local server in DynamoDB mode, then stops it."""
    port = free_port()
    log = work / "seed.log"
    with open(log, "w") as out:
        server = subprocess.Popen(
            ["cargo", "run", "--quiet", "--locked", "-p", "cassiopee-local"],
            cwd=ROOT,
            env={**os.environ, **env, "CASSIOPEE_ADDR": f"127.0.0.1:{port}"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(
            lambda: "écoute sur" in log.read_text(errors="replace"),
            "seeding the emulator's table",
            600,
            server,
            log,
        )
    finally:
        server.terminate()
        server.wait(30)
    text = log.read_text(errors="replace")
    rejected = [int(n) for n in re.findall(r"(\d+) rejetés", text)]
    if len(rejected) != 5 or any(rejected):
        raise SystemExit(f"the demo import did not go through cleanly:\n{text[-4000:]}")


def prepare_aws(endpoint, run):
    """A verified sender domain, an event bus and an SQS queue that receives its events."""
    domain = f"{run}.cassiopee.invalid"
    client("sesv2", endpoint).create_email_identity(EmailIdentity=domain)
    bus = f"cassiopee-invoke-{run}"
    events = client("events", endpoint)
    events.create_event_bus(Name=bus)
    sqs = client("sqs", endpoint)
    queue_url = sqs.create_queue(QueueName=f"cassiopee-invoke-{run}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(
        Name=f"all-{run}", EventBusName=bus, EventPattern=json.dumps({"source": ["cassiopee"]})
    )
    events.put_targets(
        Rule=f"all-{run}", EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn}]
    )
    return domain, bus, queue_url


def received_events(endpoint, queue_url):
    sqs = client("sqs", endpoint)
    kinds = []
    for _ in range(30):
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            break
        kinds += [json.loads(m["Body"])["detail-type"] for m in got]
    return kinds


def sent_emails(endpoint):
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json") as r:
        data = json.load(r)
    return json.dumps(data.get("ses", {}).get("RawMessage", {}))


def invoke(port, function, event_file):
    """`cargo lambda invoke`, answering the function's response as JSON."""
    out = subprocess.run(
        [
            "cargo",
            "lambda",
            "invoke",
            function,
            "--data-file",
            str(EVENTS / event_file),
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
            str(port),
            "--output-format",
            "json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if out.returncode != 0:
        raise AssertionError(f"cargo lambda invoke failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout)


def http_body(response):
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        raise AssertionError("unexpected base64 body")
    return json.loads(body) if body else None


def check_http(status, check=None):
    def run(response):
        assert response["statusCode"] == status, f"status {response['statusCode']}: {response}"
        body = http_body(response)
        if check:
            check(body)

    return run


def expect(cond, message):
    if not cond:
        raise AssertionError(message)


# (function, sample event, what its answer must be). Writes come before the reads that see them.
CASES = [
    (
        "list-sessions",
        "list-sessions.json",
        check_http(200, lambda b: expect(b["count"] > 0, f"no session listed: {b}")),
    ),
    (
        "enrol",
        "enrol.json",
        check_http(201, lambda b: expect(b["status"] == "confirmed", f"not confirmed: {b}")),
    ),
    (
        "withdraw",
        "withdraw.json",
        check_http(200, lambda b: expect(b["status"] == "withdrawn", f"not withdrawn: {b}")),
    ),
    # The notices those two changes queued are sent by send-reminders, woken by NoticesQueued
    # (the enrolment's confirmation, at least).
    (
        "send-reminders",
        "send-reminders-notices-queued.json",
        lambda r: expect(r.get("emails_sent", 0) >= 1 and "reminders_queued" not in r, f"{r}"),
    ),
    (
        "officer-profile",
        "officer-profile.json",
        check_http(200, lambda b: expect(
            any(e["status"] == "confirmed" for e in b["enrolments"]),
            f"the new enrolment is not listed: {str(b)[:400]}",
        )),
    ),
    (
        "staff-catalogue",
        "staff-catalogue.json",
        check_http(200, lambda b: expect(len(b["trainings"]) == 18, f"{str(b)[:400]}")),
    ),
    (
        "staff-sessions",
        "staff-sessions.json",
        check_http(200, lambda b: expect(len(b["roster"]) == 11, f"{str(b)[:400]}")),
    ),
    (
        "staff-officers",
        "staff-officers.json",
        check_http(200, lambda b: expect(len(b["officers"]) == 112, f"{str(b)[:400]}")),
    ),
    (
        "staff-imports",
        "staff-imports.json",
        check_http(200, lambda b: expect(b["created"] == 1, f"{b}")),
    ),
    (
        "promote-waitlist",
        "promote-waitlist.json",
        lambda r: expect("promoted" in r, f"{r}"),
    ),
    (
        "promote-waitlist",
        "promote-waitlist-sweep.json",
        lambda r: expect(r.get("swept") is True, f"{r}"),
    ),
    (
        "promote-waitlist",
        "promote-waitlist-ses-bounce.json",
        lambda r: expect("changed" in r or r.get("ignored") is True, f"{r}"),
    ),
    (
        "send-reminders",
        "send-reminders.json",
        lambda r: expect(isinstance(r.get("reminders_queued"), int), f"{r}"),
    ),
    (
        "compute-statistics",
        "compute-statistics.json",
        lambda r: expect(r.get("rows", 0) > 10, f"{r}"),
    ),
]


def main():
    endpoint = os.environ.get("CASSIOPEE_MOTO_ENDPOINT")
    if not endpoint:
        print("lambda invoke: CASSIOPEE_MOTO_ENDPOINT is not set (scripts/test.sh sets it)")
        print("lambda invoke: 0 passed, 1 failed")
        return 1
    if shutil.which("cargo-lambda") is None:
        print("lambda invoke: cargo-lambda is not on PATH (scripts/aws-tools.sh installs it)")
        print("lambda invoke: 0 passed, 1 failed")
        return 1
    run = uuid.uuid4().hex[:12]
    work = Path(tempfile.mkdtemp(prefix="cassiopee-invoke-"))
    table = f"cassiopee-invoke-{run}"
    domain, bus, queue_url = prepare_aws(endpoint, run)
    env = {
        **aws_env(endpoint),
        "CASSIOPEE_STORE": "dynamodb",
        "CASSIOPEE_TABLE": table,
        "CASSIOPEE_CLOCK": CLOCK,
        "CASSIOPEE_DATA": str(work / "data"),
    }
    started = time.monotonic()
    seed_table(endpoint, env, work)
    print(f"table {table} seeded in {time.monotonic() - started:.1f} s")

    port = free_port()
    function_env = {
        **env,
        "CASSIOPEE_MAILER": "ses",
        "CASSIOPEE_MAIL_FROM": f"Cassiopée <ne-pas-repondre@{domain}>",
        "CASSIOPEE_EVENT_BUS": bus,
        # Required inside Lambda (cargo lambda watch sets AWS_LAMBDA_FUNCTION_NAME).
        "CASSIOPEE_PUBLIC_URL": "http://127.0.0.1:8080",
        "CASSIOPEE_LINK_SECRET": "lambda-invoke-test-secret-of-at-least-32-bytes",
        "RUST_LOG": "warn",
    }
    log = work / "watch.log"
    with open(log, "w") as out:
        watch = subprocess.Popen(
            [
                "cargo",
                "lambda",
                "watch",
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
                str(port),
                "--ignore-changes",
                "--timeout",
                "900",
                "--env-var",
                ",".join(f"{k}={v}" for k, v in function_env.items()),
            ],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    passed = failed = 0
    try:
        def listening():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return True
            except OSError:
                return False

        wait_for(listening, "cargo lambda watch listening", 120, watch, log)
        for function, event_file, check in CASES:
            t0 = time.monotonic()
            try:
                check(invoke(port, function, event_file))
                passed += 1
                print(f"ok    {function:<20} {event_file:<30} {time.monotonic() - t0:6.1f} s")
            except (AssertionError, KeyError, TypeError, ValueError) as e:
                failed += 1
                print(f"FAIL  {function:<20} {event_file:<30} {e}")
        # The real adapters did their part: mail handed to SES, events put on the bus. The
        # queue is read once: a message received is hidden from the next read.
        events_seen = []

        def seen_events():
            if not events_seen:
                events_seen.extend(received_events(endpoint, queue_url))
            return events_seen

        for what, check in [
            (
                "confirmation email sent through SES",
                lambda: expect(
                    "herve.kerjean@intradef.example" in sent_emails(endpoint),
                    "no email to herve.kerjean in moto's SES",
                ),
            ),
            (
                "SeatReleased published on EventBridge",
                lambda: expect(
                    "SeatReleased" in seen_events(),
                    "no SeatReleased event reached the queue",
                ),
            ),
            (
                "NoticesQueued published on EventBridge",
                lambda: expect(
                    "NoticesQueued" in seen_events(),
                    "no NoticesQueued event reached the queue",
                ),
            ),
        ]:
            try:
                check()
                passed += 1
                print(f"ok    {what}")
            except AssertionError as e:
                failed += 1
                print(f"FAIL  {what}: {e}")
    finally:
        os.killpg(watch.pid, 15)
        try:
            watch.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(watch.pid, 9)
    if failed:
        print(log.read_text(errors="replace")[-6000:])
    print(f"lambda invoke: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
