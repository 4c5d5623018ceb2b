//! `opencapf admin ...`: the accounts and API tokens of the admin web pages and the REST API.
//! Run on the server by whoever owns the data folder, so these commands need no login.

use std::io::{BufRead, IsTerminal};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use opencapf_cluster::{cli_actor, MIN_PASSWORD_LEN};
use opencapf_model::AccountRole;

use super::Context;
use crate::output::{self, Table};

#[derive(Subcommand)]
pub(crate) enum AdminCommand {
    /// Add an account for the admin web pages
    Add {
        /// Account name (letters, digits, '.', '_', '-', '@')
        name: String,
        #[command(flatten)]
        role: RoleArg,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// The accounts: role, when created and by whom, last login
    List,
    /// Remove an account (not the last administrator)
    Remove { name: String },
    /// Set an account's password (a forgotten one, or the one-time password of the first start)
    Passwd {
        name: String,
        #[command(flatten)]
        password: PasswordSource,
        /// Its owner must choose a new one at the next login (when you set it for someone else)
        #[arg(long)]
        must_change: bool,
    },
    /// Change an account's role (the last administrator keeps theirs)
    Role {
        name: String,
        #[arg(value_enum, ignore_case = true)]
        role: AccountRole,
    },
    /// API tokens for scripts: sent as `Authorization: Bearer TOKEN` to /api/v1
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Subcommand)]
pub(crate) enum TokenCommand {
    /// Create a token; its secret is printed once and stored only as a hash
    Create {
        /// A name that says what uses it, e.g. backup-script
        name: String,
        #[command(flatten)]
        role: RoleArg,
    },
    /// The tokens (never their secrets) and when each was last used
    List,
    /// Revoke a token: calls with it are refused from now on
    Revoke { name: String },
}

#[derive(Args)]
pub(crate) struct RoleArg {
    /// admin: everything; helpdesk: read everything and schedule CAPF operations
    #[arg(long, value_enum, ignore_case = true, default_value = "admin")]
    role: AccountRole,
}

#[derive(Args)]
pub(crate) struct PasswordSource {
    /// Read the password from the first line of standard input instead of a prompt (for scripts)
    #[arg(long)]
    password_stdin: bool,
}

impl PasswordSource {
    fn read(&self) -> anyhow::Result<String> {
        if self.password_stdin {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).context("reading the password from standard input")?;
            let password = line.trim_end_matches(['\r', '\n']).to_owned();
            anyhow::ensure!(!password.is_empty(), "no password on standard input");
            return Ok(password);
        }
        anyhow::ensure!(
            std::io::stdin().is_terminal(),
            "no terminal to ask for the password: pass --password-stdin and give it on standard input"
        );
        let password = rpassword::prompt_password(format!("Password (at least {MIN_PASSWORD_LEN} characters): "))?;
        let again = rpassword::prompt_password("Again: ")?;
        anyhow::ensure!(password == again, "the two passwords differ; nothing changed");
        Ok(password)
    }
}

pub(crate) async fn run(ctx: &Context, c: AdminCommand) -> anyhow::Result<()> {
    // The password is read before the cluster is opened: a prompt must not hold the database.
    let password = match &c {
        AdminCommand::Add { password, .. } | AdminCommand::Passwd { password, .. } => Some(password.read()?),
        _ => None,
    };
    let password = password.as_deref().unwrap_or_default();
    let cluster = ctx.cluster().await?;
    let actor = cli_actor();
    let done = match c {
        AdminCommand::Add { name, role, .. } => {
            let a = cluster.add_account(&name, role.role, password, &actor).await?;
            print_or_json(ctx, &a, &format!("Added account {} ({})", a.name, a.role))
        }
        AdminCommand::List => {
            let accounts = cluster.accounts().await?;
            if ctx.json {
                output::json(&accounts)
            } else {
                let mut t = Table::new(&["NAME", "ROLE", "CREATED", "BY", "LAST LOGIN", "NOTE"]);
                for a in accounts {
                    let note = if a.must_change_password { "must change password" } else { "" };
                    t.row(vec![
                        a.name,
                        a.role.to_string(),
                        a.created_at,
                        a.created_by,
                        a.last_login.unwrap_or_else(|| "never".into()),
                        note.into(),
                    ]);
                }
                t.print();
                Ok(())
            }
        }
        AdminCommand::Remove { name } => {
            cluster.remove_account(&name, &actor).await?;
            outln!("Removed account {name}");
            Ok(())
        }
        AdminCommand::Passwd { name, must_change, .. } => {
            cluster.set_password(&name, password, must_change, &actor).await?;
            outln!("Password of {name} changed");
            Ok(())
        }
        AdminCommand::Role { name, role } => {
            let a = cluster.set_account_role(&name, role, &actor).await?;
            print_or_json(ctx, &a, &format!("{} is now {}", a.name, a.role))
        }
        AdminCommand::Token(t) => token(ctx, &cluster, t, &actor).await,
    };
    cluster.close().await;
    done
}

async fn token(ctx: &Context, cluster: &opencapf_cluster::Cluster, c: TokenCommand, actor: &str) -> anyhow::Result<()> {
    match c {
        TokenCommand::Create { name, role } => {
            let (t, secret) = cluster.create_token(&name, role.role, actor).await?;
            if ctx.json {
                return output::json(&serde_json::json!({ "token": t, "secret": secret }));
            }
            println!("{secret}");
            eprintln!("API token {} ({}) created: the line above is its secret, shown only now", t.name, t.role);
            Ok(())
        }
        TokenCommand::List => {
            let tokens = cluster.api_tokens().await?;
            if ctx.json {
                return output::json(&tokens);
            }
            let mut t = Table::new(&["NAME", "ROLE", "CREATED", "BY", "LAST USED"]);
            for k in tokens {
                t.row(vec![
                    k.name,
                    k.role.to_string(),
                    k.created_at,
                    k.created_by,
                    k.last_used.unwrap_or("never".into()),
                ]);
            }
            t.print();
            Ok(())
        }
        TokenCommand::Revoke { name } => {
            cluster.revoke_token(&name, actor).await?;
            outln!("Revoked API token {name}");
            Ok(())
        }
    }
}

fn print_or_json<T: serde::Serialize>(ctx: &Context, value: &T, line: &str) -> anyhow::Result<()> {
    if ctx.json {
        return output::json(value);
    }
    outln!("{line}");
    Ok(())
}
