//! How common each trigram of the catalogue is: a search walks the tracks holding its
//! term's rarest trigram (see `tracks`), and this says which one that is.
//!
//! On PostgreSQL the shares are its own statistics of `track_trigrams` (the ones its planner
//! uses, kept by `ANALYZE` and autovacuum): the 1 000 most common trigrams and the share of
//! rows each holds. On SQLite they are counted from a sample of about 1 000 tracks spread
//! over the catalogue's ids. Either way a trigram not among them is rarer than any that is.
//! Read again at most once a minute; they only steer a search, never decide what it finds,
//! as every track it walks is checked against the whole term.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension};

use super::{PgReaders, Result};

/// Statistics move only when PostgreSQL analyzes the table again; a sample of SQLite's
/// catalogue moves as slowly as the catalogue does.
const FRESH_FOR: Duration = Duration::from_secs(60);

/// About how many tracks a SQLite sample reads: one by primary key each, a few milliseconds
/// in all once a minute, whatever the catalogue's size.
const SAMPLED_TRACKS: i64 = 1000;

/// Each trigram's share of the catalogue, for the most common ones.
pub type Shares = HashMap<String, f32>;

#[derive(Debug, Default)]
pub struct TrigramShares(Mutex<Known>);

#[derive(Debug, Default)]
struct Known {
    shares: Arc<Shares>,
    /// When the shares were last asked for; `None` before the first search.
    asked_at: Option<Instant>,
}

impl TrigramShares {
    /// The trigram of `term` the fewest tracks hold, or `None` for a term under three
    /// characters. The first search after the shares go stale reads them again with `read`;
    /// the others meanwhile go on with the ones they have.
    pub async fn rarest(
        &self,
        term: &str,
        read: impl AsyncFnOnce() -> Result<Shares>,
    ) -> Result<Option<String>> {
        if term.chars().nth(2).is_none() {
            return Ok(None);
        }
        let (shares, stale) = {
            let mut known = self.known();
            let stale = known.asked_at.is_none_or(|at| at.elapsed() >= FRESH_FOR);
            if stale {
                known.asked_at = Some(Instant::now());
            }
            (Arc::clone(&known.shares), stale)
        };
        let shares = if stale {
            let fresh = Arc::new(read().await?);
            self.known().shares = Arc::clone(&fresh);
            fresh
        } else {
            shares
        };
        Ok(rarest(term, &shares))
    }

    fn known(&self) -> std::sync::MutexGuard<'_, Known> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// PostgreSQL's current statistics of `track_trigrams`.
pub async fn from_pg_stats(readers: &PgReaders) -> Result<Shares> {
    const SQL: &str = "SELECT most_common_vals::text::text[], most_common_freqs FROM pg_stats \
         WHERE schemaname = current_schema() AND tablename = 'track_trigrams' AND attname = 'trigram'";
    // The most common trigrams and their shares, each `NULL` when none stands out.
    type Row = (Option<Vec<String>>, Option<Vec<f32>>);
    let row: Option<Row> = readers.read(async |conn| sqlx::query_as(SQL).fetch_optional(conn).await).await?;
    Ok(match row {
        Some((Some(trigrams), Some(shares))) => trigrams.into_iter().zip(shares).collect(),
        // Not analyzed yet, or no trigram more common than another.
        _ => Shares::new(),
    })
}

/// The share of tracks holding each trigram of their title or artist (lower case), counted
/// from about [`SAMPLED_TRACKS`] tracks at evenly spaced ids (each the first at or after its
/// mark), so the sample spans old and new tracks alike; every track when there are fewer.
pub fn from_sample(conn: &Connection) -> rusqlite::Result<Shares> {
    let bounds = conn.query_row("SELECT min(id), max(id) FROM tracks", [], |row| {
        Ok(row.get::<_, Option<i64>>(0)?.zip(row.get::<_, Option<i64>>(1)?))
    })?;
    let Some((first, last)) = bounds else { return Ok(Shares::new()) };
    let stride = (last.saturating_sub(first) / SAMPLED_TRACKS).max(1);
    let mut next = conn.prepare("SELECT id, title, artist FROM tracks WHERE id >= ?1 ORDER BY id LIMIT 1")?;
    let (mut counts, mut sampled, mut mark) = (HashMap::<String, u32>::new(), 0u32, first);
    let mut held = HashSet::new();
    while let Some((id, title, artist)) = next
        .query_row([mark], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?))
        })
        .optional()?
    {
        held.clear();
        held.extend(trigrams(&title.to_lowercase()).chain(trigrams(&artist.to_lowercase())));
        for trigram in held.drain() {
            *counts.entry(trigram).or_default() += 1;
        }
        sampled += 1;
        let Some(following) = id.checked_add(1) else { break };
        mark = following.max(mark.saturating_add(stride));
    }
    Ok(counts.into_iter().map(|(trigram, count)| (trigram, count as f32 / sampled as f32)).collect())
}

