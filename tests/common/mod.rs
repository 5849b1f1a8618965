//! Helpers shared by the end-to-end tests that run the `floodgate` binary over a generated
//! corpus and read its report (botnet_e2e, decoys_e2e).

use ipnet::IpNet;
use serde_json::Value;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh, empty folder for this test process.
pub fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("floodgate-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The repository root: the binary runs from it, as a user in a checkout does.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Runs the binary from the repository root with extra environment; returns what it did.
pub fn run_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_floodgate"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root())
        .output()
        .unwrap()
}

/// Runs the binary from the repository root; returns what it did.
pub fn run(args: &[&str]) -> Output {
    run_env(args, &[])
}

/// Runs the binary, asserts it succeeded, returns its stdout.
pub fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// [`ok`], under the name the corpus tests use.
pub fn floodgate(args: &[&str]) -> String {
    ok(args)
}

/// `report.json` of an output folder.
pub fn report(out: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap()
}

/// Every CIDR of the report's blocklist, IPv4 then IPv6.
pub fn blocklist(r: &Value) -> Vec<IpNet> {
    ["ipv4", "ipv6"]
        .iter()
        .flat_map(|v| r["blocklist"][v].as_array().unwrap().clone())
        .map(|c| c.as_str().unwrap().parse().unwrap())
        .collect()
}

/// The networks the report bans whole and blocks.
pub fn blocked_ranges(r: &Value) -> Vec<&str> {
    r["ranges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["blocked"] == true)
        .map(|x| x["cidr"].as_str().unwrap())
        .collect()
}

/// Whether `ip` is inside one of `list`.
pub fn covered(list: &[IpNet], ip: IpAddr) -> bool {
    list.iter().any(|n| n.contains(&ip))
}
