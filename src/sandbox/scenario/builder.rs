//! The scenario builder tests use.

use super::spec::{
    AccountSpec, DeviceSpec, LibrariesSpec, LibraryRef, LibrarySpec, OwnerSpec, ScenarioSpec,
    ServerSpec, SettingsSpec, ShareSpec,
};
use super::{Scenario, ScenarioError};

impl Scenario {
    /// A builder for a small scenario (tests).
    pub fn builder() -> ScenarioBuilder {
        ScenarioBuilder::default()
    }
}

/// A small builder for tests. Accounts are referred to by username (friends) or title
/// (managed users); libraries by exact title or key (`LibraryRef`).
///
/// ```
/// use sharesync::sandbox::Scenario;
/// let s = Scenario::builder()
///     .server("noodle", &[("Movies", "movie"), ("TV Shows", "show")])
///     .server("doodoo", &[("Movies", "movie")])
///     .friend("alice")
///     .managed("Kiddo")
///     .share("noodle", "alice", ["Movies", "TV Shows"])
///     .share_all("doodoo", "Kiddo")
///     .build();
/// assert_eq!(s.world().accounts.len(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct ScenarioBuilder {
    spec: ScenarioSpec,
}

impl Default for ScenarioBuilder {
    fn default() -> Self {
        ScenarioBuilder {
            spec: ScenarioSpec {
                owner: OwnerSpec {
                    username: "sandbox-owner".into(),
                    password: Some("sandbox-password".into()),
                    ..OwnerSpec::default()
                },
                ..ScenarioSpec::default()
            },
        }
    }
}

impl ScenarioBuilder {
    /// The owner's username (default `sandbox-owner`).
    pub fn owner(mut self, username: &str) -> Self {
        self.spec.owner.username = username.into();
        self
    }

    /// The owner's password and, optionally, the verification code sign-in then requires.
    pub fn owner_password(mut self, password: &str, totp: Option<&str>) -> Self {
        self.spec.owner.password = Some(password.into());
        self.spec.owner.totp = totp.map(Into::into);
        self
    }

    /// An owned server with `(title, type)` libraries, keys 1..n in this order.
    pub fn server(mut self, name: &str, libraries: &[(&str, &str)]) -> Self {
        self.spec.servers.push(ServerSpec {
            name: name.into(),
            libraries: libraries
                .iter()
                .map(|(t, k)| LibrarySpec {
                    title: (*t).into(),
                    kind: (*k).into(),
                    ..LibrarySpec::default()
                })
                .collect(),
            ..ServerSpec::default()
        });
        self
    }

    /// A server owned by the account `owner` and shared (all libraries) to the sandbox owner.
    pub fn foreign_server(mut self, name: &str, owner: &str, libraries: &[(&str, &str)]) -> Self {
        self = self.server(name, libraries);
        if let Some(s) = self.spec.servers.last_mut() {
            s.owner = Some(owner.into());
        }
        self
    }

    /// A friend (email `<username>@example.com`).
    pub fn friend(mut self, username: &str) -> Self {
        self.spec.accounts.push(AccountSpec {
            username: Some(username.into()),
            ..AccountSpec::default()
        });
        self
    }

    /// A friend with a password (and optional verification code) for sign-in tests.
    pub fn friend_with_password(
        mut self,
        username: &str,
        password: &str,
        totp: Option<&str>,
    ) -> Self {
        self.spec.accounts.push(AccountSpec {
            username: Some(username.into()),
            password: Some(password.into()),
            totp: totp.map(Into::into),
            ..AccountSpec::default()
        });
        self
    }

    /// A managed user: no username, no email.
    pub fn managed(mut self, title: &str) -> Self {
        self.spec.accounts.push(AccountSpec {
            title: Some(title.into()),
            managed: true,
            ..AccountSpec::default()
        });
        self
    }

    fn push_share(
        mut self,
        server: &str,
        account: Option<&str>,
        email: Option<&str>,
        libraries: LibrariesSpec,
        pending: Option<bool>,
    ) -> Self {
        self.spec.shares.push(ShareSpec {
            server: server.into(),
            account: account.map(Into::into),
            invited_email: email.map(Into::into),
            libraries,
            stale_libraries: Vec::new(),
            pending,
            settings: SettingsSpec::default(),
            omit_settings: false,
            partial_settings: false,
            id: None,
            invited_at: None,
            accepted_at: None,
        });
        self
    }

    /// An accepted share of exactly these libraries.
    pub fn share<L: Into<LibraryRef>>(
        self,
        server: &str,
        account: &str,
        libraries: impl IntoIterator<Item = L>,
    ) -> Self {
        let list = libraries.into_iter().map(Into::into).collect();
        self.push_share(server, Some(account), None, LibrariesSpec::List(list), None)
    }

    /// An accepted share of all libraries.
    pub fn share_all(self, server: &str, account: &str) -> Self {
        self.push_share(
            server,
            Some(account),
            None,
            LibrariesSpec::Word("all".into()),
            None,
        )
    }

    /// A pending (not yet accepted) share of these libraries to a friend.
    pub fn pending_share<L: Into<LibraryRef>>(
        self,
        server: &str,
        account: &str,
        libraries: impl IntoIterator<Item = L>,
    ) -> Self {
        let list = libraries.into_iter().map(Into::into).collect();
        self.push_share(
            server,
            Some(account),
            None,
            LibrariesSpec::List(list),
            Some(true),
        )
    }

    /// A pending invite to an address that has no plex.tv account.
    pub fn invite_email<L: Into<LibraryRef>>(
        self,
        server: &str,
        email: &str,
        libraries: impl IntoIterator<Item = L>,
    ) -> Self {
        let list = libraries.into_iter().map(Into::into).collect();
        self.push_share(
            server,
            None,
            Some(email),
            LibrariesSpec::List(list),
            Some(true),
        )
    }

    /// Settings of the share added last.
    pub fn settings(mut self, settings: SettingsSpec) -> Self {
        if let Some(s) = self.spec.shares.last_mut() {
            s.settings = settings;
        }
        self
    }

    /// v2 reads leave the `sharingSettings` of the share added last out.
    pub fn omit_settings(mut self) -> Self {
        if let Some(s) = self.spec.shares.last_mut() {
            s.omit_settings = true;
        }
        self
    }

    /// Reads carry the settings of the share added last incomplete.
    pub fn partial_settings(mut self) -> Self {
        if let Some(s) = self.spec.shares.last_mut() {
            s.partial_settings = true;
        }
        self
    }

    /// A restriction profile (`little_kid`, `older_kid`, `teen`) for the managed user added last.
    pub fn restriction_profile(mut self, profile: &str) -> Self {
        if let Some(a) = self.spec.accounts.last_mut() {
            a.restriction_profile = Some(profile.into());
        }
        self
    }

    /// A non-server device of the owner.
    pub fn device(mut self, name: &str, product: &str, provides: &str) -> Self {
        self.spec.devices.push(DeviceSpec {
            name: name.into(),
            product: Some(product.into()),
            provides: Some(provides.into()),
            ..DeviceSpec::default()
        });
        self
    }

    /// The scenario, or the first inconsistency in it.
    pub fn try_build(self) -> Result<Scenario, ScenarioError> {
        self.spec.resolve()
    }

    /// Panics on an invalid scenario (tests).
    pub fn build(self) -> Scenario {
        self.try_build().unwrap_or_else(|e| panic!("{e}"))
    }
}
