//! `/api/v1/devices`: Find and List Phones, one device, add, update, remove, CSV import, lines
//! (`opencapf device list|show|add|update|remove|import|line`).

use axum::extract::State;
use opencapf_cluster::{new_device, parse_device_csv, parse_lines, DeviceDetails, DevicePage, DeviceUpdate, Imported};
use opencapf_model::{parse_load_information, DeviceName, DirectoryNumber};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{JsonBody, Params, PathParam, Upload, MAX_CSV};
use super::json::{no_content, Answer};
use super::query::DeviceSearch;
use crate::auth::Caller;
use crate::{AppState, Problem};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(import))
        .routes(routes!(show, update, remove))
        .routes(routes!(add_line))
        .routes(routes!(remove_line))
}

fn device_name(s: &str) -> Result<DeviceName, Problem> {
    s.parse().map_err(|e: opencapf_model::ModelError| Problem::new(axum::http::StatusCode::NOT_FOUND, e.to_string()))
}

/// Find and List Phones: one page of the devices the filters match.
#[utoipa::path(get, path = "/api/v1/devices", tag = "devices", params(DeviceSearch),
    responses((status = 200, description = "one page; `total` counts every match", body = DevicePage)))]
async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    Params(search): Params<DeviceSearch>,
) -> Result<Answer, Problem> {
    let q = search.query()?;
    Answer::ok(&state.cluster.search_devices(&q).await?)
}

/// One device with its history, LSCs and registrations, as `device show --json`.
#[utoipa::path(get, path = "/api/v1/devices/{name}", tag = "devices", params(("name" = String, Path, description = "the device name, e.g. SEP2C3124C9F8E1")),
    responses((status = 200, description = "the device", body = DeviceDetails)))]
async fn show(
    State(state): State<AppState>,
    _caller: Caller,
    PathParam(name): PathParam<String>,
) -> Result<Answer, Problem> {
    Answer::ok(&state.cluster.device_details(&device_name(&name)?).await?)
}

/// A device to add; the defaults are `device add`'s.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewDeviceBody {
    /// `SEP` + 12 hex digits, or another CUCM device name.
    name: String,
    /// Default `CP-8861`.
    model: Option<String>,
    /// `sip` (default) or `sccp`.
    protocol: Option<String>,
    /// `non-secure` (default), `authenticated` or `encrypted`.
    security: Option<String>,
    description: Option<String>,
    /// Directory numbers, line 1 first.
    #[serde(default)]
    lines: Vec<String>,
    /// The firmware load id, e.g. `sip88xx.14-2-1-0001-14`.
    load: Option<String>,
}

/// Adds a device (admin), as `device add`.
#[utoipa::path(post, path = "/api/v1/devices", tag = "devices", request_body = NewDeviceBody,
    responses((status = 201, description = "the device added", body = DeviceDetails)))]
async fn add(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(b): JsonBody<NewDeviceBody>,
) -> Result<Answer, Problem> {
    caller.require_admin()?;
    let mut d = new_device(
        &b.name,
        b.model.as_deref().unwrap_or("CP-8861"),
        b.protocol.as_deref().unwrap_or("sip"),
        b.security.as_deref().unwrap_or("non-secure"),
        b.description.as_deref().unwrap_or(""),
    )?;
    d.lines = parse_lines(&b.lines)?;
    d.load_information =
        b.load.as_deref().map(parse_load_information).transpose().map_err(opencapf_cluster::Error::from)?;
    state.cluster.add_device(&d, &caller.actor).await?;
    Answer::created(&state.cluster.device_details(&d.name).await?)
}

/// A change to the phone page fields; an absent field keeps its value, `"load": null` removes
/// the load.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeviceChange {
    model: Option<String>,
    /// `sip` or `sccp`.
    protocol: Option<String>,
    /// `non-secure`, `authenticated` or `encrypted`.
    security: Option<String>,
    description: Option<String>,
    /// The firmware load id; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    load: Option<Option<String>>,
}

