//! One-time links: password resets and invitations, from the CLI and from admins through the
//! API; single use, expiry, sessions ended by a reset, invitations with sign-up closed
//! (issue 15). That the fragment never reaches the server is the browser suite's to show.

use reqwest::StatusCode;
use serde_json::{Value, json};
use shared::{LinkStatus, OneTimeLink};

use crate::cli::tracklist;
use crate::helpers::{PASSWORD, TestApp, assert_json_error};

const NEW_PASSWORD: &str = "the password set from a link";

/// The fragment of a printed link, which is what its page sends.
fn token_of(link: &str) -> &str {
    link.split_once('#').expect("a fragment").1
}

async fn link_from_cli(app: &TestApp, args: &[&str]) -> String {
    let output = tracklist(app, args, "").await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let link = String::from_utf8(output.stdout).expect("UTF-8").trim().to_owned();
    // Only the link: scripts take it from standard output (log lines go to standard error).
    assert!(!link.contains('\n'), "more than the link on standard output: {link}");
    link
}

async fn reset(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    app.api().post_json("/password-reset", &json!({"token": token, "new_password": password})).await
}

#[tokio::test]
async fn a_reset_link_sets_the_password_once_and_ends_every_session() {
    let app = TestApp::spawn().await;
    let (alice, _) = app.signed_in("alice", false).await;
    let link =
        link_from_cli(&app, &["user", "reset-link", "alice", "--public-url", "https://tracks.example"]).await;
    assert!(link.starts_with("https://tracks.example/reset-password#"), "{link}");
    let token = token_of(&link);
    let selector = token.split_once('.').expect("selector.verifier").0;
    let status: LinkStatus = app.get_json(&format!("/links/{selector}")).await;
    assert_eq!(serde_json::to_value(status).expect("JSON"), json!({"purpose": "reset", "state": "valid"}));

    // A weak password is refused without using the link up.
    let weak = reset(&app, token, "short").await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reset(&app, token, NEW_PASSWORD).await.status(), StatusCode::OK);

    assert_eq!(alice.get("/users/me").await.status(), StatusCode::UNAUTHORIZED, "sessions end");
    assert_eq!(app.api().sign_in("alice", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.api().sign_in("alice", NEW_PASSWORD).await.status(), StatusCode::OK);

    let again = reset(&app, token, "yet another long password").await;
    let body = assert_json_error(again, StatusCode::GONE).await;
    assert_eq!(body["code"], "link_unusable");
    let status: Value = app.get_json(&format!("/links/{selector}")).await;
    assert_eq!(status["state"], "used");
}

#[tokio::test]
async fn a_wrong_verifier_or_a_made_up_link_is_not_found_and_uses_nothing() {
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;
    let link = link_from_cli(&app, &["user", "reset-link", "alice"]).await;
    let token = token_of(&link);
    let (selector, verifier) = token.split_once('.').expect("selector.verifier");
    let mut wrong = verifier.as_bytes().to_vec();
    wrong[0] = if wrong[0] == b'A' { b'B' } else { b'A' };
    let wrong = format!("{selector}.{}", String::from_utf8(wrong).expect("ASCII"));
    for bad in [wrong.as_str(), "nonsense", "AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA"] {
        assert_eq!(reset(&app, bad, NEW_PASSWORD).await.status(), StatusCode::NOT_FOUND, "{bad}");
    }
    assert_eq!(reset(&app, token, NEW_PASSWORD).await.status(), StatusCode::OK, "the real one still works");
}

#[tokio::test]
async fn an_expired_link_is_refused_and_says_so() {
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;
    let link = link_from_cli(&app, &["user", "reset-link", "alice", "--valid", "1s"]).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let token = token_of(&link);
    let body = assert_json_error(reset(&app, token, NEW_PASSWORD).await, StatusCode::GONE).await;
    assert!(body["detail"].as_str().is_some_and(|detail| detail.contains("expired")), "{body}");
    let selector = token.split_once('.').expect("selector").0;
    let status: Value = app.get_json(&format!("/links/{selector}")).await;
    assert_eq!(status["state"], "expired");
    assert_eq!(app.api().sign_in("alice", PASSWORD).await.status(), StatusCode::OK, "nothing changed");
}

