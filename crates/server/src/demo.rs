//! `--demo`: a user and the seed app's four tracks, written into an empty database only.

use shared::NewTrack;

use crate::state::AppState;
use crate::{auth, db};

pub const USERNAME: &str = "john";
/// Documented in the README; it meets the password policy like any other.
pub const PASSWORD: &str = "tracklist-demo-password";

const TRACKS: [(&str, &str, &str, i32, &str); 4] = [
    ("Here Comes the Sun", "Beatles", "Abbey Road", 1969, "Apple"),
    ("Song 2", "Blur", "Blur", 1997, "Food"),
    ("High & Dry", "Radiohead", "The Bends", 1995, "Parlophone"),
    ("The Rain Song", "Led Zeppelin", "Houses of the Holy", 1973, "Atlantic"),
];

pub async fn seed(state: &AppState) -> anyhow::Result<()> {
    if db::users::count(&state.db).await? > 0 || db::tracks::count(&state.db).await? > 0 {
        tracing::info!("the database already has data: demo data not added");
        return Ok(());
    }
    let john = auth::create_account(&state.db, &state.passwords, USERNAME, PASSWORD, false).await?;
    for (title, artist, album, year, label) in TRACKS {
        let track = NewTrack {
            title: title.into(),
            artist: artist.into(),
            album: Some(album.into()),
            year: Some(year),
            label: Some(label.into()),
        };
        db::tracks::insert(&state.db, &track, Some(john.id)).await?;
    }
    tracing::info!(username = USERNAME, "demo user and tracks added");
    Ok(())
}
