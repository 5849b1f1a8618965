//! Every command tells the same truth, continued (issue 25): `sync` without credentials says
//! so at once, `--now` before the logs counts no later offence, and `explain --json` is a
//! documented schema.

#[allow(dead_code)] // the helpers the corpus tests share; this file uses a few
mod common;

use common::{report, tmp};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn floodgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_floodgate"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = floodgate(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A state decided over the sample logs, in a fresh folder.
fn sample_state(name: &str) -> (PathBuf, PathBuf) {
    let dir = tmp(name);
    let state = dir.join("s.state");
    ok(&[
        "analyze",
        "--quiet",
        "--state",
        state.to_str().unwrap(),
        "--out",
        dir.join("o").to_str().unwrap(),
        "sample-logs",
    ]);
    (dir, state)
}

/// Item 8: `sync` with no credentials anywhere (empty environment and home, instance metadata
/// off) fails at once with one line saying what is missing and how to provide it, instead of
/// retrying each call for ~30 s and reporting "throttled" with the SDK's debug text. Without a
/// region (REGIONAL scope) it says that first.
#[test]
fn sync_without_credentials_fails_fast_saying_how_to_provide_them() {
    let (dir, state) = sample_state("nocreds");
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let sync = |extra: &[&str]| {
        let mut args = vec![
            "sync",
            "--state",
            state.to_str().unwrap(),
            "--ipv4-set",
            "floodgate-v4:11111111-2222-3333-4444-555555555555",
            "--scope",
            "REGIONAL",
            // Nothing listens here: a call that got this far would fail, not hang.
            "--endpoint-url",
            "http://127.0.0.1:9",
        ];
        args.extend_from_slice(extra);
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_floodgate"))
            .args(&args)
            .current_dir(root())
            .env_clear()
            .env("HOME", &home)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .unwrap();
        (out, started.elapsed())
    };
    for extra in [
        &["--region", "eu-west-1"][..],
        &["--region", "eu-west-1", "--dry-run"],
    ] {
        let (out, took) = sync(extra);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {err}");
        assert!(err.contains("no AWS credentials found"), "{err}");
        assert!(
            err.contains("AWS_PROFILE") && err.contains("AWS_ACCESS_KEY_ID"),
            "{err}"
        );
        assert!(!err.contains("throttled"), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        // A guard, not a benchmark: the retries took ~30 s.
        assert!(took < Duration::from_secs(15), "{took:?}");
    }
    let (out, _) = sync(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("no AWS region found") && err.contains("--region"),
        "{err}"
    );
}

/// Item 10: `--now` before the logs. An offence after `now` has not happened at `now`: before
/// the first request nothing is banned; in the middle of the brute force, 192.0.2.50's ban
/// holds only the offences up to `now` (its later ones neither count nor extend it).
#[test]
fn now_before_the_logs_counts_no_later_offence() {
    let dir = tmp("now-before");
    let out = dir.join("o");
    let o = out.to_str().unwrap();
    let at = |now: &str| {
        ok(&[
            "analyze",
            "--quiet",
            "--now",
            now,
            "--out",
            o,
            "sample-logs",
        ]);
        report(&out)
    };
    let r = at("2026-11-02T07:00:00Z");
    assert_eq!(r["bans"].as_array().unwrap().len(), 0, "{}", r["bans"]);
    assert_eq!(r["blocklist"]["ipv4"].as_array().unwrap().len(), 0);
    let now = "2026-11-02T08:45:00.000Z";
    let r = at(now);
    let bans = r["bans"].as_array().unwrap();
    assert!(!bans.is_empty());
    for b in bans {
        let last = b["last_offence"].as_str().unwrap();
        assert!(last <= now, "{} offended at {last}, after now", b["cidr"]);
    }
    let brute = bans.iter().find(|b| b["cidr"] == "192.0.2.50/32").unwrap();
    assert_eq!(brute["active"], true);
    assert_eq!(brute["offences"], 5, "{brute}");
    // The same state, explained at the same `now`, agrees.
    let text = ok(&["explain", "192.0.2.50", "--now", now, "sample-logs"]);
    assert!(text.contains("BANNED until 2026-11-03T00:44:58"), "{text}");
}
