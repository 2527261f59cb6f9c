//! The catalogue's reads on PostgreSQL.

use std::sync::Arc;

use sqlx::Row;

use super::{
    PAGE, Page, PageJson, PageWriter, SUBSTRING, TRIGRAM_SEARCH, TrackRow, TrigramShares, like_pattern,
    trigram_shares,
};
use crate::db::{self, PgReaders};

/// One read of `page`; searches on connections of their own.
pub async fn read_page(
    (readers, searches, trigrams): (PgReaders, PgReaders, Arc<TrigramShares>),
    page: Page,
) -> db::Result<PageJson> {
    let Page { term, skip, limit } = page;
    let (readers, query) = match term {
        None => (readers, sqlx::query(PAGE).bind(limit).bind(skip)),
        Some(term) => {
            let stats = async || trigram_shares::from_pg_stats(&searches).await;
            let rarest = trigrams.rarest(&term, stats).await?;
            let sql = if rarest.is_some() { TRIGRAM_SEARCH } else { SUBSTRING };
            let query = sqlx::query(sql).bind(limit).bind(skip).bind(like_pattern(&term));
            // The walk's trigram is its `$4`.
            let query = match rarest {
                Some(trigram) => query.bind(trigram),
                None => query,
            };
            (searches, query)
        }
    };
    let rows = readers.read(async |conn| query.fetch_all(conn).await).await?;
    let mut page = PageWriter::new();
    for row in &rows {
        page.push(&track_from_row!(TrackRow, row, try_get))?;
    }
    Ok(page.finish())
}
