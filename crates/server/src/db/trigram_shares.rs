//! How common each trigram of the catalogue is, on PostgreSQL: a search walks the tracks
//! holding its term's rarest trigram (see `tracks` and the `track_trigrams` migration), and
//! this says which one that is.
//!
//! The shares are PostgreSQL's own statistics of `track_trigrams` (the ones its planner
//! uses, kept by `ANALYZE` and autovacuum): the 1 000 most common trigrams and the share of
//! rows each holds. A trigram not among them is rarer than any that is. Read again at most
//! once a minute; they only steer a search, never decide what it finds, as every track it
//! walks is checked against the whole term.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::{PgReaders, Result};

/// Statistics move only when PostgreSQL analyzes the table again.
const FRESH_FOR: Duration = Duration::from_secs(60);

const SHARES: &str = "SELECT most_common_vals::text::text[], most_common_freqs FROM pg_stats \
     WHERE schemaname = current_schema() AND tablename = 'track_trigrams' AND attname = 'trigram'";

/// Each trigram's share of `track_trigrams`, for the most common ones.
type Shares = HashMap<String, f32>;

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
    /// characters. The first search after the shares go stale reads them again; the others
    /// meanwhile go on with the ones they have.
    pub async fn rarest(&self, readers: &PgReaders, term: &str) -> Result<Option<String>> {
        let (shares, stale) = {
            let mut known = self.known();
            let stale = known.asked_at.is_none_or(|at| at.elapsed() >= FRESH_FOR);
            if stale {
                known.asked_at = Some(Instant::now());
            }
            (Arc::clone(&known.shares), stale)
        };
        let shares = if stale {
            let fresh = Arc::new(read(readers).await?);
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
async fn read(readers: &PgReaders) -> Result<Shares> {
    // The most common trigrams and their shares, each `NULL` when none stands out.
    type Row = (Option<Vec<String>>, Option<Vec<f32>>);
    let row: Option<Row> =
        readers.read(async |conn| sqlx::query_as(SHARES).fetch_optional(conn).await).await?;
    Ok(match row {
        Some((Some(trigrams), Some(shares))) => trigrams.into_iter().zip(shares).collect(),
        // Not analyzed yet, or no trigram more common than another.
        _ => Shares::new(),
    })
}

/// The trigram (three characters, as PostgreSQL's `substr` counts them) of `term` with the
/// smallest share; among equals the last, as the end of what someone types is usually the
/// most particular part of it (`song 9`: `g 9`).
fn rarest(term: &str, shares: &Shares) -> Option<String> {
    let chars: Vec<char> = term.chars().collect();
    let mut rarest: Option<(String, f32)> = None;
    for trigram in chars.windows(3).map(|three| three.iter().collect::<String>()) {
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
}
