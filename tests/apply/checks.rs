//! The checks apply tests end with, read from the simulated plex.tv's request log and world.

use super::*;

impl Env {
    /// The checks every apply test ends with.
    pub(crate) fn check_wire(&self) {
        check_wire(
            &self.sandbox,
            &self.start,
            &self.sandbox.world(),
            self.family,
        );
    }
}

/// The library ids a write request carried (`None` for a DELETE).
fn sent_ids(r: &RecordedRequest) -> Option<Vec<u64>> {
    if r.method == "DELETE" {
        return None;
    }
    let body: serde_json::Value = serde_json::from_str(&r.body)
        .unwrap_or_else(|e| panic!("{} {}: body is not JSON: {e}", r.method, r.path));
    let list = body
        .pointer("/librarySectionIds")
        .or_else(|| body.pointer("/shared_server/library_section_ids"))
        .unwrap_or_else(|| panic!("{} {}: no library list in {body}", r.method, r.path));
    Some(
        list.as_array()
            .expect("a list")
            .iter()
            .map(|v| v.as_u64().expect("ids are numbers"))
            .collect(),
    )
}

/// The request log and the world: every write carried a non-empty list of global ids of the
/// destination (never a local key), no share's settings changed, nobody lost a library on any
/// server, and v2 updates sent the settings back exactly as they were.
pub(crate) fn check_wire(sandbox: &Sandbox, before: &World, after: &World, family: ApiFamily) {
    check_requests(sandbox, before, after, family);
    check_settings(before, after);
    never_lost(before, after);
}

pub(crate) fn check_requests(sandbox: &Sandbox, before: &World, after: &World, family: ApiFamily) {
    for r in sandbox.requests().iter().filter(|r| is_write(r)) {
        let share = r
            .path
            .rsplit('/')
            .next()
            .and_then(|id| id.parse::<u64>().ok());
        let settings_omitted = share.is_some_and(|id| {
            before.omit_settings.contains(&id) || before.partial_settings.contains(&id)
        });
        if family == ApiFamily::V2 && settings_omitted && r.method != "DELETE" {
            // A share whose settings the read left out is only ever updated by the legacy
            // PUT, which cannot carry (and so cannot reset) them.
            assert_eq!(
                r.method, "PUT",
                "v2 update of a share without settings: {}",
                r.path
            );
            assert!(!r.path.starts_with("/api/v2/"), "{}", r.path);
        } else if family == ApiFamily::V2 {
            assert!(r.path.starts_with("/api/v2/"), "v2 client wrote {}", r.path);
        } else {
            assert!(
                !r.path.starts_with("/api/v2/"),
                "legacy client wrote {}",
                r.path
            );
        }
        let Some(ids) = sent_ids(r) else { continue };
        assert!(
            !ids.is_empty(),
            "empty library list sent: {} {}",
            r.method,
            r.path
        );
        let all_ids: BTreeSet<u64> = after
            .servers
            .iter()
            .chain(before.servers.iter())
            .flat_map(|s| s.libraries.iter().map(|l| l.id))
            .collect();
        for id in &ids {
            assert!(
                all_ids.contains(id),
                "{} {} sent {id}, which is not a global library id (a local key?)",
                r.method,
                r.path
            );
        }
    }
}

pub(crate) fn check_settings(before: &World, after: &World) {
    for (id, share) in &before.shares {
        if let Some(now) = after.shares.get(id) {
            assert_eq!(
                now.settings, share.settings,
                "settings of share {id} changed"
            );
        }
    }
}

/// No filter: plex.tv writes both null and "" for it (the legacy read cannot tell them apart).
fn same_settings(a: &SettingsRecord, b: &SettingsRecord) -> bool {
    let f = |s: &SettingsRecord| {
        [
            &s.filter_movies,
            &s.filter_music,
            &s.filter_television,
            &s.filter_photos,
            &s.filter_all,
        ]
        .map(|f| f.clone().unwrap_or_default())
    };
    f(a) == f(b)
        && (a.allow_sync, a.allow_camera_upload, a.allow_channels)
            == (b.allow_sync, b.allow_camera_upload, b.allow_channels)
        && (a.allow_subtitle_admin, a.allow_tuners) == (b.allow_subtitle_admin, b.allow_tuners)
}

