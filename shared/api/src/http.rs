//! Reading an API Gateway HTTP API (v2) request and writing JSON answers.

use crate::routes::PathParams;
use cassiopee_domain::error::{DomainError, Result};
use cassiopee_domain::export::{self, Table};
use lambda_http::http::{HeaderMap, Response, StatusCode, header};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// Largest JSON body accepted.
pub const MAX_JSON_BODY: usize = 64 * 1024;
/// Largest spreadsheet accepted by an import (Lambda's synchronous payload limit is 6 MB).
pub const MAX_IMPORT_BODY: usize = 5 * 1024 * 1024;

/// The identity the authorizer vouched for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
}

impl Claims {
    pub fn is_staff(&self) -> bool {
        self.groups.iter().any(|g| g == "staff")
    }
}

/// Parses Cognito's `cognito:groups` claim as API Gateway hands it over: a string such as
/// `[staff]` or `[staff admin]`; a JSON array string (`["staff"]`) is accepted too.
pub fn parse_groups(raw: &str) -> Vec<String> {
    let raw = raw.trim();
    if let Ok(list) = serde_json::from_str::<Vec<String>>(raw) {
        return list;
    }
    raw.trim_start_matches('[')
        .trim_end_matches(']')
        .split([' ', ','])
        .map(|g| g.trim().trim_matches('"').to_string())
        .filter(|g| !g.is_empty())
        .collect()
}

/// The claims of the JWT authorizer, from the request context only: nothing in the body or
/// headers can claim an identity.
pub fn claims(req: &Request) -> Option<Claims> {
    let RequestContext::ApiGatewayV2(ctx) = req.request_context_ref()? else {
        return None;
    };
    let jwt = ctx.authorizer.as_ref()?.jwt.as_ref()?;
    let sub = jwt.claims.get("sub")?.trim().to_string();
    if sub.is_empty() {
        return None;
    }
    Some(Claims {
        sub,
        email: jwt.claims.get("email").cloned(),
        groups: jwt
            .claims
            .get("cognito:groups")
            .map(|g| parse_groups(g))
            .unwrap_or_default(),
    })
}

/// What a handler needs from the request, read once.
pub struct Incoming {
    pub method: String,
    pub path: String,
    pub params: PathParams,
    pub query: HashMap<String, String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub claims: Option<Claims>,
}

