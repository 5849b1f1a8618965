//! Every command tells the same truth, continued (issue 25): `sync` without credentials says
//! so at once.

#[allow(dead_code)] // the helpers the corpus tests share; this file uses a few
mod common;

use common::tmp;
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
