//! The catalogue's reads on PostgreSQL.

use std::sync::Arc;

use sqlx::Row;

use super::{PAGE, Page, PageJson, PageWriter, TrackRow, TrigramShares, trigram_shares};
use crate::db::{self, PgReaders};

/// A search for a term too short for trigrams: a scan of `search_text`, the lower-cased
/// title and artist (see the migrations).
const SUBSTRING: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM tracks WHERE search_text LIKE $3 ESCAPE '\\' ORDER BY id LIMIT $1 OFFSET $2"
);

/// A search of three characters or more: the tracks holding one trigram of
/// the term (`$4`, the rarest, see `trigram_shares`), walked in id order along the primary
/// key of `track_trigrams`, each checked against the whole term with `LIKE`, until the page
/// is full. A term found in a track's text has all its trigrams listed for that track, so
/// whichever trigram leads, nothing is missed. `OFFSET 0` keeps the track's read inside the
/// loop: joined plainly, PostgreSQL may walk `tracks` in id order instead, testing every
/// row. Public for the test in the API suite that holds the plan to this.
pub const TRIGRAM_SEARCH: &str = concat!(
    "SELECT ",
    columns!("t."),
    " FROM track_trigrams AS g CROSS JOIN LATERAL (SELECT ",
    columns!(),
    " FROM tracks WHERE id = g.track_id AND search_text LIKE $3 ESCAPE '\\' OFFSET 0) AS t",
    " WHERE g.trigram = $4 ORDER BY g.track_id LIMIT $1 OFFSET $2"
);

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

/// `%term%` with the term's own `%`, `_` and `\` taken literally.
fn like_pattern(term: &str) -> String {
    let mut pattern = String::with_capacity(term.len() + 2);
    pattern.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_wildcards_in_a_search_term_are_literal() {
        assert_eq!(like_pattern("100%_a\\"), "%100\\%\\_a\\\\%");
    }
}