#[tokio::test]
async fn an_invitation_signs_up_once_with_sign_up_closed_and_may_make_an_admin() {
    let app = TestApp::spawn_with(|config| config.allow_signup = false).await;
    let closed = app.api().post_json("/users", &json!({"username": "carol", "password": NEW_PASSWORD})).await;
    assert_eq!(closed.status(), StatusCode::FORBIDDEN);

    let link = link_from_cli(&app, &["user", "invite", "--admin", "--valid", "2days"]).await;
    assert!(link.contains("/sign-up#"), "{link}");
    let token = token_of(&link);
    let signup = json!({"username": "carol", "password": NEW_PASSWORD, "invitation": token});
    let created = app.api().post_json("/users", &signup).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let carol: Value = created.json().await.expect("a user");
    assert_eq!(carol["is_admin"], true);

    let again = json!({"username": "dave", "password": NEW_PASSWORD, "invitation": token});
    assert_eq!(app.api().post_json("/users", &again).await.status(), StatusCode::GONE);
}

#[tokio::test]
async fn a_refused_sign_up_does_not_use_up_the_invitation() {
    let app = TestApp::spawn_with(|config| config.allow_signup = false).await;
    app.create_user("taken", false).await;
    let token = token_of(&link_from_cli(&app, &["user", "invite"]).await).to_owned();
    let taken = json!({"username": "taken", "password": NEW_PASSWORD, "invitation": token});
    assert_eq!(app.api().post_json("/users", &taken).await.status(), StatusCode::CONFLICT);
    let free = json!({"username": "erin", "password": NEW_PASSWORD, "invitation": token});
    let created = app.api().post_json("/users", &free).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let erin: Value = created.json().await.expect("a user");
    assert_eq!(erin["is_admin"], false);
}

#[tokio::test]
async fn admins_make_links_through_the_api_and_others_cannot() {
    let app = TestApp::spawn_with(|config| config.public_url = None).await;
    let (admin, _) = app.signed_in("root", true).await;
    let (member, _) = app.signed_in("bob", false).await;

    let refused = member.post_json("/invitations", &json!({})).await;
    assert_eq!(
        assert_json_error(refused, StatusCode::FORBIDDEN).await["detail"],
        "Only administrators can make links"
    );
    assert_eq!(member.post("/users/root/reset-link").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(admin.post("/users/nobody/reset-link").await.status(), StatusCode::NOT_FOUND);
    let bad = admin.post_json("/invitations", &json!({"valid_for": "a century"})).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let response = admin.post("/users/bob/reset-link").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let reset_link: OneTimeLink = response.json().await.expect("a link");
    assert!(reset_link.link.starts_with(&app.url("/reset-password#")), "{}", reset_link.link);
    assert_eq!(reset(&app, token_of(&reset_link.link), NEW_PASSWORD).await.status(), StatusCode::OK);
    assert_eq!(member.get("/users/me").await.status(), StatusCode::UNAUTHORIZED);

    let response = admin.post_json("/invitations", &json!({"valid_for": "1h"})).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let invitation: OneTimeLink = response.json().await.expect("a link");
    let signup =
        json!({"username": "frank", "password": NEW_PASSWORD, "invitation": token_of(&invitation.link)});
    assert_eq!(app.api().post_json("/users", &signup).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn an_admin_turns_two_step_sign_in_off_from_the_command_line() {
    let app = TestApp::spawn().await;
    let (api, _) = app.signed_in("alice", false).await;
    crate::two_factor::enrol(&api).await;
    assert_eq!(app.api().sign_in("alice", PASSWORD).await.status(), StatusCode::ACCEPTED);
    let output = tracklist(&app, &["user", "reset-2fa", "alice"], "").await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(app.api().sign_in("alice", PASSWORD).await.status(), StatusCode::OK);
    let again = tracklist(&app, &["user", "reset-2fa", "alice"], "").await;
    assert!(!again.status.success(), "already off");
}

#[tokio::test]
async fn one_link_used_twice_at_once_works_once() {
    let app = TestApp::spawn().await;
    app.create_user("alice", false).await;
    let link = link_from_cli(&app, &["user", "reset-link", "alice"]).await;
    let token = token_of(&link);
    const OTHER_PASSWORD: &str = "another long enough password";
    let (first, second) = tokio::join!(reset(&app, token, NEW_PASSWORD), reset(&app, token, OTHER_PASSWORD));
    let mut statuses = [first.status(), second.status()];
    let (won, lost) = if first.status() == StatusCode::OK {
        (NEW_PASSWORD, OTHER_PASSWORD)
    } else {
        (OTHER_PASSWORD, NEW_PASSWORD)
    };
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::GONE]);
    // Only the request that used the link set its password.
    assert_eq!(app.api().sign_in("alice", won).await.status(), StatusCode::OK);
    assert_eq!(app.api().sign_in("alice", lost).await.status(), StatusCode::UNAUTHORIZED);
}
