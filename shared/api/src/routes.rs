//! The route table: every HTTP route, the function that serves it, and the operation it runs.
//! The SAM template declares the same set (a test compares them), and the local server mounts
//! exactly these.

/// The Lambda functions of Cassiopée.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Function {
    ListSessions,
    Enrol,
    Withdraw,
    OfficerProfile,
    StaffCatalogue,
    StaffSessions,
    StaffOfficers,
    StaffImports,
    PromoteWaitlist,
    SendReminders,
    ComputeStatistics,
}

impl Function {
    pub const ALL: [Function; 11] = [
        Function::ListSessions,
        Function::Enrol,
        Function::Withdraw,
        Function::OfficerProfile,
        Function::StaffCatalogue,
        Function::StaffSessions,
        Function::StaffOfficers,
        Function::StaffImports,
        Function::PromoteWaitlist,
        Function::SendReminders,
        Function::ComputeStatistics,
    ];

    /// The binary's name under `functions/`.
    pub fn name(self) -> &'static str {
        match self {
            Function::ListSessions => "list-sessions",
            Function::Enrol => "enrol",
            Function::Withdraw => "withdraw",
            Function::OfficerProfile => "officer-profile",
            Function::StaffCatalogue => "staff-catalogue",
            Function::StaffSessions => "staff-sessions",
            Function::StaffOfficers => "staff-officers",
            Function::StaffImports => "staff-imports",
            Function::PromoteWaitlist => "promote-waitlist",
            Function::SendReminders => "send-reminders",
            Function::ComputeStatistics => "compute-statistics",
        }
    }
}

/// What a route does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    ListSessions,
    GetSession,
    Enrol,
    AcceptOffer,
    DeclineOffer,
    Withdraw,
    Me,
    MyEnrolments,
    MyProgramme,
    MyNotifications,
    /// Everything held about the caller, as JSON (GDPR access and portability).
    MyExport,
    /// The caller's own erasure, confirmed by a word typed in.
    EraseMe,
    MarkNotificationRead,
    MarkAllNotificationsRead,
    MyCalendarLink,
    CreateCalendarLink,
    RevokeCalendarLink,
    /// The personal calendar feed: authenticated by its secret token, not by a bearer token.
    CalendarFeed,
    /// A one-time link of an email: what it will do (never acts), and doing it, once.
    LinkPage,
    LinkAnswer,
    GiveFeedback,
    ListTrainings,
    RegisterInterest,
    AdminListTrainings,
    AdminCreateTraining,
    AdminGetTraining,
    AdminUpdateTraining,
    AdminArchiveTraining,
    AdminTrainingAudit,
    AdminListSessions,
    AdminCreateSession,
    AdminGetSession,
    AdminUpdateSession,
    AdminCancelSession,
    AdminDeleteSession,
    AdminRoster,
    AdminSessionFeedback,
    AdminSessionNotifications,
    AdminSessionAudit,
    AdminListEnrolments,
    AdminEnrol,
    AdminWithdraw,
    AdminMoveInWaitlist,
    AdminMarkAttendance,
    AdminEnrolmentHistory,
    AdminListOfficers,
    AdminGetOfficer,
    AdminOfficerNotifications,
    AdminOfficerAudit,
    AdminExportOfficer,
    AdminEraseOfficer,
    AdminPlanTraining,
    AdminUnplanTraining,
    AdminListStaff,
    AdminProgrammes,
    AdminStatistics,
    AdminImport,
}

impl Op {
    /// Served without a bearer token (calendar applications cannot send one): the route
    /// authenticates its caller by a secret of its own. API Gateway's authorizer is off for
    /// exactly these routes (`Auth: Authorizer: NONE` in the template).
    pub fn is_public(self) -> bool {
        matches!(self, Op::CalendarFeed | Op::LinkPage | Op::LinkAnswer)
    }

