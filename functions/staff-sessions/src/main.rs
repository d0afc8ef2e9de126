//! Staff: planning, rosters, enrolments on behalf, waiting-list order, attendance.

use cassiopee_api::handlers::StaffSessions;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    cassiopee_api::run_http_function::<StaffSessions>().await
}
