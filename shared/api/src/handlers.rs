//! One function per operation: parse, call the use case, render. Identity comes from the
//! claims only; officer routes act on the caller's own data.

use crate::http::{
    Format, Incoming, MAX_IMPORT_BODY, download, json, json_text, json_varying, listing, negotiate,
    no_content, too_large,
};
use crate::one_time;
use crate::routes::{Function, Op, Route};
use crate::tokens;
use cassiopee_domain::audit::{AuditEntry, AuditSubject};
use cassiopee_domain::error::{DomainError, ErrorKind, Result};
use cassiopee_domain::export;
use cassiopee_domain::ids::{OfficerId, SessionId, TrainingId};
use cassiopee_domain::import::ImportKind;
use cassiopee_domain::ledger;
use cassiopee_domain::links::{self, LinkAction, LinkError};
use cassiopee_domain::model::{
    Actor, Email, EnrolmentStatus, Modality, Money, Officer, ProgrammeKind, Staff, WaitlistMode,
};
use cassiopee_domain::ports::{EnrolOutcome, Enrolled, SessionPatch, SessionQuery};
use cassiopee_domain::privacy;
use cassiopee_domain::rules::Schedule;
use cassiopee_domain::statistics::{Grouping, StatisticsQuery};
use cassiopee_domain::time::{
    self, DailyHours, Instant, paris_end_of_day, paris_start_of_day, shift_paris_days,
};
use cassiopee_domain::usecases::{
    self as uc, Caller, Deps, FeedbackInput, SessionInput, TrainingInput, When,
};
use chrono::NaiveDate;
use lambda_http::Body;
use lambda_http::http::{Response, StatusCode, header};
use serde::Deserialize;
use serde_json::json;

/// Finds who is calling, from the authorizer's claims.
pub async fn caller(deps: &Deps, req: &Incoming) -> Result<Caller> {
    let claims = req
        .claims
        .as_ref()
        .ok_or_else(DomainError::unauthenticated)?;
    let email = claims
        .email
        .as_deref()
        .and_then(Email::parse)
        .ok_or_else(|| {
            DomainError::forbidden(
                "Votre jeton ne porte pas d'adresse électronique : reconnectez-vous.",
            )
        })?;
    if claims.is_staff() {
        return match deps.store.staff_by_email(&email).await? {
            Some(s) => Ok(Caller::Staff(s)),
            None => Err(DomainError::forbidden(
                "Ce compte n'appartient pas au personnel de la MiRVOG.",
            )),
        };
    }
    match deps.store.officer_by_email(&email).await? {
        Some(o) => Ok(Caller::Officer(o)),
        None => Err(DomainError::forbidden(
            "Aucun officier accompagné ne correspond à ce compte.",
        )),
    }
}

fn officer(c: &Caller) -> Result<&Officer> {
    match c {
        Caller::Officer(o) => Ok(o),
        Caller::Staff(_) => Err(DomainError::forbidden(
            "Cette action est réservée aux officiers ; le personnel passe par l'espace d'administration.",
        )),
    }
}

fn staff(c: &Caller) -> Result<&Staff> {
    match c {
        Caller::Staff(s) => Ok(s),
        Caller::Officer(_) => Err(DomainError::forbidden(
            "Cet espace est réservé au personnel de la MiRVOG.",
        )),
    }
}

fn session_id(req: &Incoming) -> Result<SessionId> {
    req.id("id", SessionId::parse, DomainError::session_not_found)
}

fn officer_param(req: &Incoming) -> Result<OfficerId> {
    req.id(
        "officer_id",
        OfficerId::parse,
        DomainError::officer_not_found,
    )
}

/// A day or an instant in a query string: a day means its start (for `from`) or its end (for
/// `to`), in Paris.
fn query_instant(req: &Incoming, name: &str, end_of_day: bool) -> Result<Option<Instant>> {
    let Some(raw) = req.query(name) else {
        return Ok(None);
    };
    // A day (`2027-02-01`, `01/02/2027`) or an instant: each refused in its own words, years
    // outside 2000–2099 included.
    if !raw.contains(':') {
        let day = time::parse_date(raw).map_err(|e| DomainError::field(name, e.to_string()))?;
        return Ok(Some(if end_of_day {
            paris_end_of_day(day)
        } else {
            paris_start_of_day(day)
        }));
    }
    time::parse_instant(raw)
        .map(Some)
        .map_err(|e| DomainError::field(name, e.to_string()))
}

/// A yes-or-no query parameter: absent or `false` is no, `true` yes, anything else refused
/// with the parameter named.
fn flag(req: &Incoming, name: &'static str) -> Result<bool> {
    match req.query(name) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(DomainError::field(name, "Valeur attendue : true ou false.")),
    }
}

fn session_query(req: &Incoming) -> Result<SessionQuery> {
    let modality = match req.query("modality") {
        Some(m) => Some(Modality::parse(m).ok_or_else(|| {
            DomainError::field(
                "modality",
                "Modalité attendue : présentiel, distanciel ou hybride.",
            )
        })?),
        None => None,
    };
    let available_only = flag(req, "available")?;
    let training_id =
        match req.query("training") {
            Some(t) => Some(TrainingId::parse(t).ok_or_else(|| {
                DomainError::field("training", "Identifiant de formation invalide.")
            })?),
            None => None,
        };
    let (from, to) = (
        query_instant(req, "from", false)?,
        query_instant(req, "to", true)?,
    );
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        return Err(DomainError::invalid(
            "invalid-period",
            "La date de début est postérieure à la date de fin.",
        ));
    }
    Ok(SessionQuery {
        from,
        to,
        theme: req.query("theme").map(str::to_string),
        modality,
        training_id,
        available_only,
        include_cancelled: false,
    })
}

