//! Shared inputs of the benches: small deterministic loggen corpora, held in memory.

use floodgate_loggen::{generate, Compression, Format, Options, Scenario};
use std::io::Read;

/// One format's corpus: the gzip files as written and their decompressed lines.
#[allow(dead_code)] // each bench binary uses a different part
pub struct Corpus {
    /// The gzip objects (multi-member as AWS writes them).
    pub gzip: Vec<Vec<u8>>,
    /// All decompressed bytes, files concatenated.
    pub plain: Vec<u8>,
}

impl Corpus {
    /// Lines of the decompressed text (without newlines).
    pub fn lines(&self) -> Vec<&str> {
        std::str::from_utf8(&self.plain)
            .expect("loggen writes UTF-8")
            .lines()
            .collect()
    }
}

/// The corpus for `format`: `$FLOODGATE_BENCH_CORPUS/<format>.log.gz` when that variable names
/// a folder (bench/run.sh points it at the files it times `zcat` on), else about
/// `$FLOODGATE_BENCH_CORPUS_MB` (default 20) MB generated with loggen.
pub fn corpus(format: Format) -> Corpus {
    if let Ok(dir) = std::env::var("FLOODGATE_BENCH_CORPUS") {
        let path = std::path::Path::new(&dir).join(format!("{}.log.gz", format.name()));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut plain = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut plain)
            .expect("gunzip");
        return Corpus {
            gzip: vec![bytes],
            plain,
        };
    }
    let mb: u64 = std::env::var("FLOODGATE_BENCH_CORPUS_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    generated(format, mb)
}

/// Generate about `mb` MB of `format` logs (mixed scenario, seed 3).
pub fn generated(format: Format, mb: u64) -> Corpus {
    let dir = std::env::temp_dir().join(format!(
        "floodgate-bench-{}-{}-{mb}",
        std::process::id(),
        format.name()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let opts = Options {
        scenario: Scenario::Mixed,
        formats: vec![format],
        seed: 3,
        size: Some(mb * 1_000_000),
        compression: Compression::Fast,
        ..Options::default()
    };
    let manifest = generate(&opts, &dir).expect("generate corpus");
    let mut gzip = Vec::new();
    let mut plain = Vec::new();
    for f in &manifest.files {
        let bytes = std::fs::read(dir.join(&f.path)).expect("read corpus file");
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut plain)
            .expect("gunzip");
        gzip.push(bytes);
    }
    let _ = std::fs::remove_dir_all(&dir);
    Corpus { gzip, plain }
}
