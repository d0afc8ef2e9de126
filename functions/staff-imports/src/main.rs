//! Staff: POST /admin/imports/{kind}, the spreadsheets staff keep today.

use cassiopee_api::routes::Function;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    cassiopee_api::run_http_function(Function::StaffImports).await
}