/// A Paris calendar day in a query string (`2027-03-31`), in the years every date of the
/// product lies in (2000 to 2099).
fn query_day(req: &Incoming, name: &str) -> Result<Option<NaiveDate>> {
    req.query(name)
        .map(|raw| {
            let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
                DomainError::field(name, "Date attendue au format AAAA-MM-JJ (ex. 2027-03-31).")
            })?;
            if !(2000..=2099).contains(&chrono::Datelike::year(&day)) {
                return Err(DomainError::field(
                    name,
                    "Date hors de la période admise (années 2000 à 2099).",
                ));
            }
            Ok(day)
        })
        .transpose()
}

fn statistics_query(req: &Incoming) -> Result<StatisticsQuery> {
    let group = match req.query("group") {
        None => Grouping::Training,
        Some(g) => Grouping::parse(g).ok_or_else(|| {
            DomainError::field(
                "group",
                "Regroupement attendu : session, training, theme, month ou year.",
            )
        })?,
    };
    StatisticsQuery::new(query_day(req, "from")?, query_day(req, "to")?, group)
}

/// `statistiques-month-2027-01-01_2027-06-30`, `statistiques-theme-depuis-2027-01-01`.
fn statistics_file(q: &StatisticsQuery) -> String {
    let period = match (q.from, q.to) {
        (Some(f), Some(t)) => format!("-{f}_{t}"),
        (Some(f), None) => format!("-depuis-{f}"),
        (None, Some(t)) => format!("-jusqu-au-{t}"),
        (None, None) => String::new(),
    };
    format!("statistiques-{}{period}", q.group.as_str())
}

fn idempotency_key(req: &Incoming) -> Result<Option<String>> {
    let refused = || {
        DomainError::invalid(
            "malformed-request",
            "L'en-tête Idempotency-Key doit contenir de 1 à 255 caractères imprimables.",
        )
    };
    let Some(key) = req.header("idempotency-key") else {
        // A key in bytes outside ASCII is not no key: the retry it protects would enrol again.
        return match req.has_header("idempotency-key") {
            true => Err(refused()),
            false => Ok(None),
        };
    };
    let key = key.trim();
    if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(refused());
    }
    Ok(Some(key.to_string()))
}

/// The answer to an enrolment: the outcome, and for a confirmed seat the officer's other seats
/// at an overlapping time (`clashes`), so that the app can say so at once.
async fn enrolled(
    deps: &Deps,
    session: &SessionId,
    officer: &OfficerId,
    e: &Enrolled,
) -> Result<Response<Body>> {
    let mut body = serde_json::to_value(&e.outcome).map_err(DomainError::internal)?;
    if e.outcome == EnrolOutcome::Confirmed
        && let Some(s) = deps.store.session(session).await?
    {
        let clashes: Vec<_> = uc::clashing_sessions(deps, officer, &s)
            .await?
            .iter()
            .map(|c| {
                json!({
                    "session_id": c.id,
                    "reference": c.reference,
                    "starts_at": time::to_paris_rfc3339(c.starts_at),
                    "ends_at": time::to_paris_rfc3339(c.ends_at),
                })
            })
            .collect();
        body["clashes"] = json!(clashes);
    }
    Ok(enrolled_response(&body, e.replayed))
}

fn enrolled_response(outcome: &impl serde::Serialize, replayed: bool) -> Response<Body> {
    let mut r = json(StatusCode::CREATED, outcome);
    if replayed && let Ok(v) = "true".parse() {
        r.headers_mut().insert("idempotent-replayed", v);
    }
    r
}

// --- Bodies. Unknown fields are refused everywhere.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrainingBody {
    code: String,
    title: String,
    theme: String,
    modality: Modality,
    length_days: u32,
    #[serde(default)]
    provider: String,
    session_cost: Money,
    trainee_cost: Money,
    min_group: u32,
    max_group: u32,
}

