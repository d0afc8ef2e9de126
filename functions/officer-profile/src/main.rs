//! The officer's read side: /me, enrolments, programme, notifications, interest.

use cassiopee_api::handlers::OfficerProfile;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    cassiopee_api::run_http_function::<OfficerProfile>().await
}
