//! JSON answers in the CLI's `--json` shape: the value, with the `<field>_token` siblings
//! ([`opencapf_model::add_tokens`]) that scripts match on.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::Problem;

/// A 200 (or `status`) JSON answer.
pub(crate) struct Answer {
    status: StatusCode,
    body: serde_json::Value,
}

impl Answer {
    pub(crate) fn ok(value: &impl Serialize) -> Result<Answer, Problem> {
        Answer::with_status(StatusCode::OK, value)
    }

    pub(crate) fn created(value: &impl Serialize) -> Result<Answer, Problem> {
        Answer::with_status(StatusCode::CREATED, value)
    }

    fn with_status(status: StatusCode, value: &impl Serialize) -> Result<Answer, Problem> {
        let mut body = serde_json::to_value(value).map_err(|e| {
            tracing::error!("an answer did not serialise: {e}");
            Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "the server failed; its log says why")
        })?;
        opencapf_model::add_tokens(&mut body);
        Ok(Answer { status, body })
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body)).into_response()
    }
}

/// A 204 No Content for a removal.
pub(crate) fn no_content() -> StatusCode {
    StatusCode::NO_CONTENT
}