impl From<TrainingBody> for TrainingInput {
    fn from(b: TrainingBody) -> Self {
        Self {
            code: b.code,
            title: b.title,
            theme: b.theme,
            modality: b.modality,
            length_days: b.length_days,
            provider: b.provider,
            session_cost: b.session_cost,
            trainee_cost: b.trainee_cost,
            min_group: b.min_group,
            max_group: b.max_group,
        }
    }
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum ModeBody {
    Off,
    Direct,
    Offer,
}

fn waitlist_mode(mode: ModeBody, hours: Option<u32>) -> Result<WaitlistMode> {
    Ok(match mode {
        ModeBody::Off => WaitlistMode::Off,
        ModeBody::Direct => WaitlistMode::Direct,
        ModeBody::Offer => WaitlistMode::Offer {
            hours: hours.ok_or_else(|| {
                DomainError::field(
                    "offer_hours",
                    "Précisez le délai de réponse en heures (offer_hours).",
                )
            })?,
        },
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionBody {
    training_id: String,
    reference: Option<String>,
    first_day: String,
    last_day: String,
    daily_hours: String,
    place: String,
    capacity: u32,
    enrolment_closes_at: String,
    free_withdrawal_until: String,
    trainer: Option<String>,
    #[serde(default = "default_mode")]
    waitlist_mode: ModeBody,
    offer_hours: Option<u32>,
}

fn default_mode() -> ModeBody {
    ModeBody::Direct
}

fn field_date(field: &str, raw: &str) -> Result<NaiveDate> {
    time::parse_date(raw).map_err(|e| DomainError::field(field, e.to_string()))
}

/// A deadline: an instant (`2026-06-01T18:00`, Paris unless an offset is given) or a day,
/// meaning its last second in Paris.
fn field_deadline(field: &str, raw: &str) -> Result<Instant> {
    if let Ok(day) = time::parse_date(raw) {
        return Ok(paris_end_of_day(day));
    }
    time::parse_instant(raw).map_err(|e| DomainError::field(field, e.to_string()))
}

fn field_hours(raw: &str) -> Result<DailyHours> {
    DailyHours::parse(raw).map_err(|e| DomainError::field("daily_hours", e.to_string()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionPatchBody {
    first_day: Option<String>,
    last_day: Option<String>,
    daily_hours: Option<String>,
    enrolment_closes_at: Option<String>,
    free_withdrawal_until: Option<String>,
    capacity: Option<u32>,
    place: Option<String>,
    #[serde(default, with = "double_option")]
    trainer: Option<Option<String>>,
    waitlist_mode: Option<ModeBody>,
    offer_hours: Option<u32>,
}

/// Tells an absent field (leave as is) from an explicit `null` (clear it).
mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OfficerRef {
    officer_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveBody {
    position: u32,
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AttendanceBody {
    status: EnrolmentStatus,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedbackBody {
    rating: u32,
    relevance: u32,
    comment: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ErasureBody {
    /// Why: the officer's request (and how it came), the end of the retention period…
    reason: String,
}

/// The word an officer types to confirm erasing their own data.
const ERASE_CONFIRMATION: &str = "EFFACER";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SelfErasureBody {
    confirmation: String,
}

fn audit_answer(lines: Vec<AuditEntry>) -> Result<Response<Body>> {
    Ok(json(
        StatusCode::OK,
        &json!({ "count": lines.len(), "audit": lines }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanBody {
    kind: ProgrammeKind,
}

/// The base of the calendar feed's address: the API the request came to (the feed is served
/// by the API, which on AWS is not behind the web app's distribution), with the scheme the
/// gateway says it was reached by; without a `Host` header, the configured public address.
fn public_base(deps: &Deps, req: &Incoming) -> String {
    let Some(host) = req
        .header("host")
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
    else {
        return deps.notify.public_url.clone();
    };
    let scheme = match req.header("x-forwarded-proto") {
        Some("http") => "http",
        Some(_) => "https",
        None if host.starts_with("127.0.0.1") || host.starts_with("localhost") => "http",
        None => "https",
    };
    format!("{scheme}://{host}")
}

/// The id of a notice in a path; anything but a positive number is "not found".
fn notice_id(req: &Incoming) -> Result<i64> {
    req.params
        .get("id")
        .and_then(|raw| raw.parse::<i64>().ok())
        .filter(|id| *id >= 0)
        .ok_or_else(ledger::notification_not_found)
}

/// A public operation reached a set without it, or the identified path (`run` sends those to
/// [`Operations::public`] first).
fn unreachable_public() -> Result<Response<Body>> {
    Err(DomainError::internal(
        "a public route reached the identified handlers",
    ))
}

fn calendar_link_not_found() -> DomainError {
    DomainError::not_found(
        "calendar-link-not-found",
        "Ce lien d'agenda n'existe pas ou a été révoqué : créez-en un nouveau dans \
         l'application.",
    )
}

/// The officer a calendar feed's `token` names: 400 without a token, 404 for a token that is
/// unknown or revoked (a malformed one cannot exist, and is not looked up).
async fn calendar_owner(deps: &Deps, req: &Incoming) -> Result<Officer> {
    let token = req.query("token").ok_or_else(|| {
        DomainError::invalid(
            "malformed-request",
            "Le lien d'agenda est incomplet : il manque son jeton (token).",
        )
    })?;
    if !tokens::well_formed(token) {
        return Err(calendar_link_not_found());
    }
    deps.store
        .officer_by_calendar_token(&tokens::hash(token))
        .await?
        .ok_or_else(calendar_link_not_found)
}

/// The calendar feed (officer-profile): authenticated by the feed's own token.
async fn calendar_feed(deps: &Deps, req: &Incoming) -> Result<Response<Body>> {
    let officer = calendar_owner(deps, req).await?;
    let feed = uc::calendar_feed(deps, &officer.id).await?;
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/calendar; charset=utf-8")
        .header(
            header::CONTENT_DISPOSITION,
            "inline; filename=\"cassiopee.ics\"",
        )
        .header(header::CACHE_CONTROL, "private, max-age=300")
        .body(Body::Text(feed))
        .unwrap_or_default())
}

/// A one-time link of an email (enrol): authenticated by the link's signature.
async fn link(deps: &Deps, op: Op, req: &Incoming) -> Result<Response<Body>> {
    let raw = req.params.get("token").unwrap_or_default();
    let intent = link_intent(deps, raw);
    let as_json = one_time::wants_json(req);
    match op {
        Op::LinkPage => one_time::show(deps, &req.path, intent, as_json).await,
        Op::LinkAnswer => one_time::act(deps, intent, as_json).await,
        _ => unreachable_public(),
    }
}

/// Checks a link's signature and expiry (`links::verify`); nothing is looked up before.
fn link_intent(deps: &Deps, raw: &str) -> std::result::Result<one_time::Intent, one_time::Refusal> {
    let Some(secret) = deps.notify.link_secret.as_deref() else {
        return Err(one_time::Refusal::Invalid);
    };
    match links::verify(secret, raw, deps.now()) {
        Ok(claims) => Ok(one_time::Intent {
            act: match claims.action {
                LinkAction::AcceptOffer => one_time::Act::AcceptOffer,
                LinkAction::DeclineOffer => one_time::Act::DeclineOffer,
                LinkAction::LeaveWaitlist => one_time::Act::LeaveWaitlist,
            },
            session_id: claims.session_id,
            officer_id: claims.officer_id,
            nonce: claims.nonce,
        }),
        Err(LinkError::Expired) => Err(one_time::Refusal::Expired),
        Err(_) => Err(one_time::Refusal::Invalid),
    }
}

/// Runs one operation: a public route at once, any other for the caller its claims identify,
/// with the checks every route shares (staff only under `/admin/`, the officer's quota of
/// changes). `O` names the operations served, fixed at compile time: see [`Operations`].
pub async fn run<O: Operations>(
    deps: &Deps,
    route: &Route,
    req: &Incoming,
) -> Result<Response<Body>> {
    if route.op.is_public() {
        return O::public(deps, route.op, req).await;
    }
    let who = caller(deps, req).await?;
    if route.path.starts_with("/admin/") {
        staff(&who)?;
    }
    let counted = match &who {
        Caller::Officer(o)
            if route.op.counts_as_change() && !route.op.counted_in_its_transaction() =>
        {
            Some(uc::count_change(deps, &o.id).await?)
        }
        _ => None,
    };
    let answer = O::identified(deps, route, req, who).await;
    // A change refused (a rule, a conflict, a bad body) costs the officer nothing.
    if let (Some(counted), Err(e)) = (&counted, &answer)
        && e.kind != ErrorKind::Internal
    {
        uc::uncount_change(deps, counted).await;
    }
    answer
}

/// The operations one binary serves, chosen at compile time.
///
/// Each deployed function names its own set ([`ListSessions`], [`Enrol`], …), so that its
/// binary links only its own handlers and the use cases they call: a `match` on a `Function`
/// known only at run time would keep every route's code (the exports, the imports, the
/// calendar feed…) in every binary. [`Every`] serves every route, for the local server and the
/// tests; it dispatches to the same per-function sets, so the tests run the deployed code.
///
/// An operation missing from its function's set compiles, and fails at run time as an internal
/// error ([`not_served`]): the authorization matrix test, which calls every route of
/// `routes::ROUTES`, catches it.
pub trait Operations {
    /// The function whose routes these are; `None` for every route.
    const FUNCTION: Option<Function>;

    /// Whether, without an event bus (`CASSIOPEE_EVENT_BUS` unset: a local run), domain events
    /// are delivered to promote-waitlist in this process. `false` only for a function that
    /// publishes nothing: its binary then links no promotion code (see
    /// `config::function_deps`).
    const EVENTS_IN_PROCESS: bool = true;

    /// A route served without a bearer token ([`Op::is_public`]).
    fn public(
        deps: &Deps,
        op: Op,
        req: &Incoming,
    ) -> impl Future<Output = Result<Response<Body>>> + Send {
        let _ = (deps, op, req);
        std::future::ready(unreachable_public())
    }

    /// Any other route, for its identified caller.
    fn identified(
        deps: &Deps,
        route: &Route,
        req: &Incoming,
        who: Caller,
    ) -> impl Future<Output = Result<Response<Body>>> + Send;
}

/// A route that reached a set of operations without its own: a route table entry and its
/// function's handlers disagree.
fn not_served(route: &Route) -> Result<Response<Body>> {
    Err(DomainError::internal(format!(
        "{} {} ({:?}) is not served by {}",
        route.method,
        route.path,
        route.op,
        route.function.name()
    )))
}

/// Declares the unit type of one function's operations.
macro_rules! function_operations {
    ($(#[$doc:meta])* $name:ident, $identified:ident $(, $($extra:tt)*)?) => {
        $(#[$doc])*
        pub struct $name;

        impl Operations for $name {
            const FUNCTION: Option<Function> = Some(Function::$name);
            $($($extra)*)?

            fn identified(
                deps: &Deps,
                route: &Route,
                req: &Incoming,
                who: Caller,
            ) -> impl Future<Output = Result<Response<Body>>> + Send {
                $identified(deps, route, req, who)
            }
        }
    };
}

function_operations!(
    /// list-sessions: read only, it publishes no event.
    ListSessions,
    list_sessions_ops,
    const EVENTS_IN_PROCESS: bool = false;
);
function_operations!(
    /// enrol, with the one-time links of the emails.
    Enrol,
    enrol_ops,
    fn public(
        deps: &Deps,
        op: Op,
        req: &Incoming,
    ) -> impl Future<Output = Result<Response<Body>>> + Send {
        link(deps, op, req)
    }
);
function_operations!(
    /// withdraw.
    Withdraw,
    withdraw_ops
);
function_operations!(
    /// officer-profile, with the calendar feed.
    OfficerProfile,
    officer_profile_ops,
    async fn public(deps: &Deps, op: Op, req: &Incoming) -> Result<Response<Body>> {
        match op {
            Op::CalendarFeed => calendar_feed(deps, req).await,
            _ => unreachable_public(),
        }
    }
);
function_operations!(
    /// staff-catalogue.
    StaffCatalogue,
    staff_catalogue_ops
);
function_operations!(
    /// staff-sessions.
    StaffSessions,
    staff_sessions_ops
);
function_operations!(
    /// staff-officers.
    StaffOfficers,
    staff_officers_ops
);
function_operations!(
    /// staff-imports.
    StaffImports,
    staff_imports_ops
);

/// Every route, each answered by its own function's operations: the local server and the tests.
pub struct Every;

impl Operations for Every {
    const FUNCTION: Option<Function> = None;

    async fn public(deps: &Deps, op: Op, req: &Incoming) -> Result<Response<Body>> {
        match op {
            Op::CalendarFeed => OfficerProfile::public(deps, op, req).await,
            Op::LinkPage | Op::LinkAnswer => Enrol::public(deps, op, req).await,
            _ => unreachable_public(),
        }
    }

    async fn identified(
        deps: &Deps,
        route: &Route,
        req: &Incoming,
        who: Caller,
    ) -> Result<Response<Body>> {
        match route.function {
            Function::ListSessions => ListSessions::identified(deps, route, req, who).await,
            Function::Enrol => Enrol::identified(deps, route, req, who).await,
            Function::Withdraw => Withdraw::identified(deps, route, req, who).await,
            Function::OfficerProfile => OfficerProfile::identified(deps, route, req, who).await,
            Function::StaffCatalogue => StaffCatalogue::identified(deps, route, req, who).await,
            Function::StaffSessions => StaffSessions::identified(deps, route, req, who).await,
            Function::StaffOfficers => StaffOfficers::identified(deps, route, req, who).await,
            Function::StaffImports => StaffImports::identified(deps, route, req, who).await,
            Function::PromoteWaitlist | Function::SendReminders | Function::ComputeStatistics => {
                not_served(route)
            }
        }
    }
}

/// The operations of list-sessions, for the caller identified by [`run`].
async fn list_sessions_ops(
    deps: &Deps,
    route: &Route,
    req: &Incoming,
    who: Caller,
) -> Result<Response<Body>> {
    let op = route.op;
    match op {
        Op::ListSessions => {
            let query = session_query(req)?;
            // The same for every caller: kept while it holds, where the store can tell.
            let key = format!("{query:?}");
            let now = deps.now();
            let generation = deps.store.generation();
            if let Some(g) = generation
                && let Some(body) = deps.answers.get(&key, g, now)
            {
                return Ok(json_text(StatusCode::OK, body.to_string()));
            }
            let sessions = uc::list_sessions(deps, query).await?;
            let body = serde_json::to_string(&listing("sessions", &sessions))
                .map_err(DomainError::internal)?;
            if let Some(g) = generation {
                let until = uc::listing_holds_until(&sessions, now);
                deps.answers
                    .put(key, g, now, until, std::sync::Arc::from(body.as_str()));
            }
            Ok(json_text(StatusCode::OK, body))
        }
        Op::GetSession => {
            let me = match &who {
                Caller::Officer(o) => Some(&o.id),
                Caller::Staff(_) => None,
            };
            let detail = uc::session_detail(deps, &session_id(req)?, me).await?;
            Ok(json(StatusCode::OK, &detail))
        }
        _ => not_served(route),
    }
}

/// The operations of enrol, for the caller identified by [`run`].
async fn enrol_ops(
    deps: &Deps,
    route: &Route,
    req: &Incoming,
    who: Caller,
) -> Result<Response<Body>> {
    let op = route.op;
    match op {
        Op::Enrol => {
            let o = officer(&who)?;
            let key = idempotency_key(req)?;
            let id = session_id(req)?;
            let quota = Some(uc::change_charge(deps, &o.id));
            let e = uc::enrol(deps, &id, o, Actor::officer(&o.id), key, quota).await?;
            enrolled(deps, &id, &o.id, &e).await
        }
        Op::AcceptOffer | Op::DeclineOffer => {
            let o = officer(&who)?;
            let accept = op == Op::AcceptOffer;
            let status = uc::answer_offer(
                deps,
                &session_id(req)?,
                &o.id,
                accept,
                Actor::officer(&o.id),
            )
            .await?;
            Ok(json(StatusCode::OK, &json!({ "status": status })))
        }
        _ => not_served(route),
    }
}

/// The operations of withdraw, for the caller identified by [`run`].
async fn withdraw_ops(
    deps: &Deps,
    route: &Route,
    req: &Incoming,
    who: Caller,
) -> Result<Response<Body>> {
    let op = route.op;
    match op {
        Op::Withdraw => {
            let o = officer(&who)?;
            let outcome =
                uc::withdraw(deps, &session_id(req)?, &o.id, Actor::officer(&o.id)).await?;
            Ok(json(StatusCode::OK, &outcome))
        }
        _ => not_served(route),
    }
}

/// The operations of officer-profile, for the caller identified by [`run`].
async fn officer_profile_ops(
    deps: &Deps,
    route: &Route,
    req: &Incoming,
    who: Caller,
) -> Result<Response<Body>> {
    let op = route.op;
    match op {
        Op::Me => match &who {
            Caller::Officer(o) => {
                let advisor = match &o.advisor_id {
                    Some(id) => deps.store.staff_by_id(id).await?,
                    None => None,
                };
                Ok(json(
                    StatusCode::OK,
                    &json!({ "role": "officer", "officer": o, "advisor": advisor }),
                ))
            }
            Caller::Staff(s) => Ok(json(
                StatusCode::OK,
                &json!({ "role": "staff", "staff": s }),
            )),
        },
        Op::MyEnrolments => {
            let o = officer(&who)?;
            let when = match req.query("when") {
                None => When::All,
                Some("upcoming") => When::Upcoming,
                Some("past") => When::Past,
                Some(_) => {
                    return Err(DomainError::field(
                        "when",
                        "Valeur attendue : upcoming ou past.",
                    ));
                }
            };
            let list = uc::my_enrolments(deps, &o.id, when).await?;
            Ok(json(StatusCode::OK, &listing("enrolments", &list)))
        }
        Op::MyProgramme => {
            let o = officer(&who)?;
            Ok(json(StatusCode::OK, &uc::programme(deps, &o.id).await?))
        }
        Op::MyExport => {
            let o = officer(&who)?;
            let export = privacy::export_officer_data(deps, &o.id, Actor::officer(&o.id)).await?;
            Ok(json(StatusCode::OK, &export))
        }
        Op::EraseMe => {
            let o = officer(&who)?;
            let b: SelfErasureBody = req.json()?;
            if b.confirmation != ERASE_CONFIRMATION {
                return Err(DomainError::field(
                    "confirmation",
                    "Pour effacer vos données, écrivez EFFACER dans le champ de confirmation.",
                ));
            }
            let reason = "Demande de l'officier (droit à l'effacement).";
            let report = privacy::erase_officer(deps, &o.id, Actor::officer(&o.id), reason).await?;
            Ok(json(StatusCode::OK, &report))
        }
        Op::MyNotifications => {
            let o = officer(&who)?;
            let (list, unread) = ledger::my_notifications(deps, &o.id).await?;
            Ok(json(
                StatusCode::OK,
                &json!({ "notifications": list, "unread": unread }),
            ))
        }
        Op::MarkNotificationRead => {
            let o = officer(&who)?;
            let id = notice_id(req)?;
            ledger::mark_read(deps, &o.id, id).await?;
            Ok(no_content())
        }
        Op::MarkAllNotificationsRead => {
            let o = officer(&who)?;
            let marked = ledger::mark_all_read(deps, &o.id).await?;
            Ok(json(
                StatusCode::OK,
                &json!({ "marked": marked, "unread": 0 }),
            ))
        }
        Op::MyCalendarLink => {
            let o = officer(&who)?;
            let created = deps.store.calendar_token_created(&o.id).await?;
            Ok(json(
                StatusCode::OK,
                &json!({
                    "exists": created.is_some(),
                    "created_at": created.map(time::to_paris_rfc3339),
                }),
            ))
        }
        Op::CreateCalendarLink => {
            let o = officer(&who)?;
            let token = tokens::generate()?;
            let now = deps.now();
            deps.store
                .set_calendar_token(&o.id, &tokens::hash(&token), now)
                .await?;
            tracing::info!(officer = %o.id, "calendar link created");
            Ok(json(
                StatusCode::CREATED,
                &json!({
                    "url": format!("{}/me/calendar.ics?token={token}", public_base(deps, req)),
                    "created_at": time::to_paris_rfc3339(now),
                }),
            ))
        }
        Op::RevokeCalendarLink => {
            let o = officer(&who)?;
            if deps.store.revoke_calendar_token(&o.id).await? {
                tracing::info!(officer = %o.id, "calendar link revoked");
            }
            Ok(no_content())
        }
        Op::GiveFeedback => {
            let o = officer(&who)?;
            let b: FeedbackBody = req.json()?;
            let input = FeedbackInput {
                rating: b.rating,
                relevance: b.relevance,
                comment: b.comment,
            };
            let feedback = uc::give_feedback(deps, &session_id(req)?, &o.id, input).await?;
            Ok(json(StatusCode::CREATED, &feedback))
        }
        Op::ListTrainings => {
            let list: Vec<_> = uc::trainings(deps, false)
                .await?
                .into_iter()
                .map(|t| t.training)
                .collect();
            Ok(json(StatusCode::OK, &json!({ "trainings": list })))
        }
        Op::RegisterInterest => {
            let o = officer(&who)?;
            let t = req.id("id", TrainingId::parse, DomainError::training_not_found)?;
            let new = uc::register_interest(deps, &o.id, &t).await?;
            let status = if new {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok(json(
                status,
                &json!({ "training_id": t, "registered": true }),
            ))
        }
        _ => not_served(route),
    }
}

/// The operations of staff-catalogue, for the caller identified by [`run`].
async fn staff_catalogue_ops(
    deps: &Deps,
    route: &Route,
    req: &Incoming,
    who: Caller,
) -> Result<Response<Body>> {
    let op = route.op;
    match op {
        Op::AdminListTrainings => {
            let archived = flag(req, "archived")?;
            Ok(json(
                StatusCode::OK,
                &json!({ "trainings": uc::trainings(deps, archived).await? }),
            ))
        }
        Op::AdminCreateTraining => {
            let body: TrainingBody = req.json()?;
            let s = staff(&who)?;
            Ok(json(
                StatusCode::CREATED,
                &uc::create_training(deps, body.into(), Actor::staff(&s.id)).await?,
            ))
        }
        Op::AdminGetTraining => {
            let id = req.id("id", TrainingId::parse, DomainError::training_not_found)?;
            let t = deps
                .store
                .training(&id)
                .await?
                .ok_or_else(DomainError::training_not_found)?;
            Ok(json(StatusCode::OK, &t))
        }
        Op::AdminUpdateTraining => {
            let id = req.id("id", TrainingId::parse, DomainError::training_not_found)?;
            let body: TrainingBody = req.json()?;
            let s = staff(&who)?;
            Ok(json(
                StatusCode::OK,
                &uc::update_training(deps, &id, body.into(), Actor::staff(&s.id)).await?,
            ))
        }
        Op::AdminArchiveTraining => {
            let id = req.id("id", TrainingId::parse, DomainError::training_not_found)?;
            Ok(json(
                StatusCode::OK,
                &uc::archive_training(deps, &id, Actor::staff(&staff(&who)?.id)).await?,
            ))
        }
        Op::AdminTrainingAudit => {
            let id = req.id("id", TrainingId::parse, DomainError::training_not_found)?;
            audit_answer(uc::audit_log(deps, &AuditSubject::Training(id)).await?)
        }
        _ => not_served(route),
    }
}

/// The operations of staff-sessions, for the caller identified by [`run`].
async fn staff_sessions_ops(
    deps: &Deps,
    route: &Route,
    req: &Incoming,
    who: Caller,
) -> Result<Response<Body>> {
    let op = route.op;
    match op {
        Op::AdminListSessions => {
            let mut q = session_query(req)?;
            q.include_cancelled = true;
            let sessions = uc::list_sessions(deps, q).await?;
            Ok(json(StatusCode::OK, &listing("sessions", &sessions)))
        }
        Op::AdminCreateSession => {
            let b: SessionBody = req.json()?;
            let training_id = TrainingId::parse(&b.training_id)
                .ok_or_else(|| DomainError::field("training_id", "Formation inconnue."))?;
            let schedule = Schedule::new(
                field_date("first_day", &b.first_day)?,
                field_date("last_day", &b.last_day)?,
                field_hours(&b.daily_hours)?,
                field_deadline("enrolment_closes_at", &b.enrolment_closes_at)?,
                field_deadline("free_withdrawal_until", &b.free_withdrawal_until)?,
            )?;
            let input = SessionInput {
                training_id,
                reference: b.reference,
                schedule,
                place: b.place,
                capacity: b.capacity,
                trainer: b.trainer,
                waitlist: waitlist_mode(b.waitlist_mode, b.offer_hours)?,
            };
            Ok(json(
                StatusCode::CREATED,
                &uc::create_session(deps, input, Actor::staff(&staff(&who)?.id)).await?,
            ))
        }
        Op::AdminGetSession => Ok(json(
            StatusCode::OK,
            &uc::session_detail(deps, &session_id(req)?, None).await?,
        )),
        Op::AdminUpdateSession => {
            let s = staff(&who)?;
            let id = session_id(req)?;
            let b: SessionPatchBody = req.json()?;
            let current = deps
                .store
                .session(&id)
                .await?
                .ok_or_else(DomainError::session_not_found)?;
            let schedule_touched = b.first_day.is_some()
                || b.last_day.is_some()
                || b.daily_hours.is_some()
                || b.enrolment_closes_at.is_some()
                || b.free_withdrawal_until.is_some();
            let schedule = if schedule_touched {
                let first_day = b
                    .first_day
                    .as_deref()
                    .map(|d| field_date("first_day", d))
                    .transpose()?
                    .unwrap_or(current.first_day);
                // Deadlines not given follow the session by as many days as it moved.
                let moved = (first_day - current.first_day).num_days();
                Some(Schedule::new(
                    first_day,
                    b.last_day
                        .as_deref()
                        .map(|d| field_date("last_day", d))
                        .transpose()?
                        .unwrap_or(current.last_day),
                    b.daily_hours
                        .as_deref()
                        .map(field_hours)
                        .transpose()?
                        .unwrap_or(current.hours),
                    b.enrolment_closes_at
                        .as_deref()
                        .map(|d| field_deadline("enrolment_closes_at", d))
                        .transpose()?
                        .unwrap_or_else(|| shift_paris_days(current.enrolment_closes_at, moved)),
                    b.free_withdrawal_until
                        .as_deref()
                        .map(|d| field_deadline("free_withdrawal_until", d))
                        .transpose()?
                        .unwrap_or_else(|| shift_paris_days(current.free_withdrawal_until, moved)),
                )?)
            } else {
                None
            };
            let waitlist = match (b.waitlist_mode, b.offer_hours) {
                (Some(mode), hours) => Some(waitlist_mode(mode, hours)?),
                (None, Some(hours)) => match current.waitlist {
                    WaitlistMode::Offer { .. } => Some(WaitlistMode::Offer { hours }),
                    _ => {
                        return Err(DomainError::field(
                            "offer_hours",
                            "Ce délai ne vaut qu'en mode « offer » : précisez aussi waitlist_mode.",
                        ));
                    }
                },
                (None, None) => None,
            };
            let patch = SessionPatch {
                schedule,
                capacity: b.capacity,
                place: b.place,
                trainer: b.trainer,
                waitlist,
            };
            Ok(json(
                StatusCode::OK,
                &uc::update_session(deps, &id, patch, Actor::staff(&s.id)).await?,
            ))
        }
        Op::AdminCancelSession => {
            let s = staff(&who)?;
            Ok(json(
                StatusCode::OK,
                &uc::cancel_session(deps, &session_id(req)?, Actor::staff(&s.id)).await?,
            ))
        }
        Op::AdminDeleteSession => {
            let s = staff(&who)?;
            uc::delete_session(deps, &session_id(req)?, Actor::staff(&s.id)).await?;
            Ok(no_content())
        }
        Op::AdminRoster => {
            let format = negotiate(req)?;
            let (session, lines) = uc::roster(deps, &session_id(req)?).await?;
            Ok(match format {
                Format::Json => json_varying(&json!({ "session": session, "roster": lines })),
                f => {
                    let reference = &session.session.reference;
                    download(
                        f,
                        &format!("emargement-{reference}"),
                        &export::roster_table(reference, &lines),
                    )
                }
            })
        }
        Op::AdminSessionNotifications => {
            let list = ledger::session_notifications(deps, &session_id(req)?).await?;
            Ok(json(StatusCode::OK, &listing("notifications", &list)))
        }
        Op::AdminSessionAudit => {
            let subject = AuditSubject::Session(session_id(req)?);
            audit_answer(uc::audit_log(deps, &subject).await?)
        }
        Op::AdminSessionFeedback => Ok(json(
            StatusCode::OK,
            &uc::feedback_report(deps, &session_id(req)?).await?,
        )),
        Op::AdminListEnrolments => {
            let format = negotiate(req)?;
            let (from, to) = (query_day(req, "from")?, query_day(req, "to")?);
            StatisticsQuery::new(from, to, Grouping::Session)?;
            let lines = uc::enrolment_lines(deps, from, to).await?;
            Ok(match format {
                Format::Json => json_varying(&listing("enrolments", &lines)),
                f => download(f, "inscriptions", &export::enrolments_table(&lines)),
            })
        }
        Op::AdminEnrol => {
            let s = staff(&who)?;
            let b: OfficerRef = req.json()?;
            let officer_id =
                OfficerId::parse(&b.officer_id).ok_or_else(DomainError::officer_not_found)?;
            let officer = deps
                .store
                .officer(&officer_id)
                .await?
                .ok_or_else(DomainError::officer_not_found)?;
            let key = idempotency_key(req)?;
            let id = session_id(req)?;
            let e = uc::enrol(deps, &id, &officer, Actor::staff(&s.id), key, None).await?;
            enrolled(deps, &id, &officer_id, &e).await
        }
        Op::AdminWithdraw => {
            let s = staff(&who)?;
            let outcome = uc::withdraw(
                deps,
                &session_id(req)?,
                &officer_param(req)?,
                Actor::staff(&s.id),
            )
            .await?;
            Ok(json(StatusCode::OK, &outcome))
        }
        Op::AdminEnrolmentHistory => {
            let e = deps
                .store
                .enrolment(&session_id(req)?, &officer_param(req)?)
                .await?
                .ok_or_else(DomainError::enrolment_not_found)?;
            let history = deps.store.enrolment_history(&e.id).await?;
            Ok(json(
                StatusCode::OK,
                &json!({ "enrolment": e, "history": history }),
            ))
        }
        Op::AdminMoveInWaitlist => {
            let s = staff(&who)?;
            let b: MoveBody = req.json()?;
            let position = uc::move_in_waitlist(
                deps,
                &session_id(req)?,
                &officer_param(req)?,
                b.position,
                &b.reason,
                Actor::staff(&s.id),
            )
            .await?;
            Ok(json(StatusCode::OK, &json!({ "position": position })))
        }
        Op::AdminMarkAttendance => {
            let s = staff(&who)?;
            let b: AttendanceBody = req.json()?;
            uc::mark_attendance(
                deps,
                &session_id(req)?,
                &officer_param(req)?,
                b.status,
                Actor::staff(&s.id),
            )
            .await?;
            Ok(json(StatusCode::OK, &json!({ "status": b.status })))
        }
        _ => not_served(route),
    }
}

/// The operations of staff-officers, for the caller identified by [`run`].
async fn staff_officers_ops(
    deps: &Deps,
    route: &Route,
    req: &Incoming,
    who: Caller,
) -> Result<Response<Body>> {
    let op = route.op;
    match op {
        Op::AdminOfficerAudit => {
            let id = req.id("id", OfficerId::parse, DomainError::officer_not_found)?;
            audit_answer(uc::audit_log(deps, &AuditSubject::Officer(id)).await?)
        }
        Op::AdminExportOfficer => {
            let id = req.id("id", OfficerId::parse, DomainError::officer_not_found)?;
            let s = staff(&who)?;
            let export = privacy::export_officer_data(deps, &id, Actor::staff(&s.id)).await?;
            Ok(json(StatusCode::OK, &export))
        }
        Op::AdminEraseOfficer => {
            let id = req.id("id", OfficerId::parse, DomainError::officer_not_found)?;
            let s = staff(&who)?;
            let b: ErasureBody = req.json()?;
            let report = privacy::erase_officer(deps, &id, Actor::staff(&s.id), &b.reason).await?;
            Ok(json(StatusCode::OK, &report))
        }
        Op::AdminOfficerNotifications => {
            let id = req.id("id", OfficerId::parse, DomainError::officer_not_found)?;
            let list = ledger::officer_notifications(deps, &id).await?;
            Ok(json(StatusCode::OK, &listing("notifications", &list)))
        }
        Op::AdminListOfficers => {
            let format = negotiate(req)?;
            let officers = deps.store.officers().await?;
            Ok(match format {
                Format::Json => json_varying(&listing("officers", &officers)),
                f => {
                    let staff = deps.store.staff_list().await?;
                    download(f, "officiers", &export::officers_table(&officers, &staff))
                }
            })
        }
        Op::AdminGetOfficer => {
            let id = req.id("id", OfficerId::parse, DomainError::officer_not_found)?;
            let o = deps
                .store
                .officer(&id)
                .await?
                .ok_or_else(DomainError::officer_not_found)?;
            let programme = uc::programme(deps, &id).await?;
            let enrolments = uc::my_enrolments(deps, &id, When::All).await?;
            Ok(json(
                StatusCode::OK,
                &json!({ "officer": o, "programme": programme, "enrolments": enrolments }),
            ))
        }
        Op::AdminPlanTraining => {
            let s = staff(&who)?;
            let id = req.id("id", OfficerId::parse, DomainError::officer_not_found)?;
            let t = req.id(
                "training_id",
                TrainingId::parse,
                DomainError::training_not_found,
            )?;
            let b: PlanBody = req.json()?;
            Ok(json(
                StatusCode::OK,
                &uc::plan_training(deps, &id, &t, b.kind, &s.id).await?,
            ))
        }
        Op::AdminUnplanTraining => {
            let id = req.id("id", OfficerId::parse, DomainError::officer_not_found)?;
            let t = req.id(
                "training_id",
                TrainingId::parse,
                DomainError::training_not_found,
            )?;
            if uc::unplan_training(deps, &id, &t, &staff(&who)?.id).await? {
                Ok(no_content())
            } else {
                Err(DomainError::not_found(
                    "programme-item-not-found",
                    "Cette formation n'est pas au programme de l'officier.",
                ))
            }
        }
        Op::AdminListStaff => Ok(json(
            StatusCode::OK,
            &json!({ "staff": deps.store.staff_list().await? }),
        )),
        Op::AdminProgrammes => {
            let behind_only = flag(req, "behind")?;
            let list = uc::programme_follow_up(deps, behind_only).await?;
            Ok(json(StatusCode::OK, &listing("officers", &list)))
        }
        Op::AdminStatistics => {
            let format = negotiate(req)?;
            let query = statistics_query(req)?;
            let snapshot = uc::statistics(deps, &query).await?;
            Ok(match format {
                Format::Json => json_varying(&snapshot),
                f => download(
                    f,
                    &statistics_file(&query),
                    &export::statistics_table(&snapshot),
                ),
            })
        }
        _ => not_served(route),
    }
}

/// The operations of staff-imports, for the caller identified by [`run`].
async fn staff_imports_ops(
    deps: &Deps,
    route: &Route,
    req: &Incoming,
    who: Caller,
) -> Result<Response<Body>> {
    let op = route.op;
    match op {
        Op::AdminImport => {
            let s = staff(&who)?;
            let kind = req.params.get("kind").and_then(ImportKind::parse).ok_or_else(|| {
                DomainError::not_found(
                    "import-kind-not-found",
                    "Type d'import inconnu : officers, staff, trainings, sessions ou enrolments.",
                )
            })?;
            if req.body.len() > MAX_IMPORT_BODY {
                return Err(too_large(MAX_IMPORT_BODY));
            }
            let report = uc::import(deps, kind, &req.body, Actor::import(s.id.as_str())).await?;
            Ok(json(StatusCode::OK, &report))
        }
        _ => not_served(route),
    }
}