    /// Reads a request body (JSON, or the CSV of an import). The others refuse one: a body
    /// they would ignore is a client's mistake, said rather than dropped. The one-time link's
    /// button posts an HTML form, whose fields are ignored.
    pub fn takes_body(self) -> bool {
        matches!(
            self,
            Op::GiveFeedback
                | Op::EraseMe
                | Op::LinkAnswer
                | Op::AdminCreateTraining
                | Op::AdminUpdateTraining
                | Op::AdminCreateSession
                | Op::AdminUpdateSession
                | Op::AdminEnrol
                | Op::AdminMoveInWaitlist
                | Op::AdminMarkAttendance
                | Op::AdminPlanTraining
                | Op::AdminEraseOfficer
                | Op::AdminImport
        )
    }

    /// The changes an officer makes to their own enrolments and requests, which count against
    /// their quota (see `usecases::count_change`). Reads, and what staff do, do not count.
    pub fn counts_as_change(self) -> bool {
        matches!(
            self,
            Op::Enrol
                | Op::AcceptOffer
                | Op::DeclineOffer
                | Op::Withdraw
                | Op::GiveFeedback
                | Op::RegisterInterest
        )
    }

    /// Whether the change counts itself against the quota in its own transaction (enrolling:
    /// one commit, not two), rather than being counted by `handlers::run` before it runs.
    pub fn counted_in_its_transaction(self) -> bool {
        self == Op::Enrol
    }
}

pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub function: Function,
    pub op: Op,
}

const fn r(method: &'static str, path: &'static str, function: Function, op: Op) -> Route {
    Route {
        method,
        path,
        function,
        op,
    }
}

use Function as F;

