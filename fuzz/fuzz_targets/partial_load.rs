//! `partial::decode` on arbitrary bytes (half the time behind a valid magic and version, so the
//! postcard body is reached): an error, or a partial that encodes and decodes back to itself and
//! merges into a state without panicking. A partial is read from the state bucket by the
//! reducer, so whoever can write there must not be able to crash it.
#![no_main]

use floodgate_core::config::Config;
use floodgate_core::partial::{self, MAGIC, VERSION};
use floodgate_core::state::State;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn config() -> &'static Config {
    static C: OnceLock<Config> = OnceLock::new();
    C.get_or_init(|| {
        Config::from_toml(
            "[[rules]]\nname = \"flood\"\nwindow = \"5m\"\nlimit = 100\n\
             [[rules]]\nname = \"errors\"\nwindow = \"1m\"\nlimit = 20\nstatus = [\"4xx\"]\n",
        )
        .expect("valid config")
    })
}

fuzz_target!(|input: &[u8]| {
    let Some(bytes) = floodgate_fuzz::behind_header(input, MAGIC, VERSION) else {
        return;
    };
    let config = config();
    if let Ok(p) = partial::decode(config, &bytes) {
        let again = partial::encode(
            config,
            p.objects.iter().map(|o| (o.id.as_str(), &o.summary, &o.tally)),
            &p.skipped,
        );
        let back = partial::decode(config, &again).expect("an encoded partial decodes");
        assert_eq!(back, p, "decode ∘ encode is the identity");
        let _ = p.into_input(config, &State::default());
    }
});
