//! Pages rendered on the server: what anonymous and signed-in visitors get, a browser's own
//! form posts (no JavaScript) next to the unchanged JSON contract, the not-found page, and
//! the page's CSP nonce.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Api, PASSWORD, TestApp, assert_error, futures_join_all, session_cookie};

/// What Trunk writes, reduced: a head with the inline loader, an empty body.
const INDEX: &str = "<!doctype html><html><head><meta charset=\"utf-8\" /><title>Tracklist</title>\
    <script type=\"module\">import init from '/frontend-0123456789abcdef.js'; await init();</script>\
    </head><body></body></html>";

pub async fn spawn_with_pages() -> (TestApp, tempfile::TempDir) {
    let dist = tempfile::tempdir().expect("folder");
    std::fs::write(dist.path().join("index.html"), INDEX).expect("index written");
    let dir = dist.path().to_owned();
    let app = TestApp::spawn_with(move |config| config.static_dir = Some(dir)).await;
    (app, dist)
}

/// The page's markup, without the empty comments leptos leaves for hydration (`<!>`).
async fn html(response: Response) -> String {
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response.text().await.expect("a body");
    let is_html = headers
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    assert!(is_html, "not a page: {status} {headers:?} {body}");
    body.replace("<!>", "").replace("<!--<() />-->", "")
}

