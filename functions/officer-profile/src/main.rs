//! The officer's read side: /me, enrolments, programme, notifications, interest.

use cassiopee_api::routes::Function;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    cassiopee_api::run_http_function(Function::OfficerProfile).await
}
