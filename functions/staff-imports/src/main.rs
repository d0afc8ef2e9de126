//! Staff: POST /admin/imports/{kind}, the spreadsheets staff keep today.

use cassiopee_api::handlers::StaffImports;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    cassiopee_api::run_http_function::<StaffImports>().await
}