async fn add_tracks(api: &Api, titles: impl IntoIterator<Item = String>) {
    for title in titles {
        let response = api.post_json("/tracks", &json!({ "title": title, "artist": "Test Band" })).await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
}

fn rows(page: &str) -> usize {
    page.matches("<tr data-track-id=").count()
}

#[tokio::test]
async fn the_library_arrives_rendered_with_its_tracks_for_a_visitor() {
    let (app, _dist) = spawn_with_pages().await;
    let (api, _) = app.signed_in("curator", false).await;
    add_tracks(&api, ["Blue Monday".to_owned(), "Heroes".to_owned()]).await;

    let response = app.api().get("/").await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let vary: Vec<_> = response.headers().get_all("vary").iter().map(|v| v.to_str().expect("text")).collect();
    assert!(vary.iter().any(|v| v.contains("Cookie")), "{vary:?}");
    let page = html(response).await;
    assert!(page.contains("<title>Library · Tracklist</title>"), "{page}");
    assert!(page.contains("Blue Monday") && page.contains("Heroes"));
    assert_eq!(rows(&page), 2);
    assert!(page.contains(r#"<a href="/sign-in">Sign in</a>"#));
    assert!(!page.contains("current-user"), "a visitor is nobody");
    // Trunk's head comes along, without its title (each page names itself).
    assert!(page.contains("import init from '/frontend-0123456789abcdef.js'"));
    assert!(!page.contains("<title>Tracklist</title>"));
}

#[tokio::test]
async fn a_signed_in_user_gets_their_pages_with_name_sessions_and_a_sign_out_form() {
    let (app, _dist) = spawn_with_pages().await;
    let (api, _) = app.signed_in("listener", false).await;

    let library = html(api.get("/").await).await;
    assert!(library.contains(r#"data-testid="current-user" class="who">listener</a>"#), "{library}");
    assert!(library.contains(r#"<form method="post" action="/logout""#), "{library}");
    assert!(!library.contains("Add a track"), "adding needs the script: not offered in the HTML");

    let account = html(api.get("/account").await).await;
    assert!(account.contains(r#"data-testid="account-username">listener</dd>"#), "{account}");
    assert_eq!(account.matches(r#"data-testid="session""#).count(), 1);
    assert!(account.contains("This device"));
}

#[tokio::test]
async fn the_account_page_sends_a_visitor_to_sign_in_and_back() {
    let (app, _dist) = spawn_with_pages().await;

    let response = app.browser().get("/account").await;

    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(response.headers()["location"], "/sign-in?next=%2Faccount");
}

#[tokio::test]
async fn search_and_paging_live_in_the_address() {
    let (app, _dist) = spawn_with_pages().await;
    let (api, _) = app.signed_in("curator", false).await;
    add_tracks(&api, (1..=25).map(|n| format!("Filler {n:02}"))).await;
    add_tracks(&api, ["Needle".to_owned()]).await;

    let first = html(app.api().get("/").await).await;
    assert_eq!(rows(&first), 20);
    assert!(
        first.contains(r#"<a href="/?skip=20" rel="next" class="button secondary">"#),
        "a link to the next page: {first}"
    );

    let second = html(app.api().get("/?skip=20").await).await;
    assert_eq!(rows(&second), 6);
    assert!(second.contains("Page 2"));
    // The brand link is `href="/"` too: the pager's is the one marked `prev`.
    assert!(second.contains(r#"<a href="/" rel="prev" class="button secondary">"#), "{second}");

    let found = html(app.api().get("/?q=needle").await).await;
    assert_eq!(rows(&found), 1);
    assert!(
        found.contains(r#"name="q" type="search" placeholder="Search by title or artist" value="needle""#)
    );

    let beyond = html(app.api().get("/?skip=999999").await).await;
    assert_eq!(rows(&beyond), 0, "clamped to the deepest page the API allows");
}

/// The `<table>…</table>` of a library page.
fn table(page: &str) -> &str {
    let start = page.find("<table").expect("a table");
    let end = page[start..].find("</table>").expect("the table's end") + start + "</table>".len();
    &page[start..end]
}

#[tokio::test]
async fn the_kept_table_is_the_same_for_everyone_and_follows_each_change() {
    let (app, _dist) = spawn_with_pages().await;
    let (owner, _) = app.signed_in("curator", false).await;
    let (admin, _) = app.signed_in("boss", true).await;
    let created =
        owner.post_json("/tracks", &json!({ "title": "<Heroes> & \"Villains\"", "artist": "Bowie" })).await;
    let track: Value = created.json().await.expect("a track");

    // The first render keeps the table; the others reuse it. Whoever asks, the server's table
    // has no buttons (they need the script), so one table serves all.
    let visitor = html(app.api().get("/").await).await;
    let as_owner = html(owner.get("/").await).await;
    let as_admin = html(admin.get("/").await).await;
    assert!(table(&visitor).contains(r#"&lt;Heroes&gt; &amp; "Villains""#), "{visitor}");
    assert_eq!(table(&as_owner), table(&visitor));
    assert_eq!(table(&as_admin), table(&visitor));
    assert!(!table(&as_admin).contains("Delete"));

    // A change moves the catalogue's version: the next page renders its table anew.
    let path = format!("/tracks/{}", track["id"]);
    assert_eq!(owner.patch(&path, &json!({ "title": "Ashes to Ashes" })).await.status(), StatusCode::OK);
    let renamed = html(app.api().get("/").await).await;
    assert!(table(&renamed).contains("Ashes to Ashes") && !renamed.contains("Villains"), "{renamed}");
    assert_eq!(table(&html(owner.get("/").await).await), table(&renamed));
}

/// A page is kept for the next view of it by the same viewer (see `kept_pages.rs`): each
/// viewer still gets only their own page, whose nonce is new each time, and a change to the
/// catalogue, to who is signed in, or to what the page reads of its user shows at once.
#[tokio::test]
async fn a_kept_page_goes_only_to_its_own_viewer_and_follows_each_change() {
    let (app, _dist) = spawn_with_pages().await;
    let (alice, _) = app.signed_in("alice", false).await;
    let (bob, _) = app.signed_in("bob", false).await;
    add_tracks(&alice, ["First".to_owned()]).await;
    let who = |name: &str| format!(r#"data-testid="current-user" class="who">{name}</a>"#);

    let mut nonces = std::collections::HashSet::new();
    for _ in 0..3 {
        for (client, name) in [(&alice, Some("alice")), (&bob, Some("bob")), (&app.api(), None)] {
            let response = client.get("/").await;
            let csp = response.headers()["content-security-policy"].to_str().expect("text").to_owned();
            let page = html(response).await;
            let nonce =
                csp.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a nonce");
            assert!(
                page.contains(&format!("<script nonce=\"{nonce}\">")),
                "the page carries its CSP's nonce"
            );
            assert!(nonces.insert(nonce.to_owned()), "a nonce is never sent twice");
            for other in ["alice", "bob"] {
                assert_eq!(page.contains(&who(other)), name == Some(other), "{name:?} got: {page}");
            }
            assert_eq!(rows(&page), 1);
        }
    }
    let kept = || app.state.pages.as_ref().expect("pages").kept_pages();
    assert_eq!(kept(), 3, "one page kept per viewer, the one its repeat views were sent from");

    add_tracks(&bob, ["Second".to_owned()]).await;
    assert_eq!(rows(&html(alice.get("/").await).await), 2, "the catalogue changed");

    assert_eq!(alice.post("/logout").await.status(), StatusCode::OK);
    let signed_out = html(alice.get("/").await).await;
    assert!(!signed_out.contains("current-user"), "{signed_out}");

    // The account page reads the user's sessions: rendered every time, never kept.
    let sessions = |page: &str| page.matches(r#"data-testid="session""#).count();
    let kept_before_account = kept();
    let before = sessions(&html(bob.get("/account").await).await);
    app.session_id_for("bob").await;
    assert_eq!(sessions(&html(bob.get("/account").await).await), before + 1);
    assert_eq!(kept(), kept_before_account, "the account page is not kept");
}

/// Overlapping first renders of a page each render or reuse its table: every one shows the
/// catalogue as changed, and all the same table. (The requests interleave where their reads
/// wait, so more than one may find the table not yet made and render it.)
#[tokio::test]
async fn overlapping_first_renders_after_a_change_agree() {
    let (app, _dist) = spawn_with_pages().await;
    let (owner, _) = app.signed_in("curator", false).await;
    add_tracks(&owner, (1..=20).map(|n| format!("Take {n:02}"))).await;
    let before = html(app.api().get("/").await).await;
    assert_eq!(rows(&before), 20);

    for round in 1..=5 {
        let title = format!("Changed {round}");
        let response = owner.patch("/tracks/1", &json!({ "title": title })).await;
        assert_eq!(response.status(), StatusCode::OK);
        let pages = futures_join_all((0..16).map(|_| {
            let client = app.api();
            async move { html(client.get("/").await).await }
        }))
        .await;
        for page in &pages {
            assert!(table(page).contains(&title), "round {round}: {page}");
            assert_eq!(table(page), table(&pages[0]));
        }
    }
}

#[tokio::test]
async fn a_page_whose_data_is_refused_shows_why_under_that_status() {
    let (app, _dist) = spawn_with_pages().await;

    // A control character in the search: the catalogue refuses it, as `GET /tracks` does.
    let response = app.api().get("/?q=%01").await;

    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = html(response).await;
    assert!(page.contains(r#"class="error""#) && page.contains("Some fields are invalid"), "{page}");
    assert_eq!(rows(&page), 0);
}

#[tokio::test]
async fn unknown_paths_get_the_not_found_page_and_api_paths_keep_json() {
    let (app, _dist) = spawn_with_pages().await;

    let response = app.api().get("/no/such/page").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let page = html(response).await;
    assert!(page.contains("Page not found") && page.contains("<title>Not found · Tracklist</title>"));

    assert_error(app.api().get("/users/nobody/else").await, StatusCode::NOT_FOUND, "Not Found").await;
    assert_error(app.api().get("/tracks/999").await, StatusCode::NOT_FOUND, "Track not found").await;
}

#[tokio::test]
async fn a_browser_form_sign_in_goes_to_next_signed_in() {
    let (app, _dist) = spawn_with_pages().await;
    app.create_user("walker", false).await;
    let browser = app.browser();
    let form = [("username", "walker"), ("password", PASSWORD)];

    let response = browser.post_form("/login?next=%2Faccount", &form).await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/account");
    assert!(session_cookie(&response).is_some());
    assert!(
        response
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().is_ok_and(|c| c.starts_with("device=")))
    );
    let account = html(browser.get("/account").await).await;
    assert!(account.contains(r#"data-testid="account-username">walker</dd>"#));

    // Another site as `next` lands on the library.
    let elsewhere = app.browser().post_form("/login?next=//evil.example/x", &form).await;
    assert_eq!(elsewhere.headers()["location"], "/");
}

#[tokio::test]
async fn a_refused_browser_sign_in_gets_the_form_again_with_the_message_and_the_username() {
    let (app, _dist) = spawn_with_pages().await;
    app.create_user("walker", false).await;
    let browser = app.browser();

    let response = browser
        .post_form("/login?next=%2Faccount", &[("username", "walker"), ("password", "wrong one")])
        .await;

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], "Cookie");
    let page = html(response).await;
    assert!(
        page.contains(r#"data-testid="error" class="error">Incorrect username or password</p>"#),
        "{page}"
    );
    assert!(page.contains(r#"name="username" type="text" autocomplete="username" required aria-invalid="false" aria-describedby="username-error" value="walker""#), "{page}");
    assert!(!page.contains("wrong one"), "the password is never echoed");
    assert!(page.contains(r#"action="/login?next=%2Faccount""#), "next survives the retry");

    // Throttled: the same page, with the wait.
    for _ in 0..5 {
        browser.post_form("/login", &[("username", "walker"), ("password", "wrong again")]).await;
    }
    let throttled = browser.post_form("/login", &[("username", "walker"), ("password", "wrong again")]).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled.headers().contains_key("retry-after"));
    assert!(html(throttled).await.contains("Too many failed sign-in attempts"));
}

#[tokio::test]
async fn a_typed_username_echoed_into_the_form_stays_text() {
    let (app, _dist) = spawn_with_pages().await;
    let typed = "\"><script>alert(1)</script>";

    let response =
        app.browser().post_form("/login", &[("username", typed), ("password", "whatever it is")]).await;

    let page = html(response).await;
    assert!(!page.contains("<script>alert(1)"), "{page}");
    assert!(page.contains("value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\""), "{page}");
}

#[tokio::test]
async fn api_callers_keep_the_json_contract_on_every_form_route() {
    let (app, _dist) = spawn_with_pages().await;
    app.create_user("walker", false).await;
    let form = [("username", "walker"), ("password", PASSWORD)];

    // curl and scripts: no Fetch Metadata, `Accept: */*`.
    let response = app.api().post_form("/login", &form).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.expect("JSON"), json!({ "success": true }));
    // fetch() from the page: `Sec-Fetch-Mode: cors`.
    let fetched =
        Api::send(app.api().request(Method::POST, "/login").header("sec-fetch-mode", "cors").form(&form))
            .await;
    assert_eq!(fetched.json::<Value>().await.expect("JSON"), json!({ "success": true }));
    let wrong = app.api().post_form("/login", &[("username", "walker"), ("password", "nope")]).await;
    assert_error(wrong, StatusCode::UNAUTHORIZED, "Incorrect username or password").await;

    let signup = app.api().post_form("/users", &[("username", "newbie"), ("password", PASSWORD)]).await;
    assert_eq!(signup.status(), StatusCode::CREATED);
    assert_eq!(signup.json::<Value>().await.expect("JSON")["username"], "newbie");
}

#[tokio::test]
async fn a_browser_form_sign_up_signs_the_new_user_in_or_shows_the_form_again() {
    let (app, _dist) = spawn_with_pages().await;
    app.create_user("taken", false).await;
    let browser = app.browser();

    let refused = browser.post_form("/users", &[("username", "taken"), ("password", PASSWORD)]).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let page = html(refused).await;
    assert!(page.contains("That username is taken") && page.contains(r#"value="taken""#), "{page}");

    let created = browser.post_form("/users", &[("username", "fresh"), ("password", PASSWORD)]).await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert_eq!(created.headers()["location"], "/");
    let library = html(browser.get("/").await).await;
    assert!(library.contains(r#"data-testid="current-user" class="who">fresh</a>"#));
}

#[tokio::test]
async fn sessions_are_revoked_by_the_account_page_forms() {
    let (app, _dist) = spawn_with_pages().await;
    app.create_user("owner", false).await;
    let browser = app.browser();
    let form = [("username", "owner"), ("password", PASSWORD)];
    assert_eq!(browser.post_form("/login", &form).await.status(), StatusCode::SEE_OTHER);
    let elsewhere = app.session_id_for("owner").await;
    let sessions: Vec<Value> = browser.get("/users/me/sessions").await.json().await.expect("JSON");
    let other = sessions.iter().find(|s| s["current"] == false).expect("the other session");
    let reference = other["id"].as_str().expect("an id");

    let revoked = browser.post(&format!("/users/me/sessions/{reference}/revoke")).await;

    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    assert_eq!(revoked.headers()["location"], "/account");
    assert_eq!(app.me_with_cookie(Some(&elsewhere)).await.status(), StatusCode::UNAUTHORIZED);

    // "Sign out everywhere else", and the same routes answer API callers in JSON.
    let third = app.session_id_for("owner").await;
    let api = app.api_with_session(&app.session_id_for("owner").await);
    let everywhere = api.post("/users/me/sessions/revoke-others").await;
    assert_eq!(everywhere.json::<Value>().await.expect("JSON"), json!({ "success": true }));
    assert_eq!(app.me_with_cookie(Some(&third)).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(browser.get("/users/me").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn item_21_each_page_has_its_own_nonce_and_only_its_inline_scripts_carry_it() {
    let (app, _dist) = spawn_with_pages().await;
    let (api, _) = app.signed_in("reader", false).await;

    let mut nonces = Vec::new();
    for _ in 0..2 {
        let response = api.get("/").await;
        let csp = response.headers()["content-security-policy"].to_str().expect("text").to_owned();
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        let nonce =
            csp.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a nonce").to_owned();
        let page = html(response).await;
        let scripts = page.matches("<script").count();
        let with_nonce = page.matches(&format!("<script nonce=\"{nonce}\">")).count();
        assert!(with_nonce >= 1, "the hydration data is nonced");
        assert_eq!(
            scripts,
            with_nonce + 1,
            "everything inline but Trunk's loader (allowed by hash) carries it"
        );
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[1], "a fresh nonce per response");
}

#[tokio::test]
async fn text_from_the_catalogue_cannot_close_the_page_data_script() {
    let (app, _dist) = spawn_with_pages().await;
    let (api, _) = app.signed_in("mischief", false).await;
    add_tracks(&api, ["</script><script>alert(1)</script>".to_owned()]).await;

    let page = html(app.api().get("/").await).await;

    assert!(!page.contains("<script>alert(1)"), "{page}");
    assert!(page.contains("&lt;/script&gt;&lt;script&gt;alert(1)"), "shown as text in the table");
}

/// leptos holds back every resource first polled while a route list is being generated
/// anywhere in the process (a process-wide flag; such a resource then never loads, and its
/// page never finishes), and building a server's pages generates one. So this starts other
/// servers, each with its pages, while one renders pages without pause.
#[tokio::test]
async fn pages_render_while_other_servers_start_in_the_same_process() {
    let (app, _dist) = spawn_with_pages().await;
    let starting = Arc::new(AtomicBool::new(true));
    let renderers: Vec<_> = (0..4)
        .map(|renderer| {
            let (client, starting) = (app.api(), Arc::clone(&starting));
            tokio::spawn(async move {
                let mut rendered = 0;
                // A new search each time: a page kept from an earlier view would not render.
                while starting.load(Ordering::Relaxed) || rendered == 0 {
                    let path = format!("/?q=search-{renderer}-{rendered}");
                    let page = tokio::time::timeout(Duration::from_secs(10), async {
                        let response = client.get(&path).await;
                        assert_eq!(response.status(), StatusCode::OK, "{path}");
                        html(response).await
                    })
                    .await
                    .unwrap_or_else(|_| panic!("{path} did not render within 10 s"));
                    // The whole page, its (empty) search result included.
                    assert!(page.contains("No tracks found.") && page.contains("</html>"), "{path}: {page}");
                    rendered += 1;
                }
                rendered
            })
        })
        .collect();

    for _ in 0..10 {
        let (other, _other_dist) = spawn_with_pages().await;
        other.stop().await;
    }
    starting.store(false, Ordering::Relaxed);

    for renderer in renderers {
        assert!(renderer.await.expect("a renderer") > 0);
    }
}
