//! IP set sync against the in-memory WAF: ownership, retries, limits, dry run, crash safety.

use floodgate_aws::ipsets::{
    plan, sync_ip_sets, IpSetRef, IpVersion, SyncOptions, SyncTarget, WafError,
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
    let p = plan(
        &s(&["10.0.0.1/32", "198.51.100.3/32"]),
        &["198.51.100.3/32".to_string()].into(),
        &s(&["198.51.100.1/32", "198.51.100.3/32"]),
        2,
    );
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