/// Restrictions are access, for new shares: every share the run created on the destination
/// carries its source share's restrictions (`copy`), or plex.tv's defaults (not `copy`).
pub(crate) fn check_new_shares(env: &Env, before: &World, after: &World, copy: bool) {
    let (src, dst) = (env.mid(&env.source), env.mid(&env.dest));
    for share in after.shares_on(&dst) {
        if before.shares.contains_key(&share.id) {
            continue;
        }
        let account = share.account_id.expect("created by account id");
        let want = if copy {
            before
                .share_for(&src, account)
                .expect("a new share has a source share")
                .settings
                .clone()
        } else {
            SettingsRecord::reset()
        };
        // The legacy create carries no tuner or subtitle permission: a new share has none,
        // which is only more restricted than its source.
        let want = match env.family {
            ApiFamily::Legacy => SettingsRecord {
                allow_tuners: 0,
                allow_subtitle_admin: false,
                ..want
            },
            ApiFamily::V2 => want,
        };
        assert!(
            same_settings(&share.settings, &want),
            "{}: new share {} of account {account} carries {:?}, its source {:?}",
            env.family,
            share.id,
            share.settings,
            want
        );
    }
}

/// Never remove: every account keeps every library it had on every server.
pub(crate) fn never_lost(before: &World, after: &World) {
    for server in &before.servers {
        for account in before.accounts.keys() {
            let Some(had) = before.visible_section_ids(&server.machine_id, *account) else {
                continue;
            };
            let has = after
                .visible_section_ids(&server.machine_id, *account)
                .unwrap_or_default();
            let lost: Vec<_> = had.difference(&has).collect();
            assert!(
                lost.is_empty(),
                "account {account} lost {lost:?} on {}",
                server.name
            );
        }
    }
}

/// After applying `approved` (planned against `before`): every planned grant is present and
/// nothing unplanned was granted, on any server.
pub(crate) fn exactly_planned(env: &Env, approved: &Plan, before: &World, after: &World) {
    let planned: BTreeMap<AccountId, BTreeSet<u64>> = approved
        .to_update()
        .map(|u| (u.account_id, u.add_ids.iter().map(|l| l.0).collect()))
        .collect();
    for server in &before.servers {
        for account in after.accounts.keys() {
            let had = before
                .visible_section_ids(&server.machine_id, *account)
                .unwrap_or_default();
            let has = after
                .visible_section_ids(&server.machine_id, *account)
                .unwrap_or_default();
            let gained: BTreeSet<u64> = has.difference(&had).copied().collect();
            let allowed = if server.machine_id == env.dest.machine_id.0 {
                planned
                    .get(&AccountId(*account))
                    .cloned()
                    .unwrap_or_default()
            } else {
                BTreeSet::new()
            };
            // An `All` share gains libraries only when the server does; none are added here.
            assert!(
                gained.is_subset(&allowed),
                "account {account} gained unplanned {:?} on {}",
                gained.difference(&allowed).collect::<Vec<_>>(),
                server.name
            );
            if let Some(want) = planned.get(&AccountId(*account)) {
                if server.machine_id == env.dest.machine_id.0 {
                    assert!(
                        want.is_subset(&has),
                        "account {account} lacks planned {:?}",
                        want.difference(&has).collect::<Vec<_>>()
                    );
                }
            }
        }
    }
}

/// Applying a fresh plan again writes nothing.
pub(crate) async fn second_apply_writes_nothing(env: &Env) {
    env.sandbox.clear_requests();
    let (p, report) = env.plan_and_apply().await;
    assert_eq!(
        p.summary.users_to_update, 0,
        "not converged: {:#?}",
        p.users
    );
    assert_eq!(report.summary.write_requests, 0);
    assert!(
        env.writes().is_empty(),
        "second apply wrote: {:?}",
        env.writes()
    );
}
