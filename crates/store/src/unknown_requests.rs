//! Configuration-file requests from devices the cluster does not know: one row per device name,
//! upserted on each request and capped, so that a flood of invented MACs stays bounded.

use opencapf_model::{DeviceName, UnknownRequest};
use time::OffsetDateTime;

use crate::{ts, Db, Result};

/// The most rows kept: past it, the devices heard from longest ago are dropped.
pub const MAX_ROWS: i64 = 10_000;
/// The longest file name kept (a request names one file; longer is noise).
const MAX_FILE: usize = 128;

#[derive(sqlx::FromRow)]
struct Row {
    device: String,
    first_at: String,
    last_at: String,
    count: i64,
    last_source: String,
    last_file: String,
}

/// Records a request for `file` from `source` by the unknown device `device`.
pub async fn record(db: &mut Db, device: &DeviceName, file: &str, source: &str, at: OffsetDateTime) -> Result<()> {
    record_capped(db, device, file, source, at, MAX_ROWS).await
}

async fn record_capped(
    db: &mut Db,
    device: &DeviceName,
    file: &str,
    source: &str,
    at: OffsetDateTime,
    cap: i64,
) -> Result<()> {
    // Wire text: escaped and cut before it is stored, so no reader meets control characters.
    let file: String = opencapf_model::printable(file).chars().take(MAX_FILE).collect();
    let at = ts(at);
    let updated = sqlx::query(
        "UPDATE unknown_requests SET last_at = $1, count = count + 1, last_source = $2, last_file = $3 WHERE device = $4",
    )
    .bind(&at)
    .bind(source)
    .bind(&file)
    .bind(device.as_str())
    .execute(db.c())
    .await?;
    if updated.rows_affected() > 0 {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO unknown_requests (device, first_at, last_at, count, last_source, last_file) \
         VALUES ($1, $2, $3, 1, $4, $5)",
    )
    .bind(device.as_str())
    .bind(&at)
    .bind(&at)
    .bind(source)
    .bind(&file)
    .execute(db.c())
    .await?;
    // Only an insert can pass the cap: the newest `cap` stay (ties by name, so the result is stable).
    sqlx::query(
        "DELETE FROM unknown_requests WHERE device NOT IN (SELECT device FROM unknown_requests \
         ORDER BY last_at DESC, device DESC LIMIT $1)",
    )
    .bind(cap.max(0))
    .execute(db.c())
    .await?;
    Ok(())
}

/// The requests of devices that are still unknown (a device added since is left out), the most
/// recent first.
pub async fn list(db: &mut Db) -> Result<Vec<UnknownRequest>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT device, first_at, last_at, count, last_source, last_file FROM unknown_requests \
         WHERE device NOT IN (SELECT name FROM devices) ORDER BY last_at DESC, device",
    )
    .fetch_all(db.c())
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(UnknownRequest {
                device: r.device.parse()?,
                first_at: r.first_at,
                last_at: r.last_at,
                count: r.count,
                last_source: r.last_source,
                last_file: r.last_file,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    fn name(i: u32) -> DeviceName {
        format!("SEP0000000{i:05X}").parse().unwrap()
    }

    #[tokio::test]
    async fn requests_are_counted_per_device_and_the_oldest_go_past_the_cap() {
        for t in crate::testing::each_backend().await {
            let mut db = t.store.write().await.unwrap();
            let t0 = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
            record_capped(&mut db, &name(1), "SEP000000000001.cnf.xml", "10.0.0.1", t0, 3).await.unwrap();
            record_capped(&mut db, &name(1), "ITL\x1bSEP.tlv", "10.0.0.2", t0 + Duration::seconds(5), 3).await.unwrap();
            let got = list(&mut db).await.unwrap();
            assert_eq!(got.len(), 1);
            assert_eq!((got[0].count, got[0].last_source.as_str()), (2, "10.0.0.2"));
            assert_eq!(got[0].last_file, "ITL\\x1bSEP.tlv");
            assert_eq!(
                (got[0].first_at.as_str(), got[0].last_at.as_str()),
                ("2023-11-14T22:13:20Z", "2023-11-14T22:13:25Z")
            );

            for i in 2..=4 {
                record_capped(&mut db, &name(i), "f", "10.0.0.9", t0 + Duration::seconds(i64::from(i) * 10), 3)
                    .await
                    .unwrap();
            }
            let names: Vec<String> = list(&mut db).await.unwrap().into_iter().map(|r| r.device.to_string()).collect();
            assert_eq!(
                names,
                [name(4).to_string(), name(3).to_string(), name(2).to_string()],
                "device 1 was the oldest"
            );
            let long = "x".repeat(1000);
            record_capped(&mut db, &name(4), &long, "10.0.0.9", t0 + Duration::seconds(99), 3).await.unwrap();
            assert_eq!(list(&mut db).await.unwrap()[0].last_file.len(), MAX_FILE);
        }
    }
}
