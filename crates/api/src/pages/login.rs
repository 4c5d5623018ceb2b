//! Logging in and out, and changing one's password (required first after a one-time password).

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use opencapf_cluster::MIN_PASSWORD_LEN;
use serde::Deserialize;

use super::{render, Nav};
use crate::auth::{clear_cookie, session_cookie, Caller};
use crate::AppState;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Nav,
    next: String,
    username: String,
    message: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Next {
    next: Option<String>,
}

/// Only a path of this site: `next` must not send a fresh login to another site.
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.to_owned(),
        _ => "/".to_owned(),
    }
}

pub(crate) async fn form(Query(q): Query<Next>) -> Response {
    render(&LoginPage {
        nav: Nav::anonymous(),
        next: local_path(q.next.as_deref()),
        username: String::new(),
        message: None,
    })
}

#[derive(Deserialize)]
pub(crate) struct Credentials {
    username: String,
    password: String,
    next: Option<String>,
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(c): Form<Credentials>,
) -> Response {
    let next = local_path(c.next.as_deref());
    let again = |status: StatusCode, message: String| {
        let page = LoginPage {
            nav: Nav::anonymous(),
            next: next.clone(),
            username: c.username.clone(),
            message: Some(message),
        };
        (status, render(&page)).into_response()
    };
    let wait = match state.cluster.login_wait(peer.ip(), &c.username).await {
        Ok(wait) => wait,
        Err(e) => {
            let p = crate::Problem::from(e);
            return again(p.status(), p.detail);
        }
    };
    if let Some(wait) = wait {
        let secs = wait.as_secs().max(1);
        let mut r =
            again(StatusCode::TOO_MANY_REQUESTS, format!("Too many failed logins: try again in {secs} seconds."));
        r.headers_mut().insert(header::RETRY_AFTER, secs.into());
        return r;
    }
    match state.cluster.authenticate(&c.username, &c.password).await {
        Ok(Some(account)) => {
            // Opening the session forgets the account's failed logins.
            let session = match state.cluster.open_web_session(&account.name).await {
                Ok(s) => s,
                Err(e) => {
                    let p = crate::Problem::from(e);
                    return again(p.status(), p.detail);
                }
            };
            tracing::info!(account = %account.name, source = %peer.ip(), "admin login");
            let to = if account.must_change_password { "/account/password".to_owned() } else { next.clone() };
            let mut r = Redirect::to(&to).into_response();
            r.headers_mut().insert(header::SET_COOKIE, session_cookie(&session).parse().expect("a valid cookie"));
            r
        }
        Ok(None) => {
            if let Err(e) = state.cluster.login_failed(peer.ip(), &c.username).await {
                let p = crate::Problem::from(e);
                return again(p.status(), p.detail);
            }
            tracing::warn!(source = %peer.ip(), "failed admin login for {}", opencapf_model::printable(&c.username));
            again(StatusCode::UNAUTHORIZED, "Wrong account name or password.".into())
        }
        Err(e) => {
            let p = crate::Problem::from(e);
            again(p.status(), p.detail)
        }
    }
}

pub(crate) async fn logout(State(state): State<AppState>, caller: Caller) -> Result<Response, crate::Problem> {
    if let Some(id) = caller.session_id() {
        state.cluster.close_web_session(id).await?;
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().insert(header::SET_COOKIE, clear_cookie().parse().expect("a valid cookie"));
    Ok(r)
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    nav: Nav,
    must_change: bool,
    message: Option<String>,
    min_len: usize,
}

fn password_page(caller: &Caller, message: Option<String>) -> Response {
    render(&PasswordPage {
        nav: Nav::for_caller(caller, "/account/password"),
        must_change: caller.must_change_password,
        message,
        min_len: MIN_PASSWORD_LEN,
    })
}

pub(crate) async fn password_form(caller: Caller) -> Response {
    password_page(&caller, None)
}

#[derive(Deserialize)]
pub(crate) struct NewPassword {
    current: String,
    new_password: String,
    again: String,
}

pub(crate) async fn change_password(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: Caller,
    Form(f): Form<NewPassword>,
) -> Response {
    let refuse = |status: StatusCode, m: &str| (status, password_page(&caller, Some(m.to_owned()))).into_response();
    if f.new_password != f.again {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, "The two new passwords differ.");
    }
    if f.new_password == f.current {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, "Choose a password different from the current one.");
    }
    match state.cluster.login_wait(peer.ip(), &caller.name).await {
        Ok(None) => {}
        Ok(Some(_)) => return refuse(StatusCode::TOO_MANY_REQUESTS, "Too many failed attempts: try again later."),
        Err(e) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, &crate::Problem::from(e).detail),
    }
    match state.cluster.authenticate(&caller.name, &f.current).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            if let Err(e) = state.cluster.login_failed(peer.ip(), &caller.name).await {
                return refuse(StatusCode::INTERNAL_SERVER_ERROR, &crate::Problem::from(e).detail);
            }
            return refuse(StatusCode::UNAUTHORIZED, "The current password is wrong.");
        }
        Err(e) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, &crate::Problem::from(e).detail),
    }
    // The account's other sessions end on every node; this one goes on with the new password.
    let changed = match caller.session_id() {
        Some(id) => state.cluster.change_password(&caller.name, &f.new_password, id, &caller.actor).await,
        None => state.cluster.set_password(&caller.name, &f.new_password, false, &caller.actor).await,
    };
    match changed {
        Ok(()) => Redirect::to("/").into_response(),
        Err(e) => {
            let p = crate::Problem::from(e);
            refuse(p.status(), &p.detail)
        }
    }
}
