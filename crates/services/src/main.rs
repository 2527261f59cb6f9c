//! `tracklist-services start DIR` starts PostgreSQL (port 15432) and Redis (port 16379) on
//! loopback with their files in DIR, and prints the `TRACKLIST_TEST_*` variables that point
//! the API suite and the benchmark at them; `tracklist-services stop DIR` stops both. The
//! ports are below Linux's ephemeral range, so no client socket of the tests can hold them.

use std::path::Path;

use anyhow::{Context, bail};
use services::{Postgres, Redis};

const PG_PORT: u16 = 15432;
const REDIS_PORT: u16 = 16379;
/// Every test of the PostgreSQL pass opens its own pools, many at once.
const PG_MAX_CONNECTIONS: u32 = 400;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [command, dir] = args.as_slice() else {
        bail!("usage: tracklist-services start|stop DIR");
    };
    let dir = Path::new(dir);
    match command.as_str() {
        "start" => {
            let postgres = Postgres::start_at(PG_PORT, Some(&dir.join("pg")), PG_MAX_CONNECTIONS)
                .context("starting PostgreSQL")?;
            let redis = Redis::start_at(REDIS_PORT, Some(&dir.join("redis"))).context("starting Redis")?;
            println!("export TRACKLIST_TEST_POSTGRES={}", postgres.url());
            println!("export TRACKLIST_TEST_REDIS={}", redis.url());
            postgres.keep();
            redis.keep();
        }
        "stop" => {
            Redis::running_at(REDIS_PORT, &dir.join("redis")).down()?;
            Postgres::running_at(PG_PORT, &dir.join("pg"))?.down()?;
        }
        other => bail!("unknown command {other:?}; usage: tracklist-services start|stop DIR"),
    }
    Ok(())
}
