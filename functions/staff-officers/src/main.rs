//! Staff: officers and their programmes, staff list, statistics.

use cassiopee_api::handlers::StaffOfficers;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    cassiopee_api::run_http_function::<StaffOfficers>().await
}
