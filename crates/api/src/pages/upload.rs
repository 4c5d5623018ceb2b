//! The fields of the pages' upload forms (multipart), each read within its own limit.
//!
//! A form past a limit gets its 413 only if the browser reads it: answered while the browser still
//! sends, the connection closes under its upload and it shows a reset instead. So the rest of the
//! form is read and dropped first, up to [`DRAIN_PAST`] bytes (past that, the connection closes).

use axum::extract::multipart::{Field, MultipartError};
use axum::extract::Multipart;
use axum::http::StatusCode;

use crate::rest::DRAIN_PAST;
use crate::Problem;

/// One field of a form: its name, the file name a browser gives a file field, and its bytes.
pub(crate) struct FormField {
    pub(crate) name: String,
    pub(crate) file_name: Option<String>,
    pub(crate) bytes: Vec<u8>,
}

/// Every field of `form`, in order, each at most `limit_of(its name)` bytes: 413 past it (or past
/// the router's limit on the whole body), 400 for a damaged form.
pub(crate) async fn fields(mut form: Multipart, limit_of: impl Fn(&str) -> usize) -> Result<Vec<FormField>, Problem> {
    let mut fields = Vec::new();
    while let Some(mut field) = form.next_field().await.map_err(damaged)? {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(|f| f.chars().take(200).collect());
        let limit = limit_of(&name);
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(damaged)? {
            if bytes.len() + chunk.len() > limit {
                if let Some(left) = drain_field(&mut field, DRAIN_PAST).await {
                    drop(field);
                    drain_form(&mut form, left).await;
                }
                let what = opencapf_model::printable(&name);
                return Err(Problem::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the field {what} is larger than {limit} bytes"),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        fields.push(FormField { name, file_name, bytes });
    }
    Ok(fields)
}

/// Reads and drops the rest of a field, within `left` bytes: what is left of them, or `None`
/// once they are spent or the form is damaged.
async fn drain_field(field: &mut Field<'_>, mut left: usize) -> Option<usize> {
    while let Some(chunk) = field.chunk().await.ok()? {
        left = left.checked_sub(chunk.len())?;
    }
    Some(left)
}

/// Reads and drops the form's remaining fields, within `left` bytes.
async fn drain_form(form: &mut Multipart, mut left: usize) {
    while let Ok(Some(mut field)) = form.next_field().await {
        match drain_field(&mut field, left).await {
            Some(rest) => left = rest,
            None => return,
        }
    }
}

/// The router's limit on a whole body is a 413 too; anything else, a damaged upload.
fn damaged(e: MultipartError) -> Problem {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        let mib = crate::router::MAX_BODY / (1024 * 1024);
        return Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the upload is larger than the {mib} MiB a page accepts"),
        );
    }
    Problem::bad_request(format!("the upload is damaged: {}", opencapf_model::printable(&e.to_string())))
}
