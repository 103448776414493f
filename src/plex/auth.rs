//! Account endpoints: whoami, sign-in with 2FA, PIN login. All v2 JSON
//! on plex.tv whatever the sharing family. The token a sign-in or PIN returns is wrapped in a
//! `SecretString` the moment it is parsed.

use std::time::Duration;

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::model::{AccountId, Owner};

use super::de::{string_opt, u64_opt, u64_req, WireSecret};
use super::decode::json;
use super::request::{Accept, Host, Request};
use super::transport::Transport;
use super::{Pin, PlexError};

/// `GET /api/v2/user`, `POST /api/v2/users/signin`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireUser {
    #[serde(deserialize_with = "u64_req")]
    id: u64,
    #[serde(default, deserialize_with = "string_opt")]
    username: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    email: Option<String>,
    #[serde(default, deserialize_with = "string_opt")]
    title: Option<String>,
    /// Kept only for sign-in, where the token is the product.
    #[serde(default)]
    auth_token: WireSecret,
}

/// `POST /api/v2/pins`, `GET /api/v2/pins/{id}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePin {
    #[serde(deserialize_with = "u64_req")]
    id: u64,
    #[serde(default, deserialize_with = "string_opt")]
    code: Option<String>,
    #[serde(default, deserialize_with = "u64_opt")]
    expires_in: Option<u64>,
    #[serde(default)]
    auth_token: WireSecret,
}

/// Where a person types a 4-character PIN.
pub const LINK_URL: &str = "https://plex.tv/link";

pub(super) async fn whoami(t: &Transport) -> Result<Owner, PlexError> {
    let req = Request::get(Host::Plex, "/api/v2/user", Accept::Json);
    let u: WireUser = t.read(&req, json).await?;
    Ok(Owner {
        id: AccountId(u.id),
        title: u
            .title
            .clone()
            .filter(|t| !t.is_empty())
            .or_else(|| u.username.clone())
            .unwrap_or_default(),
        username: u.username.unwrap_or_default(),
        email: u.email.filter(|e| !e.is_empty()),
    })
}

/// `POST /api/v2/users/signin` (form). Not retried: repeated sign-ins get an IP flagged.
pub(super) async fn sign_in(
    t: &Transport,
    login: &str,
    password: &SecretString,
    code: Option<&str>,
) -> Result<SecretString, PlexError> {
    let mut form = vec![
        ("login", login.to_string()),
        ("password", password.expose_secret().to_string()),
        ("rememberMe", "true".to_string()),
    ];
    if let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) {
        form.push(("verificationCode", code.to_string()));
    }
    let req = Request::new(
        Method::POST,
        Host::Plex,
        "/api/v2/users/signin",
        Accept::Json,
    )
    .form(form)
    .anonymous();
    let resp = t.send(&req).await.map_err(|e| match e {
        PlexError::BadToken => PlexError::BadCredentials,
        other => other,
    })?;
    let user: WireUser = json(&resp)?;
    user.auth_token.0.ok_or_else(|| PlexError::Malformed {
        endpoint: resp.endpoint.clone(),
        reason: "sign-in answered without an authToken".into(),
    })
}

fn link_url(code: &str) -> String {
    if code.chars().count() == 4 {
        LINK_URL.to_string()
    } else {
        format!("https://app.plex.tv/auth#?code={code}")
    }
}

/// `POST /api/v2/pins` (4-character code for plex.tv/link). Not retried (a write).
pub(super) async fn create_pin(t: &Transport) -> Result<Pin, PlexError> {
    let req = Request::new(Method::POST, Host::Plex, "/api/v2/pins", Accept::Json).anonymous();
    let resp = t.send(&req).await?;
    let pin: WirePin = json(&resp)?;
    let code = pin
        .code
        .filter(|c| !c.is_empty())
        .ok_or_else(|| PlexError::Malformed {
            endpoint: resp.endpoint.clone(),
            reason: "PIN answered without a code".into(),
        })?;
    Ok(Pin {
        id: pin.id,
        link_url: link_url(&code),
        code,
        expires_in: Duration::from_secs(pin.expires_in.unwrap_or(900)),
    })
}

/// `GET /api/v2/pins/{id}`: `None` until the person approves; 404 once expired.
pub(super) async fn check_pin(t: &Transport, id: u64) -> Result<Option<SecretString>, PlexError> {
    let req = Request::get(Host::Plex, format!("/api/v2/pins/{id}"), Accept::Json).anonymous();
    let pin: WirePin = t.read(&req, json).await?;
    Ok(pin.auth_token.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_fixtures() {
        let new = r#"{"id": 111222333, "code": "CODE", "product": "0", "trusted": false, "clientIdentifier": "ClientId",
          "location": {"code": "GB"}, "expiresIn": 900, "createdAt": "2022-02-01T00:00:00Z",
          "expiresAt": "2022-02-01T00:15:00Z", "authToken": null, "newRegistration": null}"#;
        let p: WirePin = serde_json::from_str(new).unwrap();
        assert_eq!(
            (p.id, p.code.as_deref(), p.expires_in),
            (111222333, Some("CODE"), Some(900))
        );
        assert!(p.auth_token.0.is_none());
        let linked = new.replace(r#""authToken": null"#, r#""authToken": "auth_token""#);
        let p: WirePin = serde_json::from_str(&linked).unwrap();
        assert_eq!(p.auth_token.0.unwrap().expose_secret(), "auth_token");
        assert!(
            !format!("{:?}", serde_json::from_str::<WirePin>(&linked).unwrap())
                .contains("auth_token\"")
        );
        assert_eq!(link_url("ABCD"), LINK_URL);
    }

    #[test]
    fn user_fixture() {
        let body = r#"{"id": 1, "uuid": "u", "username": "owner", "title": "Owner", "email": "o@example.com",
          "friendlyName": "", "authToken": "TOKEN-VALUE", "home": false, "subscription": {"active": true}}"#;
        let u: WireUser = serde_json::from_str(body).unwrap();
        assert_eq!(u.id, 1);
        assert!(!format!("{u:?}").contains("TOKEN-VALUE"));
    }
}