/// A field that is present (`Some`, perhaps `Some(None)` for `null`) or absent (`None`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Updates a device's phone page fields (admin), as `device update`.
#[utoipa::path(patch, path = "/api/v1/devices/{name}", tag = "devices", params(("name" = String, Path)), request_body = DeviceChange,
    responses((status = 200, description = "the device after the change", body = DeviceDetails)))]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(name): PathParam<String>,
    JsonBody(b): JsonBody<DeviceChange>,
) -> Result<Answer, Problem> {
    caller.require_admin()?;
    let name = device_name(&name)?;
    let u = DeviceUpdate {
        model: b.model,
        protocol: b.protocol,
        security: b.security,
        description: b.description,
        load: b.load,
    };
    state.cluster.update_device(&name, &u, &caller.actor).await?;
    Answer::ok(&state.cluster.device_details(&name).await?)
}

/// Removes a device (admin), as `device remove`.
#[utoipa::path(delete, path = "/api/v1/devices/{name}", tag = "devices", params(("name" = String, Path)),
    responses((status = 204, description = "removed")))]
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(name): PathParam<String>,
) -> Result<axum::http::StatusCode, Problem> {
    caller.require_admin()?;
    state.cluster.remove_device(&device_name(&name)?, &caller.actor).await?;
    Ok(no_content())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ImportParams {
    /// Skip the devices that exist already instead of refusing the file.
    #[serde(default)]
    skip_existing: bool,
}

/// Imports devices from a CSV (OpenCAPF's columns or a CUCM BAT phone export), all or none
/// (admin), as `device import`. At most 16 MiB.
#[utoipa::path(post, path = "/api/v1/devices/import", tag = "devices", params(ImportParams),
    request_body(content = String, content_type = "text/csv", description = "name,model,protocol,security,description,lines"),
    responses((status = 200, description = "how many were added and skipped", body = Imported)))]
async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Params(p): Params<ImportParams>,
    Upload(csv): Upload<MAX_CSV>,
) -> Result<Answer, Problem> {
    caller.require_admin()?;
    let (parsed, problems) = parse_device_csv(csv.as_ref())?;
    let imported =
        state.cluster.import_devices("upload", parsed, problems, p.skip_existing, &caller.actor, |_, _| {}).await?;
    Answer::ok(&imported)
}

/// A device's lines after a change, as `device line add|remove --json`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Lines {
    device: DeviceName,
    lines: Vec<DirectoryNumber>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewLine {
    /// The directory number, added after the last line.
    dn: String,
}

fn one_line(dn: &str) -> Result<DirectoryNumber, Problem> {
    let mut lines = parse_lines(&[dn])?;
    match (lines.pop(), lines.is_empty()) {
        (Some(dn), true) => Ok(dn),
        _ => Err(Problem::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            format!("give one directory number, not '{}'", opencapf_model::printable(dn)),
        )),
    }
}

/// Adds a line after the device's last one (admin), as `device line add`.
#[utoipa::path(post, path = "/api/v1/devices/{name}/lines", tag = "devices", params(("name" = String, Path)), request_body = NewLine,
    responses((status = 200, description = "the device's lines", body = Lines)))]
async fn add_line(
    State(state): State<AppState>,
    caller: Caller,
    PathParam(name): PathParam<String>,
    JsonBody(b): JsonBody<NewLine>,
) -> Result<Answer, Problem> {
    caller.require_admin()?;
    let device = device_name(&name)?;
    let lines = state.cluster.add_line(&device, &one_line(&b.dn)?, &caller.actor).await?;
    Answer::ok(&Lines { device, lines })
}

/// Removes a line; the ones after it move up a button (admin), as `device line remove`.
#[utoipa::path(delete, path = "/api/v1/devices/{name}/lines/{dn}", tag = "devices", params(("name" = String, Path), ("dn" = String, Path)),
    responses((status = 200, description = "the device's lines", body = Lines)))]
async fn remove_line(
    State(state): State<AppState>,
    caller: Caller,
    PathParam((name, dn)): PathParam<(String, String)>,
) -> Result<Answer, Problem> {
    caller.require_admin()?;
    let device = device_name(&name)?;
    let lines = state.cluster.remove_line(&device, &one_line(&dn)?, &caller.actor).await?;
    Answer::ok(&Lines { device, lines })
}
