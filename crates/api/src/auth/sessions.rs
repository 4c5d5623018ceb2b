//! The session cookie of people logged in to the web pages: a random id that scripts cannot
//! read (HttpOnly), never sent over plain HTTP (Secure) nor by another site's pages
//! (SameSite=Strict). The sessions themselves, with their CSRF tokens, are the cluster's
//! ([`opencapf_cluster::WebSession`]), kept in the database so that every node knows them.

use axum::http::{Extensions, HeaderMap};
use opencapf_cluster::SESSION_LIFETIME;

use crate::{AppState, Problem};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "opencapf_session";

/// A person's session: whose it is and the token its forms carry.
pub(crate) type Session = opencapf_cluster::WebSession;

/// The session id in a request's cookies.
pub(crate) fn session_id_in(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
}

/// The live session a request's cookie names, looked up once per request: the CSRF check leaves
/// what it found in the request's extensions for the [`super::Caller`] extractor.
pub(crate) async fn request_session(
    headers: &HeaderMap,
    extensions: &Extensions,
    state: &AppState,
) -> Result<Option<Session>, Problem> {
    if let Some(s) = extensions.get::<Session>() {
        return Ok(Some(s.clone()));
    }
    let Some(id) = session_id_in(headers) else { return Ok(None) };
    Ok(state.cluster.web_session(&id).await?)
}

/// The `Set-Cookie` value that gives the browser a session.
pub(crate) fn session_cookie(s: &Session) -> String {
    format!(
        "{SESSION_COOKIE}={}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={}",
        s.id,
        SESSION_LIFETIME.as_secs()
    )
}

/// The `Set-Cookie` value that removes it.
pub(crate) fn clear_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_id_is_found_among_the_cookies() {
        let mut h = HeaderMap::new();
        h.insert("cookie", format!("theme=dark; {SESSION_COOKIE}=ab12").parse().unwrap());
        assert_eq!(session_id_in(&h).as_deref(), Some("ab12"));
        assert_eq!(session_id_in(&HeaderMap::new()), None);
        let s = Session { id: "ab12".into(), account: "jane".into(), csrf_token: "cd34".into() };
        let cookie = session_cookie(&s);
        assert!(cookie.contains("=ab12;") && cookie.contains("HttpOnly; SameSite=Strict"), "{cookie}");
        assert!(cookie.ends_with("Max-Age=43200"), "12 hours: {cookie}");
    }
}
