//! One async function per API endpoint, typed with the shared DTOs.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use shared::{
    ErrorBody, ListQuery, LoginForm, NewTrack, PasswordChange, SessionInfo, SignupForm, SuccessBody, Track,
    TrackUpdate, User,
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

/// `POST /login`, urlencoded like the HTML form it replaces.
pub async fn login(form: &LoginForm) -> Result<SuccessBody> {
    let body = format!(
        "username={}&password={}",
        encode_component(&form.username),
        encode_component(&form.password)
    );
    let request = Request::post("/login")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .credentials(RequestCredentials::SameOrigin)
        .body(body)
        .map_err(|err| ClientError::Decode(err.to_string()))?;
    answer(request.send().await).await
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
    answer(request.credentials(RequestCredentials::SameOrigin).send().await).await
}

async fn send_json<T: DeserializeOwned>(request: RequestBuilder, body: &impl serde::Serialize) -> Result<T> {
    let request = request
        .credentials(RequestCredentials::SameOrigin)
        .json(body)
        .map_err(|err| ClientError::Decode(err.to_string()))?;
    answer(request.send().await).await
}

async fn answer<T: DeserializeOwned>(response: std::result::Result<Response, gloo_net::Error>) -> Result<T> {
    let response = response.map_err(|err| ClientError::Network(err.to_string()))?;
    if response.ok() {
        return response.json().await.map_err(|err| ClientError::Decode(err.to_string()));
    }
    let status = response.status();
    let body = response.json::<ErrorBody>().await.unwrap_or_else(|_| {
        ErrorBody::new(format!("The server answered {status} {}", response.status_text()))
    });
    Err(ClientError::Api { status, body })
}
