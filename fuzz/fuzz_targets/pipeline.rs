//! Log bytes → read_object → engine::run with a tiny rule (3 requests in 10s), an allowlist
//! and the new-ban guardrail: the decision respects the allowlist and the guardrail, the
//! blocklist is valid CIDRs, and the new state round-trips.
#![no_main]

use floodgate_core::config::Config;
use floodgate_core::engine::{self, RunInput};
use floodgate_core::pipeline::read_object;
use floodgate_core::state::State;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const CONFIG: &str = r#"
[[rules]]
name = "tiny"
window = "10s"
limit = 3

[ban]
max_new_per_run = 2

[allow]
cidrs = ["10.0.0.0/8", "2001:db8::/32"]
"#;

fuzz_target!(|data: &[u8]| {
    static C: OnceLock<Config> = OnceLock::new();
    let config = C.get_or_init(|| Config::from_toml(CONFIG).expect("valid"));
    let mut state = State::default();
    let Ok((summary, tally)) = read_object(
        config,
        &floodgate_core::lateness::LateLines::of(config, &state),
        "fuzz.log",
        data,
    ) else {
        return;
    };
    let mut input = RunInput::new(config, &state);
    input.add("fuzz.log".into(), summary, tally);
    let d = engine::run(config, &mut state, input, None, false).expect("fresh state");
    assert!(d.kept.len() <= 2, "guardrail: {} new bans", d.kept.len());
    let allow: [ipnet::IpNet; 2] = [
        "10.0.0.0/8".parse().unwrap(),
        "2001:db8::/32".parse().unwrap(),
    ];
    for list in [&d.blocklist.ipv4, &d.blocklist.ipv6] {
        for cidr in list {
            let net: ipnet::IpNet = cidr.parse().expect("blocklist entries are CIDRs");
            assert!(
                !allow.iter().any(|a| a.contains(&net) || net.contains(a)),
                "allowlisted range {net} banned"
            );
        }
    }
    // One save and one load (saving the loaded state again doubled the target's cost): the
    // loaded state equals the saved one field by field, which implies equal bytes on resave.
    let loaded = State::load(&state.save()).expect("loads");
    assert!(loaded == state, "state changed in a save/load round trip");
});