pub const ROUTES: &[Route] = &[
    r("GET", "/sessions", F::ListSessions, Op::ListSessions),
    r("GET", "/sessions/{id}", F::ListSessions, Op::GetSession),
    r("POST", "/sessions/{id}/enrolment", F::Enrol, Op::Enrol),
    r(
        "POST",
        "/sessions/{id}/offer/accept",
        F::Enrol,
        Op::AcceptOffer,
    ),
    r(
        "POST",
        "/sessions/{id}/offer/decline",
        F::Enrol,
        Op::DeclineOffer,
    ),
    r("GET", "/liens/{token}", F::Enrol, Op::LinkPage),
    r("POST", "/liens/{token}", F::Enrol, Op::LinkAnswer),
    r(
        "DELETE",
        "/sessions/{id}/enrolment",
        F::Withdraw,
        Op::Withdraw,
    ),
    r("GET", "/me", F::OfficerProfile, Op::Me),
    r("GET", "/me/enrolments", F::OfficerProfile, Op::MyEnrolments),
    r("GET", "/me/programme", F::OfficerProfile, Op::MyProgramme),
    r("GET", "/me/export", F::OfficerProfile, Op::MyExport),
    r("POST", "/me/erasure", F::OfficerProfile, Op::EraseMe),
    r(
        "GET",
        "/me/notifications",
        F::OfficerProfile,
        Op::MyNotifications,
    ),
    r(
        "POST",
        "/me/notifications/{id}/read",
        F::OfficerProfile,
        Op::MarkNotificationRead,
    ),
    r(
        "POST",
        "/me/notifications/read-all",
        F::OfficerProfile,
        Op::MarkAllNotificationsRead,
    ),
    r(
        "GET",
        "/me/calendar-link",
        F::OfficerProfile,
        Op::MyCalendarLink,
    ),
    r(
        "POST",
        "/me/calendar-link",
        F::OfficerProfile,
        Op::CreateCalendarLink,
    ),
    r(
        "DELETE",
        "/me/calendar-link",
        F::OfficerProfile,
        Op::RevokeCalendarLink,
    ),
    r(
        "GET",
        "/me/calendar.ics",
        F::OfficerProfile,
        Op::CalendarFeed,
    ),
    r(
        "POST",
        "/me/enrolments/{id}/feedback",
        F::OfficerProfile,
        Op::GiveFeedback,
    ),
    r("GET", "/trainings", F::OfficerProfile, Op::ListTrainings),
    r(
        "POST",
        "/trainings/{id}/interest",
        F::OfficerProfile,
        Op::RegisterInterest,
    ),
    r(
        "GET",
        "/admin/trainings",
        F::StaffCatalogue,
        Op::AdminListTrainings,
    ),
    r(
        "POST",
        "/admin/trainings",
        F::StaffCatalogue,
        Op::AdminCreateTraining,
    ),
    r(
        "GET",
        "/admin/trainings/{id}",
        F::StaffCatalogue,
        Op::AdminGetTraining,
    ),
    r(
        "PUT",
        "/admin/trainings/{id}",
        F::StaffCatalogue,
        Op::AdminUpdateTraining,
    ),
    r(
        "POST",
        "/admin/trainings/{id}/archive",
        F::StaffCatalogue,
        Op::AdminArchiveTraining,
    ),
    r(
        "GET",
        "/admin/trainings/{id}/audit",
        F::StaffCatalogue,
        Op::AdminTrainingAudit,
    ),
    r(
        "GET",
        "/admin/sessions",
        F::StaffSessions,
        Op::AdminListSessions,
    ),
    r(
        "POST",
        "/admin/sessions",
        F::StaffSessions,
        Op::AdminCreateSession,
    ),
    r(
        "GET",
        "/admin/sessions/{id}",
        F::StaffSessions,
        Op::AdminGetSession,
    ),
    r(
        "PATCH",
        "/admin/sessions/{id}",
        F::StaffSessions,
        Op::AdminUpdateSession,
    ),
    r(
        "POST",
        "/admin/sessions/{id}/cancel",
        F::StaffSessions,
        Op::AdminCancelSession,
    ),
    r(
        "DELETE",
        "/admin/sessions/{id}",
        F::StaffSessions,
        Op::AdminDeleteSession,
    ),
    r(
        "GET",
        "/admin/sessions/{id}/feedback",
        F::StaffSessions,
        Op::AdminSessionFeedback,
    ),
    r(
        "GET",
        "/admin/sessions/{id}/notifications",
        F::StaffSessions,
        Op::AdminSessionNotifications,
    ),
    r(
        "GET",
        "/admin/sessions/{id}/audit",
        F::StaffSessions,
        Op::AdminSessionAudit,
    ),
    r(
        "GET",
        "/admin/enrolments",
        F::StaffSessions,
        Op::AdminListEnrolments,
    ),
    r(
        "GET",
        "/admin/sessions/{id}/roster",
        F::StaffSessions,
        Op::AdminRoster,
    ),
    r(
        "POST",
        "/admin/sessions/{id}/enrolments",
        F::StaffSessions,
        Op::AdminEnrol,
    ),
    r(
        "DELETE",
        "/admin/sessions/{id}/enrolments/{officer_id}",
        F::StaffSessions,
        Op::AdminWithdraw,
    ),
    r(
        "GET",
        "/admin/sessions/{id}/enrolments/{officer_id}/history",
        F::StaffSessions,
        Op::AdminEnrolmentHistory,
    ),
    r(
        "POST",
        "/admin/sessions/{id}/waitlist/{officer_id}/move",
        F::StaffSessions,
        Op::AdminMoveInWaitlist,
    ),
    r(
        "PUT",
        "/admin/sessions/{id}/attendance/{officer_id}",
        F::StaffSessions,
        Op::AdminMarkAttendance,
    ),
    r(
        "GET",
        "/admin/officers",
        F::StaffOfficers,
        Op::AdminListOfficers,
    ),
    r(
        "GET",
        "/admin/officers/{id}",
        F::StaffOfficers,
        Op::AdminGetOfficer,
    ),
    r(
        "GET",
        "/admin/officers/{id}/notifications",
        F::StaffOfficers,
        Op::AdminOfficerNotifications,
    ),
    r(
        "GET",
        "/admin/officers/{id}/audit",
        F::StaffOfficers,
        Op::AdminOfficerAudit,
    ),
    r(
        "GET",
        "/admin/officers/{id}/export",
        F::StaffOfficers,
        Op::AdminExportOfficer,
    ),
    r(
        "POST",
        "/admin/officers/{id}/erasure",
        F::StaffOfficers,
        Op::AdminEraseOfficer,
    ),
    r(
        "PUT",
        "/admin/officers/{id}/programme/{training_id}",
        F::StaffOfficers,
        Op::AdminPlanTraining,
    ),
    r(
        "DELETE",
        "/admin/officers/{id}/programme/{training_id}",
        F::StaffOfficers,
        Op::AdminUnplanTraining,
    ),
    r("GET", "/admin/staff", F::StaffOfficers, Op::AdminListStaff),
    r(
        "GET",
        "/admin/programmes",
        F::StaffOfficers,
        Op::AdminProgrammes,
    ),
    r(
        "GET",
        "/admin/statistics",
        F::StaffOfficers,
        Op::AdminStatistics,
    ),
    r(
        "POST",
        "/admin/imports/{kind}",
        F::StaffImports,
        Op::AdminImport,
    ),
];

