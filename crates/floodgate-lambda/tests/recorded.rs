//! The Lambda records the configuration it decides with in the state (extension `config`, as
//! the CLI records `--config`), so `floodgate report --state s3://…` decides with the Lambda's
//! configuration and not the built-in one.

mod common;

use common::*;
use floodgate_aws::memory::MemoryStore;
use floodgate_core::config::Config;
use floodgate_core::engine;

/// After a flood, the state holds `FLOODGATE_CONFIG_TOML` as given, and deciding the saved
/// state again with it gives the Lambda's blocklist (the built-in rules, limit 300 per 5 min,
/// would ban nobody: without the record, `report` showed an empty blocklist).
#[tokio::test]
async fn the_state_records_the_inline_configuration() {
    let (store, waf) = (MemoryStore::new(), sets());
    let a = app(&store, &waf).await;
    a.handle(awslogs("aws-waf-logs-site", "s", &waf_flood(5)), "r1")
        .await
        .unwrap();
    let st = state(&store);
    let recorded = st
        .config
        .clone()
        .expect("the Lambda records its configuration");
    assert_eq!(recorded.text, CONFIG);
    assert!(recorded.files.is_empty());
    let now = st.last_run.now_ms;
    let with_record = engine::decide_again(&recorded.compile().unwrap(), &st, now);
    assert_eq!(with_record.blocklist, st.blocklist);
    assert!(!with_record.blocklist.ipv4.is_empty());
    let builtin = engine::decide_again(&Config::default(), &st, now);
    assert!(builtin.blocklist.ipv4.is_empty(), "the test would not tell");
    // The scheduled event records it too (a state first written by a schedule has it).
    let (store2, waf2) = (MemoryStore::new(), sets());
    let b = app(&store2, &waf2).await;
    b.handle(
        serde_json::json!({"source": "aws.events", "detail-type": "Scheduled Event"}),
        "r2",
    )
    .await
    .unwrap();
    assert_eq!(
        state(&store2).config.map(|c| c.text),
        Some(CONFIG.to_string())
    );
}

/// `FLOODGATE_CONFIG_S3` with an allowlist file next to it, `FLOODGATE_ALLOW_FILES` and
/// `FLOODGATE_WEB_ACL_ARNS`: the record names every file it read, writes the environment's
/// replacements into its text, and compiles to the configuration the Lambda decided with.
#[tokio::test]
async fn the_record_holds_the_files_and_the_environments_replacements() {
    let (store, waf) = (MemoryStore::new(), sets());
    let text = format!("{CONFIG}\n[allow]\ncidrs = []\nfiles = [\"office.txt\"]\n");
    store.insert("cfg", "floodgate/floodgate.toml", text.clone());
    store.insert("cfg", "floodgate/office.txt", "198.18.7.0/24\n");
    store.insert("cfg", "vpn.txt", "# the VPN\n198.19.0.0/16\n");
    let s = settings(&[
        ("FLOODGATE_CONFIG_TOML", ""),
        ("FLOODGATE_CONFIG_S3", "s3://cfg/floodgate/floodgate.toml"),
        ("FLOODGATE_ALLOW_FILES", "s3://cfg/vpn.txt"),
        ("FLOODGATE_WEB_ACL_ARNS", ACL),
    ]);
    let a = app_with(&store, &waf, s).await;
    a.handle(awslogs("aws-waf-logs-site", "s", &waf_flood(3)), "r1")
        .await
        .unwrap();
    let st = state(&store);
    let recorded = st.config.clone().unwrap();
    assert_eq!(
        recorded.files.keys().collect::<Vec<_>>(),
        ["office.txt", "s3://cfg/vpn.txt"]
    );
    let compiled = recorded.compile().unwrap();
    let nets = |c: &Config| ipnet::IpNet::aggregate(&c.allow);
    assert_eq!(nets(&compiled), nets(&a.config));
    assert_eq!(nets(&compiled).len(), 2, "{:?}", compiled.allow);
    assert_eq!(compiled.source.web_acls, a.config.source.web_acls);
    assert_eq!(compiled.source.web_acls, [ACL]);
    let again = engine::decide_again(&compiled, &st, st.last_run.now_ms);
    assert_eq!(again.blocklist, st.blocklist);
    assert!(!again.blocklist.ipv4.is_empty());
}
