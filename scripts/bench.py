"""Cassiopée's performance figures in one table: local throughput of the one-process mode, and
start → first response / warm invoke of every Lambda bootstrap.

    .venv/bin/python scripts/bench.py [throughput] [starts [N] [no-store]] [instructions]
    .venv/bin/python scripts/bench.py report [N]

- throughput: the local server (release build) on the embedded store, loaded by `wrk` (Debian's
  package) on 127.0.0.1 with 2 threads and 32 connections for 10 s per case, on the same 2
  cores as the server: `GET /sessions` as an officer, then `POST /sessions/{id}/enrolment`
  from 6,000 officers over the open sessions (each request a new enrolment; only 201 answers
  count).
- instructions: callgrind's instruction count of one request (`GET /sessions`, and an
  enrolment with its withdrawal) in process on the embedded store with the demo data: the
  release `handler-cpu` binary runs under valgrind for 20 and for 120 requests, and the
  difference is divided by 100, so that the setup (opening, importing the demo) cancels out.
  Counts, unlike times, do not depend on what else the machine is doing.
- report: one table, one row per function (a sub-row per route it owns measured in process):
  start → first response p50/p95 over N starts (default 30) and warm p50, as `starts N
  no-store`; handler CPU p50/p99 and its own share (without the store's) p50/p99, as
  `handler-cpu`; instructions per request for list-sessions and enrol, as `instructions`.
  It reads the binaries' JSON lines (`CASSIOPEE_BENCH_FORMAT=json`) and builds nothing: the
  bootstraps come from `scripts/build-lambdas.sh --x86-64` (a function without one is left
  blank, with a note), the binaries from `cargo build --release --locked -p cassiopee-bench`.
- starts: `cassiopee-bench`'s cold-start binary over the x86-64 bootstraps that
  `scripts/build-lambdas.sh --x86-64` writes, on the real DynamoDB/SES/EventBridge adapters
  pointed at moto (started here, single-threaded, its table seeded with the demo data).

Bounded: every wrk run lasts 10 s; the cold-start run is 30 starts × (1 + 50 warm) invocations
per function and event; every subprocess of `report` has a timeout.
"""