impl Incoming {
    pub fn from_request(req: Request, params: PathParams) -> Self {
        let claims = claims(&req);
        let query = req
            .query_string_parameters_ref()
            .map(|q| {
                q.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let (parts, body) = req.into_parts();
        let body = match body {
            Body::Empty => Vec::new(),
            Body::Text(t) => t.into_bytes(),
            Body::Binary(b) => b,
            _ => Vec::new(),
        };
        Self {
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
            params,
            query,
            headers: parts.headers,
            body,
            claims,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the request has header `name`, readable or not (bytes outside ASCII make
    /// [`Incoming::header`] answer `None`).
    pub fn has_header(&self, name: &str) -> bool {
        self.headers.contains_key(name)
    }

    /// A path parameter that must be a well-formed id; anything else is "not found".
    pub fn id<T>(
        &self,
        name: &str,
        parse: fn(&str) -> Option<T>,
        not_found: fn() -> DomainError,
    ) -> Result<T> {
        self.params.get(name).and_then(parse).ok_or_else(not_found)
    }

    /// Decodes a JSON body: size-limited, unknown fields refused by the target type, errors
    /// explained in French with the path of the faulty field.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        if self.body.len() > MAX_JSON_BODY {
            return Err(too_large(MAX_JSON_BODY));
        }
        if let Some(ct) = self.header("content-type")
            && !ct.to_ascii_lowercase().contains("json")
        {
            return Err(DomainError::invalid(
                "malformed-request",
                "Le corps de la requête doit être du JSON (Content-Type: application/json).",
            ));
        }
        let body: &[u8] = if self.body.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &self.body
        };
        // serde would also read a struct from an array, matching fields by position: the API
        // only takes objects, so that a field's meaning never depends on declaration order.
        if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(DomainError::invalid(
                "malformed-request",
                "Le corps de la requête doit être un objet JSON ({ … }).",
            ));
        }
        let de = &mut serde_json::Deserializer::from_slice(body);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let inner = e.inner();
            let detail = french_json_error(inner);
            // A syntax error has no meaningful field; a missing field is named by serde, not
            // by the path (which points at the object that lacks it).
            let path = match inner.classify() {
                serde_json::error::Category::Data => {
                    let msg = inner.to_string();
                    if msg.starts_with("missing field") {
                        let name = msg.split('`').nth(1).unwrap_or("").to_string();
                        match e.path().to_string().as_str() {
                            "." | "" => name,
                            parent => format!("{parent}.{name}"),
                        }
                    } else {
                        e.path().to_string()
                    }
                }
                _ => String::new(),
            };
            if path.is_empty() || path == "." || path == "?" {
                DomainError::invalid("malformed-request", capitalise(&detail))
            } else {
                let mut err = DomainError::field(&path, detail.clone());
                err.code = "malformed-request";
                err.detail = format!("Champ « {path} » : {detail}");
                err
            }
        })
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

pub fn too_large(limit: usize) -> DomainError {
    DomainError::invalid(
        "payload-too-large",
        format!(
            "Le corps de la requête dépasse la taille maximale ({} Kio).",
            limit / 1024
        ),
    )
}

/// Turns serde's English messages into French ones for the UI.
fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The values serde lists as `one of a, b, or c`, as a French list.
fn french_alternatives(expected: &str) -> String {
    let list = expected
        .trim_start_matches("one of ")
        .replace(", or ", ", ")
        .replace(" or ", ", ");
    let mut seen = Vec::new();
    for v in list.split(", ").map(|v| v.trim().trim_matches('`')) {
        if !v.is_empty() && !seen.contains(&v) {
            seen.push(v);
        }
    }
    seen.join(", ")
}

fn french_json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let msg = e.to_string();
    let between_ticks = |m: &str| m.split('`').nth(1).unwrap_or("").to_string();
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => format!(
            "le corps n'est pas un JSON valide (ligne {}, colonne {}).",
            e.line(),
            e.column()
        ),
        Category::Data => {
            if msg.starts_with("unknown field") {
                format!("champ inconnu « {} ».", between_ticks(&msg))
            } else if msg.starts_with("duplicate field") {
                format!("champ « {} » donné deux fois.", between_ticks(&msg))
            } else if msg.starts_with("missing field") {
                format!("champ obligatoire manquant « {} ».", between_ticks(&msg))
            } else if msg.starts_with("invalid type") {
                let expected = msg
                    .split("expected ")
                    .nth(1)
                    .unwrap_or("")
                    .split(" at line")
                    .next()
                    .unwrap_or("");
                format!(
                    "type de valeur invalide (attendu : {}).",
                    translate_expected(expected)
                )
            } else if msg.starts_with("invalid value") || msg.contains("out of range") {
                "nombre hors limites (un entier positif raisonnable est attendu).".to_string()
            } else if msg.starts_with("unknown variant") {
                let allowed = msg
                    .split("expected ")
                    .nth(1)
                    .unwrap_or("")
                    .split(" at line")
                    .next()
                    .unwrap_or("");
                format!(
                    "valeur « {} » non reconnue (valeurs admises : {}).",
                    between_ticks(&msg),
                    french_alternatives(allowed)
                )
            } else {
                // Our own messages (amounts, dates) are already French.
                msg.split(" at line").next().unwrap_or(&msg).to_string()
            }
        }
    }
}

fn translate_expected(expected: &str) -> &'static str {
    if expected.contains("u32") || expected.contains("integer") || expected.contains("u64") {
        "un nombre entier positif, au plus 4 294 967 295"
    } else if expected.contains("string") {
        "une chaîne de caractères"
    } else if expected.contains("bool") {
        "true ou false"
    } else if expected.contains("struct") || expected.contains("map") {
        "un objet JSON"
    } else {
        "une autre forme de valeur"
    }
}

/// `{"<name>": [..], "count": n}`, written straight from the list: `json!` would first build
/// a tree of maps for every item, which costs more than writing the text.
pub struct Listing<'a, T> {
    name: &'static str,
    items: &'a [T],
}

pub fn listing<'a, T: Serialize>(name: &'static str, items: &'a [T]) -> Listing<'a, T> {
    Listing { name, items }
}

impl<T: Serialize> Serialize for Listing<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry(self.name, self.items)?;
        map.serialize_entry("count", &self.items.len())?;
        map.end()
    }
}

pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_string(value) {
        Ok(text) => json_text(status, text),
        Err(e) => crate::problem::problem(&DomainError::internal(e)),
    }
}

/// An answer whose JSON is already written.
pub fn json_text(status: StatusCode, text: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::Text(text))
        .unwrap_or_default()
}

