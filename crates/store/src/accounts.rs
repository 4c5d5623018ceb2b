//! The `admin_accounts` and `api_tokens` tables: who may use the admin pages and the REST API.
//! Hashes go in and come out for verification only; the model's records carry none.

use opencapf_model::{now, Account, AccountRole, ApiToken};

use crate::{ts, Db, Result, StoreError};

#[derive(sqlx::FromRow)]
struct AccountRow {
    name: String,
    role: String,
    must_change: i64,
    created_at: String,
    created_by: String,
    last_login: Option<String>,
}

impl AccountRow {
    fn into_account(self) -> Result<Account> {
        Ok(Account {
            role: role(&self.role)?,
            name: self.name,
            must_change_password: self.must_change != 0,
            created_at: self.created_at,
            created_by: self.created_by,
            last_login: self.last_login,
        })
    }
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    name: String,
    role: String,
    created_at: String,
    created_by: String,
    last_used: Option<String>,
}

impl TokenRow {
    fn into_token(self) -> Result<ApiToken> {
        Ok(ApiToken {
            role: role(&self.role)?,
            name: self.name,
            created_at: self.created_at,
            created_by: self.created_by,
            last_used: self.last_used,
        })
    }
}

fn role(s: &str) -> Result<AccountRole> {
    s.parse().map_err(|e| StoreError::Invalid(format!("account role in the database: {e}")))
}

const ACCOUNT_COLUMNS: &str = "name, role, must_change, created_at, created_by, last_login";

/// Adds an account; `Conflict` when the name is taken.
pub async fn insert(
    db: &mut Db,
    name: &str,
    role: AccountRole,
    password_hash: &str,
    must_change: bool,
    actor: &str,
) -> Result<Account> {
    let at = ts(now());
    let done = sqlx::query(
        "INSERT INTO admin_accounts (name, role, password_hash, must_change, created_at, created_by, \
         password_changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT(name) DO NOTHING",
    )
    .bind(name)
    .bind(role.token())
    .bind(password_hash)
    .bind(i64::from(must_change))
    .bind(&at)
    .bind(actor)
    .bind(&at)
    .execute(db.c())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict(format!("account {name} already exists")));
    }
    get(db, name).await?.ok_or_else(|| StoreError::NotFound(format!("no account {name}")))
}

pub async fn get(db: &mut Db, name: &str) -> Result<Option<Account>> {
    let row: Option<AccountRow> =
        sqlx::query_as(&format!("SELECT {ACCOUNT_COLUMNS} FROM admin_accounts WHERE name = $1"))
            .bind(name)
            .fetch_optional(db.c())
            .await?;
    row.map(AccountRow::into_account).transpose()
}

/// The account and its password hash, for a login.
pub async fn credentials(db: &mut Db, name: &str) -> Result<Option<(Account, String)>> {
    let row: Option<(String,)> = sqlx::query_as("SELECT password_hash FROM admin_accounts WHERE name = $1")
        .bind(name)
        .fetch_optional(db.c())
        .await?;
    let Some((hash,)) = row else { return Ok(None) };
    Ok(get(db, name).await?.map(|a| (a, hash)))
}

pub async fn list(db: &mut Db) -> Result<Vec<Account>> {
    let rows: Vec<AccountRow> = sqlx::query_as(&format!("SELECT {ACCOUNT_COLUMNS} FROM admin_accounts ORDER BY name"))
        .fetch_all(db.c())
        .await?;
    rows.into_iter().map(AccountRow::into_account).collect()
}

pub async fn count(db: &mut Db) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM admin_accounts").fetch_one(db.c()).await?)
}

pub async fn count_admins(db: &mut Db) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM admin_accounts WHERE role = 'admin'").fetch_one(db.c()).await?)
}

/// Deletes an account; whether it existed.
pub async fn delete(db: &mut Db, name: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM admin_accounts WHERE name = $1").bind(name).execute(db.c()).await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces an account's password; whether the account exists.
pub async fn set_password(db: &mut Db, name: &str, password_hash: &str, must_change: bool) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE admin_accounts SET password_hash = $1, must_change = $2, password_changed_at = $3 WHERE name = $4",
    )
    .bind(password_hash)
    .bind(i64::from(must_change))
    .bind(ts(now()))
    .bind(name)
    .execute(db.c())
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_role(db: &mut Db, name: &str, role: AccountRole) -> Result<bool> {
    let done = sqlx::query("UPDATE admin_accounts SET role = $1 WHERE name = $2")
        .bind(role.token())
        .bind(name)
        .execute(db.c())
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn touch_login(db: &mut Db, name: &str) -> Result<()> {
    sqlx::query("UPDATE admin_accounts SET last_login = $1 WHERE name = $2")
        .bind(ts(now()))
        .bind(name)
        .execute(db.c())
        .await?;
    Ok(())
}

const TOKEN_COLUMNS: &str = "name, role, created_at, created_by, last_used";

/// Adds an API token by the hash of its secret; `Conflict` when the name is taken.
pub async fn insert_token(
    db: &mut Db,
    name: &str,
    role: AccountRole,
    token_hash: &str,
    actor: &str,
) -> Result<ApiToken> {
    let done = sqlx::query(
        "INSERT INTO api_tokens (name, role, token_hash, created_at, created_by) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT(name) DO NOTHING",
    )
    .bind(name)
    .bind(role.token())
    .bind(token_hash)
    .bind(ts(now()))
    .bind(actor)
    .execute(db.c())
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict(format!("API token {name} already exists")));
    }
    let row: TokenRow = sqlx::query_as(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE name = $1"))
        .bind(name)
        .fetch_one(db.c())
        .await?;
    row.into_token()
}

/// The token whose secret hashes to `token_hash`.
pub async fn token_by_hash(db: &mut Db, token_hash: &str) -> Result<Option<ApiToken>> {
    let row: Option<TokenRow> =
        sqlx::query_as(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1"))
            .bind(token_hash)
            .fetch_optional(db.c())
            .await?;
    row.map(TokenRow::into_token).transpose()
}

pub async fn tokens(db: &mut Db) -> Result<Vec<ApiToken>> {
    let rows: Vec<TokenRow> =
        sqlx::query_as(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY name")).fetch_all(db.c()).await?;
    rows.into_iter().map(TokenRow::into_token).collect()
}

pub async fn delete_token(db: &mut Db, name: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM api_tokens WHERE name = $1").bind(name).execute(db.c()).await?;
    Ok(done.rows_affected() == 1)
}

pub async fn touch_token(db: &mut Db, name: &str) -> Result<()> {
    sqlx::query("UPDATE api_tokens SET last_used = $1 WHERE name = $2")
        .bind(ts(now()))
        .bind(name)
        .execute(db.c())
        .await?;
    Ok(())
}
