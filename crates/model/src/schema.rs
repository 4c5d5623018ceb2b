//! OpenAPI schemas (feature `utoipa`) for the values that serialise as text: CUCM's enums by
//! their display names, device names and directory numbers, and the flattened registration.

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use crate::{DeviceName, DirectoryNumber, NewRegistration, Registration};

/// A string that is one of `values` (what the JSON carries: CUCM's display names).
pub(crate) fn names(values: &[&str]) -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values.iter().copied())).into()
}

fn text(description: &str, example: &str) -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).description(Some(description)).examples([example]).into()
}

impl PartialSchema for DeviceName {
    fn schema() -> RefOr<Schema> {
        text(DeviceName::RULE, "SEP2C3124C9F8E1")
    }
}
impl ToSchema for DeviceName {}

impl PartialSchema for DirectoryNumber {
    fn schema() -> RefOr<Schema> {
        text("a directory number (line), digits with an optional leading +", "2001")
    }
}
impl ToSchema for DirectoryNumber {}

/// How [`Registration`] serialises: the event's fields, flat, beside its id and times.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
struct RegistrationSchema {
    id: i64,
    at: String,
    count: u32,
    first_at: Option<String>,
    #[serde(flatten)]
    event: NewRegistration,
    /// Served by the legacy TLS engine (TLS 1.0/1.1 or a legacy suite).
    legacy: bool,
}

impl PartialSchema for Registration {
    fn schema() -> RefOr<Schema> {
        RegistrationSchema::schema()
    }
}
impl ToSchema for Registration {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        RegistrationSchema::schemas(schemas);
    }
}