/// Path parameters of a matched route, by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathParams(pub Vec<(String, String)>);

impl PathParams {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Matches a concrete path against a template such as `/sessions/{id}/enrolment`.
pub fn match_template(template: &str, path: &str) -> Option<PathParams> {
    let mut t = template.trim_matches('/').split('/');
    let mut p = path
        .trim_end_matches('/')
        .trim_start_matches('/')
        .split('/');
    let mut params = Vec::new();
    loop {
        match (t.next(), p.next()) {
            (None, None) => return Some(PathParams(params)),
            (Some(ts), Some(ps)) => {
                if let Some(name) = ts.strip_prefix('{').and_then(|n| n.strip_suffix('}')) {
                    if ps.is_empty() {
                        return None;
                    }
                    params.push((name.to_string(), ps.to_string()));
                } else if ts != ps {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

/// The outcome of looking a request up in the table.
pub enum Lookup {
    Found(&'static Route, PathParams),
    /// The path exists, but not with this method.
    MethodNotAllowed(Vec<&'static str>),
    NotFound,
}

pub fn lookup(method: &str, path: &str) -> Lookup {
    let mut allowed = Vec::new();
    for route in ROUTES {
        if let Some(params) = match_template(route.path, path) {
            if route.method.eq_ignore_ascii_case(method) {
                return Lookup::Found(route, params);
            }
            allowed.push(route.method);
        }
    }
    if allowed.is_empty() {
        Lookup::NotFound
    } else {
        Lookup::MethodNotAllowed(allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_concrete_paths_and_extract_parameters() {
        let p = match_template("/sessions/{id}/enrolment", "/sessions/01ABC/enrolment").unwrap();
        assert_eq!(p.get("id"), Some("01ABC"));
        assert!(match_template("/sessions/{id}", "/sessions/").is_none());
        assert!(match_template("/sessions/{id}", "/sessions/a/b").is_none());
        assert!(match_template("/sessions", "/sessions/").is_some());
    }

    #[test]
    fn lookup_tells_a_wrong_method_from_an_unknown_path() {
        assert!(matches!(
            lookup("GET", "/sessions/x/enrolment"),
            Lookup::MethodNotAllowed(_)
        ));
        assert!(matches!(lookup("GET", "/nowhere"), Lookup::NotFound));
        assert!(
            matches!(lookup("DELETE", "/sessions/x/enrolment"), Lookup::Found(r, _) if r.op == Op::Withdraw)
        );
    }

    #[test]
    fn every_route_is_unique_and_staff_routes_belong_to_staff_functions() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(
                    !(a.method == b.method && a.path == b.path),
                    "{} {}",
                    a.method,
                    a.path
                );
            }
            let staff = matches!(
                a.function,
                Function::StaffCatalogue
                    | Function::StaffSessions
                    | Function::StaffOfficers
                    | Function::StaffImports
            );
            assert_eq!(a.path.starts_with("/admin/"), staff, "{}", a.path);
        }
    }
}
