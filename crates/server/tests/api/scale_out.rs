//! Two instances sharing PostgreSQL and Redis behave as one server: sessions, revocation and
//! sign-in throttling hold across both. Runs when the suite runs on postgres+redis.

use reqwest::StatusCode;

use crate::helpers::{Backend, PASSWORD, TestApp};
use crate::services::skip;

fn shared_backends(test: &str) -> bool {
    let shared = Backend::current().is_shared();
    if !shared {
        skip(test, "needs TRACKLIST_TEST_POSTGRES and TRACKLIST_TEST_REDIS (scripts/test.sh sets both)");
    }
    shared
}

#[tokio::test]
async fn a_session_from_one_instance_works_and_dies_on_the_other() {
    if !shared_backends("a_session_from_one_instance_works_and_dies_on_the_other") {
        return;
    }
    let a = TestApp::spawn().await;
    let b = a.second_instance().await;
    a.create_user("alice", false).await;

    let session = a.session_id_for("alice").await;
    assert_eq!(b.me_with_cookie(Some(&session)).await.status(), StatusCode::OK);
    let logout = b.api_with_session(&session).post("/logout").await;
    assert_eq!(logout.status(), StatusCode::OK);

    assert_eq!(a.me_with_cookie(Some(&session)).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(b.me_with_cookie(Some(&session)).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revoking_on_one_instance_is_immediate_on_the_other() {
    if !shared_backends("revoking_on_one_instance_is_immediate_on_the_other") {
        return;
    }
    let a = TestApp::spawn().await;
    let b = a.second_instance().await;
    a.create_user("alice", false).await;
    let keep = a.session_id_for("alice").await;
    let other = b.session_id_for("alice").await;
    assert_eq!(a.me_with_cookie(Some(&other)).await.status(), StatusCode::OK);

    let revoke = b.api_with_session(&keep).delete("/users/me/sessions").await;
    assert_eq!(revoke.status(), StatusCode::OK);

    assert_eq!(a.me_with_cookie(Some(&other)).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(a.me_with_cookie(Some(&keep)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn sign_in_throttling_counts_across_instances() {
    if !shared_backends("sign_in_throttling_counts_across_instances") {
        return;
    }
    let a = TestApp::spawn_with(|config| config.throttle.max_failures = 3).await;
    let b = a.second_instance().await;
    a.create_user("alice", false).await;

    for app in [&a, &b, &a] {
        assert_eq!(
            app.api().sign_in("alice", "a wrong password guess").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }

    assert_eq!(b.api().sign_in("alice", PASSWORD).await.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(a.api().sign_in("alice", PASSWORD).await.status(), StatusCode::TOO_MANY_REQUESTS);
}
