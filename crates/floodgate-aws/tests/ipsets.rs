//! IP set sync against the in-memory WAF: ownership, retries, limits, dry run, crash safety.

use floodgate_aws::ipsets::{
    check_capacity, place, sync_ip_sets, IpSetRef, IpVersion, SetView, SyncOptions, SyncTarget,
    WafError,
};
use floodgate_aws::memory::{MemoryIpSets, MemoryStore};
use floodgate_aws::state_store::{S3State, StateBackend};
use floodgate_aws::RetryPolicy;
use floodgate_core::state::State;
use std::collections::BTreeSet;
use std::time::Duration;

const FAST: RetryPolicy = RetryPolicy {
    attempts: 5,
    base: Duration::from_millis(1),
    max: Duration::from_millis(5),
};

fn opts() -> SyncOptions {
    SyncOptions {
        retry: FAST,
        state_retry: FAST,
        min_write_interval: Duration::ZERO,
        ..SyncOptions::default()
    }
}

fn targets() -> Vec<SyncTarget> {
    vec![
        SyncTarget {
            set: IpSetRef::parse("v4set:id4").unwrap(),
            version: IpVersion::V4,
        },
        SyncTarget {
            set: IpSetRef::parse("v6set:id6").unwrap(),
            version: IpVersion::V6,
        },
    ]
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

/// A state whose decision blocks `v4` and `v6`, saved in a fresh store.
async fn setup(v4: &[&str], v6: &[&str]) -> (S3State<MemoryStore>, State) {
    let store = MemoryStore::new();
    let b = S3State {
        store,
        bucket: "state".into(),
        key: "s".into(),
    };
    let mut st = State::default();
    st.blocklist.ipv4 = s(v4);
    st.blocklist.ipv6 = s(v6);
    b.store(st.save(), &None).await.unwrap();
    (b, st)
}

async fn load(b: &S3State<MemoryStore>) -> State {
    b.load().await.unwrap().0
}

#[tokio::test]
async fn adds_ours_keeps_foreign_and_records_ownership() {
    let waf = MemoryIpSets::new();
    waf.create("id4", &["192.0.2.7/32"]);
    waf.create("id6", &[]);
    let (b, st) = setup(&["198.51.100.1/32", "198.51.100.2/32"], &["2001:db8::/64"]).await;
    let r = sync_ip_sets(&waf, &b, &st, &targets(), &opts()).await;
    assert_eq!(r.writes(), 2);
    assert_eq!(r.failures(), 0);
    assert_eq!(
        waf.addresses("id4"),
        s(&["192.0.2.7/32", "198.51.100.1/32", "198.51.100.2/32"])
    );
    assert_eq!(waf.addresses("id6"), s(&["2001:db8::/64"]));
    let st = load(&b).await;
    assert_eq!(
        st.ip_sets["id4"],
        s(&["198.51.100.1/32", "198.51.100.2/32"])
            .into_iter()
            .collect::<BTreeSet<_>>()
    );
    assert_eq!(st.ip_sets["id6"].len(), 1);

    // The ban on .1 ends: only it goes; the foreign entry stays.
    let mut next = st.clone();
    next.blocklist.ipv4 = s(&["198.51.100.2/32"]);
    let r = sync_ip_sets(&waf, &b, &next, &targets(), &opts()).await;
    assert_eq!(r.sets[0].removed, s(&["198.51.100.1/32"]));
    assert_eq!(
        waf.addresses("id4"),
        s(&["192.0.2.7/32", "198.51.100.2/32"])
    );
    assert_eq!(load(&b).await.ip_sets["id4"].len(), 1);
}

#[tokio::test]
async fn unchanged_sets_cost_one_read_and_no_write() {
    let waf = MemoryIpSets::new();
    waf.create("id4", &["192.0.2.7/32", "198.51.100.1/32"]);
    waf.create("id6", &[]);
    let (b, mut st) = setup(&["198.51.100.1/32"], &[]).await;
    st.ip_sets
        .insert("id4".into(), ["198.51.100.1/32".to_string()].into());
    b.store(st.save(), &b.load().await.unwrap().1)
        .await
        .unwrap();
    let puts = b.store.puts().len();
    let r = sync_ip_sets(&waf, &b, &st, &targets(), &opts()).await;
    assert_eq!(waf.calls(), (2, 0));
    assert_eq!(r.writes(), 0);
    assert_eq!(b.store.puts().len(), puts, "no state write either");
}

#[tokio::test]
async fn a_foreign_entry_we_also_want_stays_foreign() {
    let waf = MemoryIpSets::new();
    waf.create("id4", &["198.51.100.1/32"]);
    waf.create("id6", &[]);
    let (b, st) = setup(&["198.51.100.1/32"], &[]).await;
    let r = sync_ip_sets(&waf, &b, &st, &targets(), &opts()).await;
    assert_eq!(r.writes(), 0);
    let mut later = load(&b).await;
    assert!(!later.ip_sets.contains_key("id4"));
    later.blocklist.ipv4.clear();
    sync_ip_sets(&waf, &b, &later, &targets(), &opts()).await;
    assert_eq!(
        waf.addresses("id4"),
        s(&["198.51.100.1/32"]),
        "not ours to remove"
    );
}

#[tokio::test]
async fn optimistic_lock_conflict_rereads_and_keeps_the_other_writers_entry() {
    let waf = MemoryIpSets::new();
    waf.create("id4", &[]);
    waf.create("id6", &[]);
    waf.race_next_update(s(&["203.0.113.9/32"]));
    let (b, st) = setup(&["198.51.100.1/32"], &[]).await;
    let r = sync_ip_sets(&waf, &b, &st, &targets(), &opts()).await;
    assert_eq!(r.sets[0].conflicts, 1);
    assert!(r.sets[0].wrote);
    assert_eq!(
        waf.addresses("id4"),
        s(&["198.51.100.1/32", "203.0.113.9/32"])
    );
    assert_eq!(load(&b).await.ip_sets["id4"].len(), 1);
}

#[tokio::test(start_paused = true)]
async fn throttling_backs_off_then_succeeds_or_reports() {
    let waf = MemoryIpSets::new();
    waf.create("id4", &[]);
    waf.create("id6", &[]);
    waf.fail_next_updates(vec![
        WafError::Throttled("WAFLimitsExceededException".into()),
        WafError::Throttled("ThrottlingException".into()),
    ]);
    let (b, st) = setup(&["198.51.100.1/32"], &[]).await;
    let o = SyncOptions {
        retry: RetryPolicy::WAF,
        ..opts()
    };
    let start = tokio::time::Instant::now();
    let r = sync_ip_sets(&waf, &b, &st, &targets(), &o).await;
    assert_eq!(r.sets[0].throttled, 2);
    assert!(r.sets[0].wrote);
    assert!(
        start.elapsed() <= Duration::from_secs(3),
        "backoff is bounded: {:?}",
        start.elapsed()
    );

    // Throttled on every attempt: a reported failure, not a hang.
    let mut next = load(&b).await;
    next.blocklist.ipv4 = s(&["198.51.100.2/32"]);
    waf.fail_next_updates(vec![WafError::Throttled("x".into()); 10]);
    let r = sync_ip_sets(&waf, &b, &next, &targets(), &o).await;
    assert_eq!(r.failures(), 1);
    assert_eq!(r.sets[0].throttled, 5);
}

#[tokio::test]
async fn over_capacity_sends_at_most_the_limit_and_reports_the_rest() {
    let waf = MemoryIpSets::new();
    waf.create("id4", &["192.0.2.1/32", "192.0.2.2/32"]);
    waf.create("id6", &[]);
    let (b, st) = setup(
        &["198.51.100.1/32", "198.51.100.2/32", "198.51.100.3/32"],
        &[],
    )
    .await;
    let o = SyncOptions {
        capacity: 4,
        ..opts()
    };
    let r = sync_ip_sets(&waf, &b, &st, &targets(), &o).await;
    assert_eq!(waf.addresses("id4").len(), 4);
    assert_eq!(r.sets[0].not_fitted, s(&["198.51.100.3/32"]));
    assert_eq!(r.sets[0].foreign_kept, 2);
    // The plan keeps what is already in, ahead of new entries.
    let current = s(&["10.0.0.1/32", "198.51.100.3/32"]);
    let owned = ["198.51.100.3/32".to_string()].into();
    let p = place(
        &[SetView {
            current: &current,
            owned: &owned,
        }],
        &s(&["198.51.100.1/32", "198.51.100.3/32"]),
        2,
    )
    .remove(0);
    assert_eq!(p.addresses, s(&["10.0.0.1/32", "198.51.100.3/32"]));
    assert_eq!(p.not_fitted, s(&["198.51.100.1/32"]));
}

#[tokio::test]
async fn dry_run_never_writes() {
    let waf = MemoryIpSets::new();
    waf.create("id4", &[]);
    waf.create("id6", &[]);
    let (b, st) = setup(&["198.51.100.1/32"], &["2001:db8::/64"]).await;
    let puts = b.store.puts().len();
    let o = SyncOptions {
        dry_run: true,
        ..opts()
    };
    let r = sync_ip_sets(&waf, &b, &st, &targets(), &o).await;
    assert_eq!(waf.calls(), (2, 0));
    assert_eq!(
        r.sets[0].added,
        s(&["198.51.100.1/32"]),
        "what it would do is reported"
    );
    assert_eq!(b.store.puts().len(), puts);
}

#[tokio::test]
async fn a_failed_write_after_recording_ownership_is_repaired_next_time() {
    let waf = MemoryIpSets::new();
    waf.create("id4", &[]);
    waf.create("id6", &[]);
    waf.fail_next_updates(vec![WafError::Other("AccessDenied".into())]);
    let (b, st) = setup(&["198.51.100.1/32"], &[]).await;
    let r = sync_ip_sets(&waf, &b, &st, &targets(), &opts()).await;
    assert_eq!(r.failures(), 1);
    // Ownership was recorded before the write (as after a crash between write and save).
    let st = load(&b).await;
    assert!(st.ip_sets["id4"].contains("198.51.100.1/32"));
    // The ban ended meanwhile: the next sync forgets the entry it never wrote, writes nothing.
    let mut next = st.clone();
    next.blocklist.ipv4.clear();
    let r = sync_ip_sets(&waf, &b, &next, &targets(), &opts()).await;
    assert_eq!(r.writes(), 0);
    assert!(!load(&b).await.ip_sets.contains_key("id4"));
}

#[test]
fn set_names_parse() {
    assert!(IpSetRef::parse("name:id").is_ok());
    assert!(IpSetRef::parse("nameonly").is_err());
    assert!(IpSetRef::parse(":id").is_err());
    assert!("REGIONAL".parse::<floodgate_aws::Scope>().is_ok());
    assert!("regional".parse::<floodgate_aws::Scope>().is_err());
}

fn v4_targets(n: usize) -> Vec<SyncTarget> {
    (1..=n)
        .map(|i| SyncTarget {
            set: IpSetRef::parse(&format!("v4-{i}:s{i}")).unwrap(),
            version: IpVersion::V4,
        })
        .collect()
}

/// `n` distinct /32s.
fn many(n: u32, from: u32) -> Vec<String> {
    let mut v: Vec<String> = (0..n)
        .map(|i| format!("{}/32", std::net::Ipv4Addr::from(0x0b00_0000 + from + i)))
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn a_flood_larger_than_one_set_fills_several_stably() {
    let waf = MemoryIpSets::new();
    for i in 1..=3 {
        waf.create(&format!("s{i}"), &[]);
    }
    waf.create("s2", &["192.0.2.99/32"]); // someone else's entry, counted against its room
    waf.describe("s1", "floodgate blocklist IPV4");
    let o = SyncOptions {
        capacity: 100,
        ..opts()
    };
    let first = many(250, 0);
    let refs: Vec<&str> = first.iter().map(String::as_str).collect();
    let (b, st) = setup(&refs, &[]).await;
    let r = sync_ip_sets(&waf, &b, &st, &v4_targets(3), &o).await;
    assert_eq!(r.failures(), 0);
    assert_eq!(r.not_fitted(), 0);
    let sets: Vec<Vec<String>> = (1..=3).map(|i| waf.addresses(&format!("s{i}"))).collect();
    assert!(
        sets.iter().all(|s| s.len() <= 100),
        "each set within its capacity"
    );
    assert_eq!(sets.iter().map(Vec::len).sum::<usize>(), 251);
    let mut union: Vec<String> = sets.concat();
    union.retain(|e| e != "192.0.2.99/32");
    union.sort();
    assert_eq!(union, first, "the union is the blocklist");
    assert!(
        sets[1].contains(&"192.0.2.99/32".to_string()),
        "foreign entry kept"
    );
    assert_eq!(
        waf.description("s1").as_deref(),
        Some("floodgate blocklist IPV4"),
        "UpdateIPSet keeps the description"
    );

    // Unchanged: three reads, no write.
    let st = load(&b).await;
    let writes = waf.writes().len();
    let r = sync_ip_sets(&waf, &b, &st, &v4_targets(3), &o).await;
    assert_eq!((r.writes(), waf.writes().len()), (0, writes));

    // Ten new bans and one ended: every ban keeps its set; the new ones go where there is
    // room (the removal's set), so two sets are written, not three.
    let mut next = load(&b).await;
    let gone = waf.addresses("s3")[0].clone();
    let mut want = first.clone();
    want.retain(|e| *e != gone);
    want.extend(many(10, 10_000));
    want.sort();
    next.blocklist.ipv4 = want.clone();
    let before: Vec<Vec<String>> = (1..=3).map(|i| waf.addresses(&format!("s{i}"))).collect();
    let r = sync_ip_sets(&waf, &b, &next, &v4_targets(3), &o).await;
    assert_eq!(r.not_fitted(), 0);
    let after: Vec<Vec<String>> = (1..=3).map(|i| waf.addresses(&format!("s{i}"))).collect();
    for (b, a) in before.iter().zip(&after) {
        for e in b {
            if *e != gone {
                assert!(a.contains(e), "{e} moved");
            }
        }
    }
    let touched = before.iter().zip(&after).filter(|(b, a)| b != a).count();
    assert_eq!(r.writes() as usize, touched);
    assert!(touched <= 2, "{touched} sets written");
}

#[tokio::test(start_paused = true)]
async fn writes_are_paced_for_the_account_limit() {
    let waf = MemoryIpSets::new();
    for i in 1..=3 {
        waf.create(&format!("s{i}"), &[]);
    }
    let o = SyncOptions {
        capacity: 10,
        min_write_interval: Duration::from_secs(1),
        ..opts()
    };
    let want = many(30, 0);
    let refs: Vec<&str> = want.iter().map(String::as_str).collect();
    let (b, st) = setup(&refs, &[]).await;
    let r = sync_ip_sets(&waf, &b, &st, &v4_targets(3), &o).await;
    assert_eq!(r.writes(), 3);
    let w = waf.writes();
    for pair in w.windows(2) {
        assert!(pair[1].2 - pair[0].2 >= Duration::from_secs(1), "{w:?}");
    }
}

#[tokio::test]
async fn what_fits_in_no_set_is_reported_not_lost() {
    let waf = MemoryIpSets::new();
    waf.create("s1", &[]);
    waf.create("s2", &[]);
    let o = SyncOptions {
        capacity: 10,
        ..opts()
    };
    let want = many(25, 0);
    let refs: Vec<&str> = want.iter().map(String::as_str).collect();
    let (b, st) = setup(&refs, &[]).await;
    let r = sync_ip_sets(&waf, &b, &st, &v4_targets(2), &o).await;
    assert_eq!(r.not_fitted(), 5);
    assert_eq!(r.sets[1].not_fitted.len(), 5);
}

/// Issue "one truth", item 8: with `max_entries` left out the capacity follows the sets given:
/// one set per version starts, three IPv4 sets with one IPv6 set is a valid configuration.
#[test]
fn without_max_entries_the_capacity_follows_the_sets_given() {
    let config = floodgate_core::config::Config::default();
    assert!(check_capacity(&config.ban, &v4_targets(1), ["a", "b"]).is_ok());
    let mut targets = v4_targets(3);
    targets.push(SyncTarget {
        set: IpSetRef::parse_list("six:6").unwrap().remove(0),
        version: IpVersion::V6,
    });
    assert!(check_capacity(&config.ban, &targets, ["a", "b"]).is_ok());
    let mut ban = config.ban.clone();
    ban.ip_sets = Some((3, 1));
    assert_eq!((ban.capacity(true), ban.capacity(false)), (30_000, 10_000));
    // a per-version capacity must fit that version's sets only
    let per = floodgate_core::config::Config::from_toml(
        "[[rules]]\nname = \"r\"\nwindow = \"1m\"\nlimit = 5\n[ban]\nmax_entries_ipv4 = 30000\nmax_entries_ipv6 = 10000\n",
    )
    .unwrap();
    assert!(check_capacity(&per.ban, &targets, ["a", "b"]).is_ok());
    let e = check_capacity(&per.ban, &v4_targets(2), ["--ipv4-set", "b"]).unwrap_err();
    assert!(e[0].contains("ban.max_entries_ipv4 = 30000"), "{e:?}");
}

#[test]
fn fewer_sets_than_max_entries_needs_is_an_error() {
    let config = floodgate_core::config::Config::from_toml(
        "[[rules]]\nname = \"r\"\nwindow = \"1m\"\nlimit = 5\n[ban]\nmax_entries = 25000\n",
    )
    .unwrap();
    let e = check_capacity(&config.ban, &v4_targets(2), ["--ipv4-set", "--ipv6-set"]).unwrap_err();
    assert_eq!(e.len(), 1);
    assert!(
        e[0].contains("--ipv4-set") && e[0].contains("needs 3") && e[0].contains("2 given"),
        "{e:?}"
    );
    assert!(check_capacity(&config.ban, &v4_targets(3), ["a", "b"]).is_ok());
    let mut twice = v4_targets(3);
    twice.push(twice[0].clone());
    assert!(check_capacity(&config.ban, &twice, ["a", "b"]).unwrap_err()[0].contains("twice"));
    assert_eq!(IpSetRef::parse_list("a:1, b:2").unwrap().len(), 2);
    assert!(IpSetRef::parse_list("a:1,b").is_err());
    assert!(IpSetRef::parse_list(" ").is_err());
}

/// Invocation A commits, then B commits a newer blocklist and syncs it, then A's (slower)
/// sync runs: the sink syncs A's blocklist, finds B's in the state and syncs that, so the sets
/// end equal to the newest commit instead of A's older decision.
#[tokio::test]
async fn a_late_sync_of_an_older_commit_ends_on_the_newest_blocklist() {
    use floodgate_aws::sinks::{DecisionSink, IpSetSink, Outcome};
    let waf = MemoryIpSets::new();
    waf.create("id4", &[]);
    waf.create("id6", &[]);
    let (b, newest) = setup(&["198.51.100.2/32", "198.51.100.3/32"], &[]).await;
    let r = sync_ip_sets(&waf, &b, &newest, &targets(), &opts()).await;
    assert_eq!(r.writes(), 1);
    let mut older = State::default();
    older.blocklist.ipv4 = s(&["198.51.100.1/32"]);
    let sink = IpSetSink {
        waf: waf.clone(),
        backend: b.clone(),
        targets: targets(),
        options: opts(),
    };
    let config = floodgate_core::config::Config::default();
    let decision = floodgate_core::decision::Decision::default();
    let outcome = Outcome {
        config: &config,
        state: &older,
        decision: &decision,
        now_ms: 0,
        run: "a",
        dry_run: false,
        state_conflicts: 0,
        started: std::time::Instant::now(),
    };
    let d = sink.deliver(&outcome, &[]).await;
    let sync = d.sync.expect("a sync report");
    assert_eq!(sync.resyncs, 1, "{sync:?}");
    assert!(sync.sets[0].wrote);
    assert_eq!(waf.addresses("id4"), newest.blocklist.ipv4);
    // The state already on the newest blocklist: one sync, no second read-and-sync round.
    let d = sink
        .deliver(
            &Outcome {
                state: &load(&b).await,
                ..outcome
            },
            &[],
        )
        .await;
    assert_eq!(d.sync.unwrap().resyncs, 0);
    assert_eq!(waf.addresses("id4"), newest.blocklist.ipv4);
}

/// Ownership costs at most one state write per IP version before its UpdateIPSet calls (the
/// additions of all its sets) and one after all of them (what changed besides), however many
/// sets change: each is a whole-state commit that concurrent invocations contend on.
#[tokio::test]
async fn a_sync_of_many_sets_records_ownership_in_two_state_writes() {
    let waf = MemoryIpSets::new();
    let mut t = Vec::new();
    for id in ["a4", "b4", "c4"] {
        waf.create(id, &[]);
        t.push(SyncTarget {
            set: IpSetRef::parse(&format!("{id}:{id}")).unwrap(),
            version: IpVersion::V4,
        });
    }
    waf.create("id6", &[]);
    t.push(targets().remove(1));
    let v4: Vec<String> = (1..=6).map(|i| format!("198.51.100.{i}/32")).collect();
    let v4: Vec<&str> = v4.iter().map(String::as_str).collect();
    let (b, st) = setup(&v4, &["2001:db8::/64"]).await;
    let puts = || b.store.puts().iter().filter(|(_, k)| k == "s").count();
    let before = puts();
    let o = SyncOptions {
        capacity: 2,
        ..opts()
    };
    let r = sync_ip_sets(&waf, &b, &st, &t, &o).await;
    assert_eq!((r.writes(), r.failures()), (4, 0), "{r:?}");
    assert_eq!(
        puts() - before,
        2,
        "one before each IP version's writes; after them nothing is left to record"
    );
    let owned = load(&b).await.ip_sets;
    for id in ["a4", "b4", "c4", "id6"] {
        let want: BTreeSet<String> = waf.addresses(id).into_iter().collect();
        assert_eq!(owned[id], want, "{id}");
    }

    // Bans end in two sets: one state write, after both set writes.
    let mut next = load(&b).await;
    next.blocklist.ipv4 = s(&["198.51.100.1/32", "198.51.100.2/32"]);
    next.blocklist.ipv6 = s(&["2001:db8::/64"]);
    let before = puts();
    let r = sync_ip_sets(&waf, &b, &next, &t, &o).await;
    assert_eq!(r.failures(), 0, "{r:?}");
    assert_eq!(puts() - before, 1);
    let owned = load(&b).await.ip_sets;
    let all: BTreeSet<String> = owned.values().flatten().cloned().collect();
    assert_eq!(
        all,
        s(&["198.51.100.1/32", "198.51.100.2/32", "2001:db8::/64"])
            .into_iter()
            .collect()
    );
}
