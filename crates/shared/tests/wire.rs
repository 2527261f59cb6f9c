//! The JSON shapes the API promises, checked from the outside.

use shared::{ErrorBody, ListQuery, NewTrack, SuccessBody, TrackUpdate};

#[test]
fn success_body_is_the_seed_apps_shape() {
    assert_eq!(serde_json::to_string(&SuccessBody::OK).ok().as_deref(), Some(r#"{"success":true}"#));
}

#[test]
fn error_body_leaves_out_empty_optional_parts() {
    let body = serde_json::to_string(&ErrorBody::new("Track not found")).ok();
    assert_eq!(body.as_deref(), Some(r#"{"detail":"Track not found"}"#));
}

#[test]
fn track_update_tells_null_from_absent() {
    let update: TrackUpdate = serde_json::from_str(r#"{"album": null}"#).expect("valid JSON");
    assert_eq!(update.album, Some(None));
    assert_eq!(update.label, None);
    let before = NewTrack {
        title: "Song 2".into(),
        artist: "Blur".into(),
        album: Some("Blur".into()),
        year: Some(1997),
        label: Some("Food".into()),
    };
    let after = update.apply_to(&before);
    assert_eq!(after.album, None);
    assert_eq!(after.label.as_deref(), Some("Food"));
}

#[test]
fn list_query_defaults_and_limits() {
    let query: ListQuery = serde_json::from_str("{}").expect("valid JSON");
    assert_eq!((query.skip, query.limit), (0, 20));
    assert!(query.validate().is_ok());
    let too_many = ListQuery { limit: 101, ..ListQuery::default() };
    assert!(too_many.validate().is_err_and(|fields| fields.contains_key("limit")));
    let blank = ListQuery { q: Some("  ".into()), ..ListQuery::default() };
    assert_eq!(blank.search(), None);
}

#[test]
fn new_track_reports_every_bad_field() {
    let track = NewTrack { year: Some(3000), ..NewTrack::default() };
    let fields = track.validate(2026).expect_err("invalid");
    assert!(fields.contains_key("title") && fields.contains_key("artist") && fields.contains_key("year"));
}
