//! One async function per API endpoint, typed with the shared DTOs.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use shared::{
    ErrorBody, LinkStatus, ListQuery, LoginForm, NewTrack, PasswordChange, PasswordReset, SessionInfo,
    SignupForm, SuccessBody, Track, TrackUpdate, TwoFactorStatus, User,
};
use web_sys::RequestCredentials;

use crate::error::ClientError;
use crate::routes::encode_component;

pub type Result<T> = std::result::Result<T, ClientError>;

/// `GET /users/me`; `Ok(None)` when signed out.
pub async fn me() -> Result<Option<User>> {
    match send(Request::get("/users/me")).await {
        Ok(user) => Ok(Some(user)),
        Err(err) if err.is_unauthorized() => Ok(None),
        Err(err) => Err(err),
    }
}

/// Where a right password leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginStep {
    SignedIn,
    /// Two-step sign-in: a code must follow (`second_factor`).
    NeedsCode,
}

/// `POST /login`, urlencoded like the HTML form it replaces.
pub async fn login(form: &LoginForm) -> Result<LoginStep> {
    let body = format!(
        "username={}&password={}",
        encode_component(&form.username),
        encode_component(&form.password)
    );
    let response = post_form("/login", body).await?;
    if response.status() == 202 {
        return Ok(LoginStep::NeedsCode);
    }
    answer::<SuccessBody>(response).await.map(|_| LoginStep::SignedIn)
}

async fn post_form(path: &str, body: String) -> Result<Response> {
    let request = Request::post(path)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .credentials(RequestCredentials::SameOrigin)
        .body(body)
        .map_err(|err| ClientError::Decode(err.to_string()))?;
    request.send().await.map_err(network)
}

pub async fn logout() -> Result<SuccessBody> {
    send(Request::post("/logout")).await
}

pub async fn sign_up(form: &SignupForm) -> Result<User> {
    send_json(Request::post("/users"), form).await
}

#[cfg_attr(feature = "ssr", expect(dead_code, reason = "the server renders from its own services"))]
pub async fn sessions() -> Result<Vec<SessionInfo>> {
    send(Request::get("/users/me/sessions")).await
}

pub async fn revoke_session(id: &str) -> Result<SuccessBody> {
    let id = encode_component(id);
    send(Request::delete(&format!("/users/me/sessions/{id}"))).await
}

/// Signs out every other session of the current user.
pub async fn revoke_other_sessions() -> Result<SuccessBody> {
    send(Request::delete("/users/me/sessions")).await
}

pub async fn change_password(change: &PasswordChange) -> Result<SuccessBody> {
    send_json(Request::put("/users/me/password"), change).await
}

#[cfg_attr(feature = "ssr", expect(dead_code, reason = "the server renders from its own services"))]
pub async fn two_factor_status() -> Result<TwoFactorStatus> {
    send(Request::get("/users/me/two-factor")).await
}

/// `GET /links/{selector}`: whether a one-time link can still be used.
pub async fn link_status(selector: &str) -> Result<LinkStatus> {
    send(Request::get(&format!("/links/{}", encode_component(selector)))).await
}

pub async fn reset_password(reset: &PasswordReset) -> Result<SuccessBody> {
    send_json(Request::post("/password-reset"), reset).await
}

#[cfg_attr(feature = "ssr", expect(dead_code, reason = "the server renders from its own services"))]
pub async fn list_tracks(query: &ListQuery) -> Result<Vec<Track>> {
    let mut params = vec![("skip", query.skip.to_string()), ("limit", query.limit.to_string())];
    if let Some(q) = query.search() {
        params.push(("q", q.to_owned()));
    }
    send(Request::get("/tracks").query(params)).await
}

pub async fn create_track(track: &NewTrack) -> Result<Track> {
    send_json(Request::post("/tracks"), track).await
}

pub async fn update_track(id: i64, update: &TrackUpdate) -> Result<Track> {
    send_json(Request::patch(&format!("/tracks/{id}")), update).await
}

pub async fn delete_track(id: i64) -> Result<SuccessBody> {
    send(Request::delete(&format!("/tracks/{id}"))).await
}

async fn send<T: DeserializeOwned>(request: RequestBuilder) -> Result<T> {
    answer(request.credentials(RequestCredentials::SameOrigin).send().await.map_err(network)?).await
}

async fn send_json<T: DeserializeOwned>(request: RequestBuilder, body: &impl serde::Serialize) -> Result<T> {
    let request = request
        .credentials(RequestCredentials::SameOrigin)
        .json(body)
        .map_err(|err| ClientError::Decode(err.to_string()))?;
    answer(request.send().await.map_err(network)?).await
}

fn network(err: gloo_net::Error) -> ClientError {
    ClientError::Network(err.to_string())
}

async fn answer<T: DeserializeOwned>(response: Response) -> Result<T> {
    if response.ok() {
        return response.json().await.map_err(|err| ClientError::Decode(err.to_string()));
    }
    let status = response.status();
    let body = response.json::<ErrorBody>().await.unwrap_or_else(|_| {
        ErrorBody::new(format!("The server answered {status} {}", response.status_text()))
    });
    Err(ClientError::Api { status, body })
}
