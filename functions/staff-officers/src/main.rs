//! Staff: officers and their programmes, staff list, statistics.

use cassiopee_api::routes::Function;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    cassiopee_api::run_http_function(Function::StaffOfficers).await
}