/// What a route that also exports can answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The weight (`q`) the `Accept` header gives a media type: that of the most specific range
/// that matches it (`type/subtype`, then `type/*`, then `*/*`), 0 when none does.
fn weight(accept: &str, kind: &str, subtype: &str) -> u32 {
    let mut best: Option<(u8, u32)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .next()
            .map(parse_q)
            .unwrap_or(1000);
        let (t, s) = media.split_once('/').unwrap_or((media.as_str(), ""));
        let specificity = match (t, s) {
            _ if t == kind && s == subtype => 3,
            _ if t == kind && s == "*" => 2,
            ("*", "*") => 1,
            _ => continue,
        };
        if best.is_none_or(|(sp, _)| specificity > sp) {
            best = Some((specificity, q));
        }
    }
    best.map(|(_, q)| q).unwrap_or(0)
}

/// A `q` value in thousandths; anything unreadable counts as 0.
fn parse_q(raw: &str) -> u32 {
    let raw = raw.trim();
    let (units, decimals) = raw.split_once('.').unwrap_or((raw, ""));
    if decimals.len() > 3 || !decimals.chars().all(|c| c.is_ascii_digit()) {
        return 0;
    }
    let thousandths = format!("{decimals:0<3}").parse::<u32>().unwrap_or(0);
    match units {
        "1" => 1000,
        "0" | "" => thousandths,
        _ => 0,
    }
}

/// Chooses the format from the `Accept` header: the heaviest of JSON, CSV and XLSX, JSON
/// first on a tie (so no header or `*/*` answer JSON); 406 when the caller accepts none.
pub fn negotiate(req: &Incoming) -> Result<Format> {
    let Some(accept) = req.header("accept").filter(|a| !a.trim().is_empty()) else {
        return Ok(Format::Json);
    };
    let (kind, subtype) = XLSX.split_once('/').unwrap_or_default();
    let weights = [
        (Format::Json, weight(accept, "application", "json")),
        (Format::Csv, weight(accept, "text", "csv")),
        (Format::Xlsx, weight(accept, kind, subtype)),
    ];
    let mut best = (Format::Json, 0);
    for (format, w) in weights {
        if w > best.1 {
            best = (format, w);
        }
    }
    if best.1 == 0 {
        return Err(DomainError::not_acceptable(&format!(
            "application/json, text/csv, {XLSX}"
        )));
    }
    Ok(best.0)
}

/// A download of `table`, as CSV (a text body, which API Gateway passes through as text) or
/// as XLSX (a binary body, which Lambda base64-encodes and API Gateway decodes).
pub fn download(format: Format, stem: &str, table: &Table) -> Response<Body> {
    let stem = export::file_stem(stem);
    let (content_type, file, body) = match format {
        Format::Xlsx => match table.to_xlsx(&stem) {
            Ok(bytes) => (XLSX, format!("{stem}.xlsx"), Body::Binary(bytes)),
            Err(e) => return crate::problem::problem(&DomainError::internal(e)),
        },
        Format::Csv | Format::Json => match String::from_utf8(table.to_csv()) {
            Ok(text) => (
                "text/csv; charset=utf-8",
                format!("{stem}.csv"),
                Body::Text(text),
            ),
            Err(e) => return crate::problem::problem(&DomainError::internal(e)),
        },
    };
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file}\""),
        )
        .header(header::VARY, "Accept")
        .body(body)
        .unwrap_or_default()
}

/// A JSON answer of a route that also exports: it varies with `Accept`.
pub fn json_varying<T: Serialize>(value: &T) -> Response<Body> {
    let mut r = json(StatusCode::OK, value);
    r.headers_mut()
        .insert(header::VARY, header::HeaderValue::from_static("Accept"));
    r
}

pub fn no_content() -> Response<Body> {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::Empty)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_weights_follow_the_most_specific_range() {
        assert_eq!(weight("text/csv", "text", "csv"), 1000);
        assert_eq!(weight("text/csv", "application", "json"), 0);
        assert_eq!(weight("*/*", "application", "json"), 1000);
        assert_eq!(
            weight("text/*;q=0.5, text/csv;q=0", "text", "csv"),
            0,
            "the exact range wins over text/*"
        );
        assert_eq!(
            weight("application/json;q=0.25", "application", "json"),
            250
        );
        assert_eq!(parse_q("0.8"), 800);
        assert_eq!(parse_q("2"), 0);
        assert_eq!(parse_q("abc"), 0);
    }

    #[test]
    fn cognito_groups_parse_in_every_shape_api_gateway_sends() {
        assert_eq!(parse_groups("[staff]"), vec!["staff"]);
        assert_eq!(parse_groups("[staff admin]"), vec!["staff", "admin"]);
        assert_eq!(parse_groups("[\"staff\",\"x\"]"), vec!["staff", "x"]);
        assert_eq!(parse_groups("[]"), Vec::<String>::new());
        assert_eq!(parse_groups("[staffers]"), vec!["staffers"]);
    }
}
