//! `opencapf audit [--limit N]` and `opencapf audit verify`.

use super::Context;
use crate::cli::{AuditArgs, AuditCommand};
use crate::output::{self, Table};

pub(crate) async fn run(ctx: &Context, args: AuditArgs) -> anyhow::Result<()> {
    match args.command {
        None => list(ctx, args.limit).await,
        Some(AuditCommand::Verify) => verify(ctx).await,
    }
}

async fn list(ctx: &Context, limit: i64) -> anyhow::Result<()> {
    let store = ctx.cluster().await?;
    let entries = store.audit(limit.max(1)).await?;
    if ctx.json {
        return output::json(&entries);
    }
    let mut t = Table::new(&["AT", "ACTOR", "ACTION", "TARGET", "DETAIL"]);
    for e in entries {
        t.row(vec![e.at, e.actor, e.action, e.target, e.detail]);
    }
    t.print();
    Ok(())
}

/// Exit 0 when the chain is intact; 1 naming the first broken record (also with `--json`, after
/// the report).
async fn verify(ctx: &Context) -> anyhow::Result<()> {
    let store = ctx.cluster().await?;
    let chain = store.verify_audit().await?;
    store.close().await;
    if ctx.json {
        output::json(&chain)?;
    }
    match &chain.broken {
        None => {
            if !ctx.json {
                println!("{} records, chain intact", chain.records);
            }
            Ok(())
        }
        Some(b) => anyhow::bail!("the audit log's hash chain is broken at {b}"),
    }
}