/// The trigrams of `text`: each run of three characters (as PostgreSQL's `substr` and FTS5's
/// trigram tokenizer count them), in order.
fn trigrams(text: &str) -> impl Iterator<Item = String> {
    let chars: Vec<char> = text.chars().collect();
    (0..chars.len().saturating_sub(2)).map(move |at| chars[at..at + 3].iter().collect())
}

/// The trigram of `term` with the smallest share; among equals the last, as the end of what
/// someone types is usually the most particular part of it (`song 9`: `g 9`).
fn rarest(term: &str, shares: &Shares) -> Option<String> {
    let mut rarest: Option<(String, f32)> = None;
    for trigram in trigrams(term) {
        let share = shares.get(&trigram).copied().unwrap_or(0.0);
        if rarest.as_ref().is_none_or(|(_, least)| share <= *least) {
            rarest = Some((trigram, share));
        }
    }
    rarest.map(|(trigram, _)| trigram)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shares(of: &[(&str, f32)]) -> Shares {
        of.iter().map(|(trigram, share)| ((*trigram).to_owned(), *share)).collect()
    }

    #[test]
    fn the_trigram_with_the_smallest_share_leads() {
        let common = shares(&[("son", 0.06), ("ong", 0.06), ("ng ", 0.05), ("g 9", 0.006), (" 9 ", 0.01)]);
        assert_eq!(rarest("song 9", &common).as_deref(), Some("g 9"));
        assert_eq!(rarest("g 9 ", &common).as_deref(), Some("g 9"), "wherever it is in the term");
    }

    #[test]
    fn a_trigram_not_among_the_common_ones_is_rarer_than_any_that_is() {
        let common = shares(&[("blu", 0.001), ("lur", 0.001)]);
        assert_eq!(rarest("blurr", &common).as_deref(), Some("urr"));
    }

    #[test]
    fn among_equals_the_last_leads() {
        assert_eq!(rarest("abcd", &HashMap::new()).as_deref(), Some("bcd"));
    }

    #[test]
    fn trigrams_are_characters_not_bytes() {
        assert_eq!(rarest("ünï", &HashMap::new()).as_deref(), Some("ünï"));
        assert_eq!(rarest("ün", &HashMap::new()), None, "two characters, four bytes");
    }

    fn catalogue(tracks: impl IntoIterator<Item = (String, String)>) -> Connection {
        let conn = Connection::open_in_memory().expect("opened");
        conn.execute_batch(
            "CREATE TABLE tracks (id INTEGER PRIMARY KEY, title TEXT NOT NULL, artist TEXT NOT NULL)",
        )
        .expect("created");
        for (title, artist) in tracks {
            conn.execute("INSERT INTO tracks (title, artist) VALUES (?1, ?2)", [title, artist])
                .expect("added");
        }
        conn
    }

    #[test]
    fn a_small_catalogue_is_counted_whole_each_track_once_per_trigram() {
        let conn = catalogue([("Song 2".into(), "Blur".into()), ("Blurred Songs".into(), "SONGSONG".into())]);

        let shares = from_sample(&conn).expect("sampled");

        assert_eq!(shares.get("son"), Some(&1.0), "in both tracks, twice in the second");
        assert_eq!(shares.get("g 2"), Some(&0.5));
        assert_eq!(shares.get("blu"), Some(&1.0), "title or artist, lower case");
        assert_eq!(shares.get("g b"), None, "never across the title and the artist");
        assert!(from_sample(&catalogue([])).expect("sampled").is_empty());
    }

    #[test]
    fn ids_at_the_ends_of_their_range_are_sampled_without_overflow() {
        let conn = catalogue([]);
        conn.execute(
            "INSERT INTO tracks (id, title, artist) VALUES (?1, 'First', 'A'), (?2, 'Last', 'B')",
            [i64::MIN + 1, i64::MAX],
        )
        .expect("added");

        let shares = from_sample(&conn).expect("sampled");

        assert_eq!((shares.get("fir"), shares.get("las")), (Some(&0.5), Some(&0.5)));
    }

    #[test]
    fn a_large_catalogue_is_sampled_across_its_ids() {
        let conn = catalogue((1..=9_999).map(|n| (format!("Song {n}"), format!("Artist {}", n % 7))));

        let shares = from_sample(&conn).expect("sampled");

        assert_eq!(shares.get("son"), Some(&1.0));
        let nines = shares.get("g 9").copied().unwrap_or_default();
        assert!((0.08..0.14).contains(&nines), "about one track in nine starts with 9: {nines}");
        assert_eq!(rarest("song 9", &shares).as_deref(), Some("g 9"));
    }
}
