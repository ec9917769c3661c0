//! The demo shop database: created and filled by the tap itself (config `"demo": true`) when the
//! file does not exist, with the same rows every time, so the example runs offline.
//!
//! | table | rows | what it shows |
//! |---|---|---|
//! | `customers` | 20 | FULL_TABLE with a table version, dates as SQLite text |
//! | `products` | 10 | a text primary key, `DECIMAL`, `BOOLEAN`, `DATE` |
//! | `orders` | 60 | INCREMENTAL on `updated_at` (pairs of orders share a timestamp), a `JSON` column |

use std::path::Path;

use burler_sql::sqlx::sqlite::SqliteConnectOptions;
use burler_sql::sqlx::{self, SqlitePool};

/// The shop's tables.
const SCHEMA: &str = "
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email VARCHAR(80),
    country CHAR(2) NOT NULL,
    created_at DATETIME NOT NULL
);
CREATE TABLE products (
    sku TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    price DECIMAL(10, 2) NOT NULL,
    active BOOLEAN NOT NULL,
    added_on DATE
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    status TEXT NOT NULL,
    total DECIMAL(10, 2) NOT NULL,
    items JSON,
    note TEXT,
    updated_at DATETIME NOT NULL
);
";

const NAMES: [&str; 10] = [
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Niklaus",
];
const COUNTRIES: [&str; 5] = ["GB", "US", "NL", "CA", "CH"];
const STATUSES: [&str; 3] = ["pending", "shipped", "cancelled"];

/// Creates the demo database at `path` (and its directory) unless the file exists.
pub async fn create_if_missing(path: &Path) -> Result<(), sqlx::Error> {
    if path.exists() {
        return Ok(());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    // Written to a side file and renamed, so an interrupted run never leaves half a database.
    let partial = path.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let options = SqliteConnectOptions::new()
        .filename(&partial)
        .create_if_missing(true);
    let pool = SqlitePool::connect_with(options).await?;
    let script = format!("BEGIN;\n{SCHEMA}\n{}COMMIT;\n", rows());
    sqlx::raw_sql(&script).execute(&pool).await?;
    pool.close().await;
    std::fs::rename(&partial, path)?;
    Ok(())
}

/// A SQL string literal.
fn text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The INSERT statements of every demo row.
fn rows() -> String {
    let mut sql = String::new();
    for id in 1..=20u32 {
        let name = format!("{} Example{id}", NAMES[(id as usize - 1) % NAMES.len()]);
        let email = if id % 4 == 0 {
            "NULL".to_owned()
        } else {
            text(&format!("customer{id}@example.com"))
        };
        let country = COUNTRIES[id as usize % COUNTRIES.len()];
        let created = format!("2023-{:02}-{:02} 09:30:00", id % 12 + 1, id % 28 + 1);
        sql += &format!(
            "INSERT INTO customers VALUES ({id}, {}, {email}, '{country}', '{created}');\n",
            text(&name)
        );
    }
    for n in 1..=10u32 {
        let price = f64::from(n * 250 + 99) / 100.0;
        let active = u8::from(n % 3 != 0);
        sql += &format!(
            "INSERT INTO products VALUES ('SKU-{n:03}', 'Product {n}', {price}, {active}, '2023-06-{:02}');\n",
            n + 10
        );
    }
    for id in 1..=60u32 {
        // Two orders per timestamp: an INCREMENTAL run from a bookmark sends both again.
        let minutes = id.div_ceil(2) * 97;
        let updated_at = format!(
            "2024-01-{:02} {:02}:{:02}:00",
            1 + minutes / 1440,
            minutes / 60 % 24,
            minutes % 60
        );
        let items = format!(
            r#"[{{"sku": "SKU-{:03}", "quantity": {}}}]"#,
            id % 10 + 1,
            id % 3 + 1
        );
        let total = f64::from(id * 1375 % 20_000 + 500) / 100.0;
        let note = if id % 5 == 0 {
            text(&format!("gift wrap #{id}"))
        } else {
            "NULL".to_owned()
        };
        let status = STATUSES[id as usize % STATUSES.len()];
        sql += &format!(
            "INSERT INTO orders VALUES ({id}, {}, '{status}', {total}, {}, {note}, '{updated_at}');\n",
            id % 20 + 1,
            text(&items)
        );
    }
    sql
}
