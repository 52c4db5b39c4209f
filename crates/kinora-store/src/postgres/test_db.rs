//! A fresh PostgreSQL database per test, created from `KINORA_TEST_POSTGRES_URL` and dropped
//! when its guard goes.
//!
//! Without that variable the tests fail rather than pass silently, unless
//! `KINORA_TEST_POSTGRES=skip` says on purpose that PostgreSQL is not to be tested here.

use std::sync::Arc;

use sqlx::Connection;
use sqlx::postgres::PgConnection;

use crate::metadata::MetadataStore;

pub(crate) const URL_VAR: &str = "KINORA_TEST_POSTGRES_URL";

/// The server URL to create test databases on, or `None` when the tests are skipped on purpose.
pub(crate) fn admin_url() -> Option<String> {
    if let Ok(url) = std::env::var(URL_VAR) {
        return Some(url);
    }
    if std::env::var("KINORA_TEST_POSTGRES").as_deref() == Ok("skip") {
        eprintln!("PostgreSQL tests skipped: KINORA_TEST_POSTGRES=skip");
        return None;
    }
    panic!(
        "{URL_VAR} is not set: run scripts/test.sh (it starts a throwaway PostgreSQL) or set \
         {URL_VAR}=postgres://user@host:port/db; KINORA_TEST_POSTGRES=skip skips these tests"
    );
}

/// `url` with its database (the path) replaced by `db`; query parameters are kept.
pub(crate) fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_at = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_at..].find('/') {
        Some(slash) => &base[..authority_at + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// Drops its database when dropped, whatever connections are still open to it.
pub(crate) struct TestDb {
    admin: String,
    name: String,
    pub url: String,
}

impl TestDb {
    pub(crate) async fn create() -> Option<TestDb> {
        let admin = admin_url()?;
        let name = format!(
            "kinora_test_{}",
            &kinora_core::ids::lease_id()["lease_".len()..]
        );
        let mut conn = PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {URL_VAR}: {e}"));
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.ok();
        let url = with_database(&admin, &name);
        Some(TestDb { admin, name, url })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on; a thread with its own
        // runtime can.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let mut conn = PgConnection::connect(&admin).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut conn)
                    .await?;
                conn.close().await
            })
            .map_err(std::io::Error::other)
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}

/// A migrated store on a fresh database, with the guard that drops it.
pub(crate) async fn fresh_store() -> Option<(Arc<dyn MetadataStore>, TestDb)> {
    let db = TestDb::create().await?;
    let store = super::open_postgres(&db.url).await.unwrap();
    Some((store, db))
}

#[test]
fn with_database_replaces_only_the_path() {
    assert_eq!(
        with_database("postgres://u:p@h:5432/postgres", "t"),
        "postgres://u:p@h:5432/t"
    );
    assert_eq!(
        with_database("postgres://h:1/x?sslmode=disable", "t"),
        "postgres://h:1/t?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h:1", "t"), "postgres://h:1/t");
}
