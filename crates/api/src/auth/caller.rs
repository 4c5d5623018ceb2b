//! The [`Caller`] extractor: a bearer token, else a session cookie, else 401 (API) or the login
//! page (web pages).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use opencapf_model::{Account, AccountRole, ApiToken};

use super::{request_session, Session};
use crate::{AppState, Problem};

/// Who is calling: the name and role the audit log and the role checks see.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// `web:NAME` for a person, `api:NAME` for a token: recorded with every change.
    pub(crate) actor: String,
    pub(crate) name: String,
    pub(crate) role: AccountRole,
    /// The session (people only), whose CSRF token the pages put in their forms.
    pub(crate) session: Option<Session>,
    /// The account must replace a one-time password before anything else.
    pub(crate) must_change_password: bool,
}

impl Caller {
    fn account(a: Account, session: Session) -> Caller {
        Caller {
            actor: format!("web:{}", a.name),
            name: a.name,
            role: a.role,
            session: Some(session),
            must_change_password: a.must_change_password,
        }
    }

    fn token(t: ApiToken) -> Caller {
        Caller {
            actor: format!("api:{}", t.name),
            name: t.name,
            role: t.role,
            session: None,
            must_change_password: false,
        }
    }

    /// 403 unless the caller is an administrator.
    pub(crate) fn require_admin(&self) -> Result<(), Problem> {
        if self.role.is_admin() {
            return Ok(());
        }
        Err(Problem::forbidden(format!(
            "{} has the {} role: changing trust stores, the cluster's certificates and accounts needs the admin role",
            self.name, self.role
        )))
    }

    /// The token this session's forms carry (empty for a token caller, which needs none).
    pub(crate) fn csrf_token(&self) -> &str {
        self.session.as_ref().map_or("", |s| s.csrf_token.as_str())
    }

    pub(crate) fn session_id(&self) -> Option<&str> {
        self.session.as_ref().map(|s| s.id.as_str())
    }
}

/// Why a request has no caller: a problem for the API, the login page for a person.
pub(crate) enum Rejection {
    Problem(Problem),
    Login { next: String },
    ChangePassword,
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        match self {
            Rejection::Problem(p) => p.into_response(),
            Rejection::Login { next } => {
                let next = crate::pages::url_encode(&next);
                Redirect::to(&format!("/login?next={next}")).into_response()
            }
            Rejection::ChangePassword => Redirect::to("/account/password").into_response(),
        }
    }
}

/// Machine clients: the REST API and /metrics get problems, not pages.
fn is_api(path: &str) -> bool {
    path.starts_with("/api/") || path == "/metrics"
}

/// Paths a session with a one-time password may still use.
fn allowed_before_new_password(path: &str) -> bool {
    matches!(path, "/account/password" | "/logout")
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, Rejection> {
        let path = parts.uri.path().to_owned();
        if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
            let secret = auth.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim);
            let Some(secret) = secret else {
                return Err(Rejection::Problem(Problem::unauthorized(
                    "the Authorization header must be `Bearer TOKEN` with a token from `opencapf admin token create`",
                )));
            };
            return match state.cluster.token_caller(secret).await {
                Ok(Some(t)) => Ok(Caller::token(t)),
                Ok(None) => Err(Rejection::Problem(Problem::unauthorized(
                    "the API token is not valid: it was revoked or mistyped",
                ))),
                Err(e) => Err(Rejection::Problem(e.into())),
            };
        }
        let session = request_session(&parts.headers, &parts.extensions, state).await.map_err(Rejection::Problem)?;
        let Some(session) = session else {
            if is_api(&path) {
                return Err(Rejection::Problem(Problem::unauthorized(
                    "log in first: send an API token (`Authorization: Bearer TOKEN`) or use the web pages' session",
                )));
            }
            let next = parts.uri.path_and_query().map_or("/".to_owned(), |p| p.to_string());
            return Err(Rejection::Login { next });
        };
        let account = match state.cluster.account(&session.account).await {
            Ok(a) => a,
            // Removing an account removes its sessions; one read just before may still see it.
            Err(opencapf_cluster::Error::NotFound(_)) => {
                return Err(Rejection::Problem(Problem::unauthorized("this account no longer exists")));
            }
            Err(e) => return Err(Rejection::Problem(e.into())),
        };
        let caller = Caller::account(account, session);
        if caller.must_change_password && !allowed_before_new_password(&path) {
            if is_api(&path) {
                return Err(Rejection::Problem(Problem::new(
                    StatusCode::FORBIDDEN,
                    "choose a new password first (the one-time password must be replaced): /account/password",
                )));
            }
            return Err(Rejection::ChangePassword);
        }
        Ok(caller)
    }
}

/// A caller with the admin role, checked before the request's body is read: a helpdesk upload
/// gets its 403 whatever it sent.
pub(crate) struct Admin(pub(crate) Caller);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Admin, Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        caller.require_admin().map_err(Rejection::Problem)?;
        Ok(Admin(caller))
    }
}