import json
from datetime import datetime
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
sys.path.insert(0, str(ROOT / "tests"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, token=None, body=None, content_type="application/json"):
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", content_type)
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def sign_in(base, email):
    status, body = call(base, "POST", "/dev/sign-in", body={"email": email})
    assert status == 200, body
    return body["token"]


def officers_csv(n):
    header = (
        "Nom;Prénom;Grade;Armée / service;Courriel;Téléphone;Début d'accompagnement;"
        "Fin d'accompagnement;Durée (mois);Conseiller MiRVOG\r\n"
    )
    rows = [
        f"Charge{i};Officier;Général de brigade;Armée de terre;charge.{i}@intradef.example;"
        f"06 00 00 00 00;01/09/2026;31/12/2027;16;P. Laborde\r\n"
        for i in range(n)
    ]
    return ("\ufeff" + header + "".join(rows)).encode("utf-8")


def wrk(url, lua, seconds=10):
    out = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", "-s", str(lua), url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    return out.stdout + out.stderr


# Officers who enrol in the throughput run: each may make 10 changes in 10 minutes (the quota
# of changes), so that 2,000 officers capped the run at 2,000 enrolments/s over its 10 s.
OFFICERS = 6000


def throughput():
    server_bin = TARGET / os.environ.get("CASSIOPEE_BENCH_PROFILE", "release") / "cassiopee-local"
    if not server_bin.exists():
        raise SystemExit(f"{server_bin} missing: cargo build --release -p cassiopee-local")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk missing: apt-get install -y wrk")
    work = Path(tempfile.mkdtemp(prefix="cassiopee-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(work / "server.log", "w")
    server = subprocess.Popen(
        [str(server_bin)],
        env={
            **os.environ,
            "CASSIOPEE_DATA": str(work / "data"),
            "CASSIOPEE_ADDR": f"127.0.0.1:{port}",
            "CASSIOPEE_CLOCK": "2026-12-01T10:00",
            "RUST_LOG": "error",
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    results = []
    try:
        for _ in range(600):
            if "écoute sur" in (work / "server.log").read_text(errors="replace"):
                break
            time.sleep(0.1)
        staff = sign_in(base, "hugues.vidal@intradef.example")
        status, report = call(
            base, "POST", "/admin/imports/officers", staff, officers_csv(OFFICERS), "text/csv"
        )
        assert status == 200, report
        officer = sign_in(base, "herve.kerjean@intradef.example")
        status, listing = call(base, "GET", "/sessions", officer)
        assert status == 200, listing
        clock = datetime.fromisoformat("2026-12-01T10:00:00+01:00")
        open_sessions = [
            s["id"]
            for s in listing["sessions"]
            if datetime.fromisoformat(s["enrolment_closes_at"]) > clock
            and s.get("status") != "cancelled"
        ]
        print(f"{len(open_sessions)} sessions open for enrolment, {OFFICERS:,} more officers imported")

        lua = work / "list.lua"
        lua.write_text(f'wrk.headers["authorization"] = "Bearer {officer}"\n')
        out = wrk(base + "/sessions", lua)
        size = len(json.dumps(listing, ensure_ascii=False).encode()) // 1000
        label = f"GET /sessions (officer, {len(listing['sessions'])} sessions, {size} KB)"
        results.append((label, parse_wrk(out), None))

        tokens = [sign_in(base, f"charge.{i}@intradef.example") for i in range(OFFICERS)]
        lua = work / "enrol.lua"
        lua.write_text(enrol_script(tokens, open_sessions))
        outbox = work / "data" / "outbox"
        emails_before = len(list(outbox.glob("*.eml")))
        out = wrk(base + "/", lua)
        created = sum(int(x) for x in re.findall(r"^created (\d+)$", out, re.M))
        other = re.findall(r"^other (\d+) (\d+)$", out, re.M)
        results.append(("POST /sessions/{id}/enrolment (new enrolments)", parse_wrk(out), (created, other)))
        # Each enrolment queued its email (confirmation or place on the list), which the
        # server's sender thread writes after the answer: count those written while wrk ran,
        # then wait (at most 120 s) until the count stops growing.
        emails = len(list(outbox.glob("*.eml"))) - emails_before
        print(f"emails written during the enrolments: {emails:,} for {created:,} enrolments")
        waited = time.monotonic()
        settled = emails
        while time.monotonic() - waited < 120:
            time.sleep(1)
            now_count = len(list(outbox.glob("*.eml"))) - emails_before
            if now_count == settled:
                break
            settled = now_count
        print(
            f"emails written in all: {settled:,}, the last "
            f"{time.monotonic() - waited - 1:.1f} s after wrk stopped"
        )
    finally:
        server.terminate()
        server.wait(30)
    print()
    print(f"{'local throughput (2 cores, wrk -t2 -c32 -d10s)':<52} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}  counted")
    for label, (rps, p50, p99), extra in results:
        counted = ""
        if extra:
            created, other = extra
            counted = f"{created / 10:.0f} enrolments/s (201); other answers: {other}"
        print(f"{label:<52} {rps:>9} {p50:>8} {p99:>8}  {counted}")


def enrol_script(tokens, sessions):
    """Each request enrols the next (officer, session) pair; counts 201s per thread."""
    pairs = json.dumps(tokens)
    return (
        "local tokens = " + pairs.replace("[", "{").replace("]", "}") + "\n"
        "local sessions = " + json.dumps(sessions).replace("[", "{").replace("]", "}") + "\n"
        + r"""
local threads = {}
function setup(thread)
  thread:set("offset", #threads)
  table.insert(threads, thread)
end
function init(args)
  n = 0
  created = 0
  other = {}
  stride = 2
end
function request()
  local i = offset + n * stride
  n = n + 1
  local t = tokens[(i % #tokens) + 1]
  local s = sessions[(math.floor(i / #tokens) % #sessions) + 1]
  local headers = {}
  headers["authorization"] = "Bearer " .. t
  headers["content-type"] = "application/json"
  return wrk.format("POST", "/sessions/" .. s .. "/enrolment", headers, "")
end
function response(status, headers, body)
  if status == 201 then
    created = created + 1
  else
    other[status] = (other[status] or 0) + 1
  end
end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    io.write(string.format("created %d\n", t:get("created")))
    local o = t:get("other")
    for k, v in pairs(o) do io.write(string.format("other %d %d\n", k, v)) end
  end
end
"""
    )


def parse_wrk(out):
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)", out, re.M)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)", out, re.M)

    def to_ms(m):
        if not m:
            return "?"
        v, unit = float(m.group(1)), m.group(2)
        return f"{v / 1000 if unit == 'us' else v * 1000 if unit == 's' else v:.2f}"

    if not rps:
        print(out)
    return (f"{float(rps.group(1)):.0f}" if rps else "?", to_ms(p50), to_ms(p99))


def seed(env, work):
    """Creates and seeds the emulator's table: the local server in DynamoDB mode, then stops."""
    port = free_port()
    log_path = work / "seed.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [str(TARGET / "release" / "cassiopee-local")],
            env={**os.environ, **env, "CASSIOPEE_ADDR": f"127.0.0.1:{port}"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        for _ in range(3000):
            if "écoute sur" in log_path.read_text(errors="replace"):
                return
            if server.poll() is not None:
                break
            time.sleep(0.2)
        raise SystemExit("seeding failed:\n" + log_path.read_text(errors="replace")[-3000:])
    finally:
        server.terminate()
        server.wait(30)


def function_env(endpoint, work):
    """The bootstraps' environment: the AWS adapters pointed at `endpoint`, files under `work`."""
    from lambda_invoke import aws_env

    return {
        **aws_env(endpoint),
        "CASSIOPEE_STORE": "dynamodb",
        "CASSIOPEE_TABLE": "bench",
        "CASSIOPEE_CLOCK": "2026-12-03T10:00",
        "CASSIOPEE_DATA": str(work / "data"),
        "CASSIOPEE_MAILER": "outbox",
        "CASSIOPEE_OUTBOX": str(work / "outbox"),
        # Required inside Lambda (the bootstraps see AWS_LAMBDA_FUNCTION_NAME): without
        # them every function fails its cold start.
        "CASSIOPEE_PUBLIC_URL": "http://127.0.0.1:8080",
        "CASSIOPEE_LINK_SECRET": "bench-link-secret-0123456789abcdef",
    }


def starts(count, no_store=False):
    """With `no_store`, only the event answered before any AWS call: no emulator is started or
    seeded (nothing listens at the endpoint, and nothing calls it)."""
    lambda_dir = TARGET / "lambda-x86_64"
    bench_bin = TARGET / "release" / "cold-start"
    for need in [lambda_dir, bench_bin]:
        if not need.exists():
            raise SystemExit(
                f"{need} missing: scripts/build-lambdas.sh --x86-64 and "
                "cargo build --release -p cassiopee-bench"
            )
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    moto = None
    if not no_store:
        moto = subprocess.Popen(
            [str(ROOT / ".venv/bin/python"), str(ROOT / "scripts/moto_server.py"), str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    try:
        for _ in range(150 if moto else 0):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        work = Path(tempfile.mkdtemp(prefix="cassiopee-bench-"))
        env = function_env(endpoint, work)
        if moto:
            seed(env, work)
        print()
        subprocess.run(
            [str(bench_bin), str(lambda_dir), str(count), "50"] + (["no-store"] if no_store else []),
            env={**os.environ, **env, "RUST_LOG": "error"},
            check=True,
        )
    finally:
        if moto:
            moto.terminate()
            moto.wait(30)


def callgrind_total(binary, args, timeout=900):
    """Instructions executed by `binary args` under callgrind: (the main thread's, every
    thread's). The main thread serves the requests; the others are the local bus's notice
    sender (the emails) and the store's checkpointer."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--separate-threads=yes",
                f"--callgrind-out-file={out}",
                str(binary),
                *args,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
        )
        totals = {}
        for part in Path(tmp).glob("callgrind.out*"):
            for line in part.read_text().splitlines():
                if line.startswith("summary:") or line.startswith("totals:"):
                    totals[part.name] = int(line.split()[1])
                    break
        if not totals:
            raise RuntimeError("callgrind wrote no total")
        main = totals.get("callgrind.out-01", 0)
        return main, sum(totals.values())


def instructions():
    subprocess.run(
        ["cargo", "build", "--release", "--locked", "-p", "cassiopee-bench", "--bin", "handler-cpu"],
        cwd=ROOT,
        check=True,
    )
    binary = TARGET / "release" / "handler-cpu"
    print(f"{'request':<42} {'request thread':>14} {'all threads':>14}   (callgrind, per request)")
    for route, label in [("list", "GET /sessions"), ("enrol", "POST then DELETE /sessions/{id}/enrolment")]:
        main, every = per_request_instructions(binary, route)
        print(f"{label:<42} {main:>14,.0f} {every:>14,.0f}")


def per_request_instructions(binary, route):
    """`handler-cpu --only route` under callgrind, 120 requests less 20, divided by 100: the
    request thread's instructions and every thread's."""
    low = callgrind_total(binary, ["--only", route, "20"])
    high = callgrind_total(binary, ["--only", route, "120"])
    return tuple((h - l) / 100 for h, l in zip(high, low))


def json_lines(command, env, timeout):
    """Runs a bench binary with CASSIOPEE_BENCH_FORMAT=json. Answers the JSON lines it printed
    and, if it failed or ran out of time, why (the lines printed until then are kept)."""
    name = Path(command[0]).name
    try:
        out = subprocess.run(
            command,
            env={**os.environ, **env, "CASSIOPEE_BENCH_FORMAT": "json", "RUST_LOG": "error"},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        stdout, error = out.stdout, None
        if out.returncode != 0:
            error = f"{name} failed ({out.returncode}): {out.stderr.strip()[-500:]}"
    except subprocess.TimeoutExpired as e:
        stdout = e.stdout.decode() if isinstance(e.stdout, bytes) else e.stdout or ""
        error = f"{name} stopped after {timeout} s"
    lines = []
    for line in stdout.splitlines():
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError:
            pass  # A line cut short by the timeout.
    return lines, error


def report(count):
    """One table: every function's start → first response (p50, p95 over `count` starts) and
    warm invoke (p50) on the event answered before any store call, the in-process CPU of the
    routes it owns (all of it, and without the store's share), and callgrind's instructions
    per request for list-sessions and enrol. What cannot be measured is left blank, with a
    note under the table."""
    functions = sorted(
        d.name for d in (ROOT / "functions").iterdir() if (d / "Cargo.toml").exists()
    )
    cold_bin, cpu_bin = TARGET / "release" / "cold-start", TARGET / "release" / "handler-cpu"
    for need in [cold_bin, cpu_bin]:
        if not need.exists():
            raise SystemExit(f"{need} missing: cargo build --release --locked -p cassiopee-bench")
    lambda_dir = TARGET / "lambda-x86_64"
    notes = []
    missing = [f for f in functions if not (lambda_dir / f / "bootstrap").exists()]
    if missing:
        notes.append(
            f"no bootstrap under {lambda_dir} for {', '.join(missing)}: "
            "built by scripts/build-lambdas.sh --x86-64"
        )
    load = os.getloadavg()

    started = {}
    if len(missing) < len(functions):
        work = Path(tempfile.mkdtemp(prefix="cassiopee-bench-"))
        # Nothing listens at the endpoint: only the event answered before any AWS call is run.
        env = function_env(f"http://127.0.0.1:{free_port()}", work)
        # Each start and its 50 warm invokes take tens of ms; a bootstrap that hangs is cut
        # off by the binary after 30 s per invoke, the whole run after this.
        timeout = 120 + 2 * count * len(functions)
        command = [str(cold_bin), str(lambda_dir), str(count), "50", "no-store"]
        lines, error = json_lines(command, env, timeout)
        shutil.rmtree(work, ignore_errors=True)
        for line in lines:
            if "skipped" in line:
                if line["function"] not in missing:
                    notes.append(f"{line['function']}: no start measured ({line['skipped']})")
            else:
                started[line["function"]] = line
        if error:
            notes.append(f"starts: {error}")

    routes = {}
    lines, error = json_lines([str(cpu_bin)], {}, 900)
    for line in lines:
        routes.setdefault(line["function"], []).append(line)
    if error:
        notes.append(f"handler CPU: {error}")

    instructions = {}
    if shutil.which("valgrind") is None:
        notes.append("instructions not measured: valgrind missing (apt-get install -y valgrind)")
    else:
        for function, route in [("list-sessions", "list"), ("enrol", "enrol")]:
            try:
                instructions[function] = per_request_instructions(cpu_bin, route)
            except (subprocess.SubprocessError, RuntimeError) as e:
                notes.append(f"instructions of {function} not measured: {e}")

    def cell(value, fmt, width):
        return f"{'' if value is None else format(value, fmt):>{width}}"

    head = (
        f"{'function':<19}{'route (in process)':<33}{'start p50':>10}{'start p95':>10}"
        f"{'warm p50':>9}{'cpu p50':>9}{'cpu p99':>9}{'own p50':>9}{'own p99':>9}{'instr/req':>12}"
    )
    print()
    print(head)
    print(f"{'':<52}{'ms':>10}{'ms':>10}{'ms':>9}{'µs':>9}{'µs':>9}{'µs':>9}{'µs':>9}")
    for function in functions:
        start = started.get(function, {})
        owned = routes.get(function) or [{}]
        for i, route in enumerate(owned):
            first = i == 0
            row = (
                f"{function if first else '':<19}{route.get('route', ''):<33}"
                + cell(start.get("start_p50_ms") if first else None, ".2f", 10)
                + cell(start.get("start_p95_ms") if first else None, ".2f", 10)
                + cell(start.get("warm_p50_ms") if first else None, ".2f", 9)
                + cell(route.get("cpu_p50_us"), ".1f", 9)
                + cell(route.get("cpu_p99_us"), ".1f", 9)
                + cell(route.get("own_p50_us"), ".1f", 9)
                + cell(route.get("own_p99_us"), ".1f", 9)
                + cell(instructions.get(function, (None,))[0] if first else None, ",.0f", 12)
            )
            print(row.rstrip())
    counts = sorted({r["requests"] for rs in routes.values() for r in rs}, reverse=True)
    after = os.getloadavg()
    legend = [
        f"start, warm: {count} starts × 50 warm invokes per function of an event of another "
        "function's route (answered 404 before any store call) through the local stand-in for "
        "the Lambda Runtime API (cold-start no-store).",
        "cpu, own: thread CPU per request in process on the embedded store with the demo data "
        f"({' or '.join(str(c) for c in counts) or 'no'} requests per route, one after another); "
        "own: less the store's share (handler-cpu).",
        "instr/req: callgrind's instructions on the request thread, (120 − 20 requests) / 100 "
        "(handler-cpu --only list|enrol); enrol's is one enrolment and its withdrawal; with "
        "every thread (the emails, on the notice sender's): "
        + ", ".join(f"{f} {every:,.0f}" for f, (_, every) in instructions.items())
        + ".",
        f"load average (1 min): {load[0]:.2f} before, {after[0]:.2f} after.",
    ] + [f"note: {note}" for note in notes]
    print()
    for line in legend:
        print(textwrap.fill(line, 100, subsequent_indent="  ", break_on_hyphens=False))


def main():
    what = sys.argv[1:] or ["throughput", "starts"]
    if "report" in what:
        report(next((int(a) for a in what if a.isdigit()), 30))
        return
    if "instructions" in what:
        instructions()
    if "throughput" in what:
        throughput()
    if "starts" in what:
        count = next((int(a) for a in what if a.isdigit()), 30)
        starts(count, "no-store" in what)


if __name__ == "__main__":
    main()
