//! Who may use the admin web pages and the REST API: accounts (people, with a password) and API
//! tokens (scripts), each with a role.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::cucm::cucm_enum;
use crate::ModelError;

cucm_enum!(
    /// What an account or token may do. Helpdesk reads everything and schedules CAPF operations
    /// (CUCM's help-desk role); only an administrator changes trust stores, the cluster's own
    /// certificates and accounts.
    AccountRole {
        Admin => "admin", "admin";
        Helpdesk => "helpdesk", "helpdesk";
    }
);

impl AccountRole {
    /// Whether this role may change trust stores, identities and accounts.
    pub fn is_admin(self) -> bool {
        self == AccountRole::Admin
    }
}

/// A person who logs in to the admin pages. The password hash never leaves the store.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub name: String,
    pub role: AccountRole,
    /// The password was set for the account by someone else (the first start's one-time
    /// password): the web pages ask for a new one before anything else.
    pub must_change_password: bool,
    pub created_at: String,
    pub created_by: String,
    pub last_login: Option<String>,
}

/// A bearer token for scripts, known by its name; the secret is shown once and stored hashed.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct ApiToken {
    pub name: String,
    pub role: AccountRole,
    pub created_at: String,
    pub created_by: String,
    pub last_used: Option<String>,
}
