//! `read_log` over arbitrary bytes: as given (gzip or plain, as sniffed), then the same bytes
//! in one of four views: gzip-wrapped in one member, in two members split anywhere, truncated,
//! or under a decompressed-size cap.
//! Every input is also read by `read_log_par` (2 or 3 threads, chunks of 1 to 64 bytes), which
//! must give the identical summary and records.
//! Checks that each line read is a record, a rejection or a blank/header line, exactly once,
//! against a naive model; that gzip changes nothing; and that damage is never silent.
#![no_main]

use floodgate_core::{read_log, read_log_par, FileSummary, IngestError, IngestOptions, Parallel};
use floodgate_fuzz::{check_request, gzip_stored, model, options};
use libfuzzer_sys::fuzz_target;

fn read(data: &[u8], opts: &IngestOptions) -> Result<FileSummary, IngestError> {
    read_with(data, opts, None).0
}

/// `read_log`, or `read_log_par` with `par`; also the records emitted, in order.
fn read_with(
    data: &[u8],
    opts: &IngestOptions,
    par: Option<Parallel>,
) -> (Result<FileSummary, IngestError>, Vec<String>) {
    let mut seen = Vec::new();
    let sink = |r: &floodgate_core::Request<'_>| {
        check_request(r);
        seen.push(format!("{r:?}"));
    };
    let s = match par {
        None => read_log("fuzz.log", data, opts, sink),
        Some(par) => read_log_par("fuzz.log", data, opts, par, sink),
    };
    let s = match s {
        Ok(s) => s,
        Err(e) => return (Err(e), seen),
    };
    assert_eq!(s.records, seen.len() as u64, "records counted = records emitted");
    // Reading stops at damage or the cap, so only a complete read has seen every byte.
    assert!(s.bytes_in <= data.len() as u64, "no byte counted twice");
    if s.complete {
        assert_eq!(s.bytes_in, data.len() as u64, "every input byte counted");
    }
    assert_eq!(s.complete, s.damage.is_none(), "damage is always explained");
    (Ok(s), seen)
}

fuzz_target!(|input: &[u8]| {
    let [b0, b1, data @ ..] = input else { return };
    let opts = options(*b0, *b1);
    let (raw, records) = read_with(data, &opts, None);
    // Read by two or three threads in chunks cut anywhere: the identical result, records in
    // the same order.
    let par = Parallel {
        threads: 2 + usize::from(*b0 & 1),
        chunk_bytes: 1 + usize::from(*b0 >> 1) % 64,
    };
    let (par_raw, par_records) = read_with(data, &opts, Some(par));
    assert_eq!(par_raw, raw, "parallel read differs, {par:?}");
    assert_eq!(par_records, records, "parallel records differ, {par:?}");
    if data.starts_with(&[0x1f, 0x8b]) {
        return; // gzip of fuzz bytes: the checks inside `read` are all we can say
    }
    let m = model(data, &opts);
    let s = match raw {
        Err(IngestError::Unusable { .. }) => {
            assert!(m.unusable, "Unusable on a file the model could read");
            return;
        }
        Ok(s) => s,
    };
    assert!(
        !m.unusable,
        "a format the options cannot read must be a configuration error"
    );
    assert!(s.complete);
    assert_eq!(
        (s.lines, s.records, s.rejected.total(), s.format),
        (m.lines, m.records, m.rejected, m.format),
        "read_log disagrees with the line-by-line model"
    );
    assert_eq!(m.lines, m.record_lines + m.rejected + m.silent);
    assert_eq!(s.bytes_decoded, data.len() as u64);

    // One of four views of the same bytes per input (chosen by b1, which the fuzzer mutates
    // like any other byte), so each execution reads the log twice, not five times.
    match (*b1 >> 3) % 4 {
        // gzip-wrapped in one member of many blocks: identical counts.
        0 => {
            let block = 1 + usize::from(*b0) * 7;
            let g = read(&gzip_stored(data, block), &opts).expect("same format decision as plain");
            assert!(g.gzip && g.complete, "{:?}", g.damage);
            assert_eq!(
                (g.lines, g.records, &g.rejected),
                (s.lines, s.records, &s.rejected)
            );
        }
        // Split into two members anywhere, a line included: identical counts.
        1 => {
            let split = usize::from(*b0).wrapping_mul(31) % (data.len() + 1);
            let mut two = gzip_stored(&data[..split], usize::MAX);
            two.extend(gzip_stored(&data[split..], usize::MAX));
            let t = read(&two, &opts).expect("same format decision as plain");
            assert!(t.gzip && t.complete, "{:?}", t.damage);
            assert_eq!(
                (t.lines, t.records, &t.rejected),
                (s.lines, s.records, &s.rejected)
            );
        }
        // Truncated anywhere after the magic: marked incomplete, never more records than whole.
        2 => {
            let gz = gzip_stored(data, usize::MAX);
            let cut = 2 + usize::from(*b0).wrapping_mul(97) % (gz.len() - 2);
            let c = read(&gz[..cut], &opts).expect("a prefix of the same file");
            assert!(
                !c.complete,
                "truncation at {cut} of {} not reported",
                gz.len()
            );
            assert!(c.records <= s.records);
        }
        // A decompressed-size cap below the size: stopped, said so, fewer or equal lines.
        _ if !data.is_empty() => {
            let cap = data.len() as u64 / 2;
            let capped = IngestOptions {
                max_decoded_bytes: cap,
                ..opts
            };
            let k =
                read(&gzip_stored(data, usize::MAX), &capped).expect("a prefix of the same file");
            assert!(!k.complete);
            assert!(
                k.damage.as_deref().unwrap().contains("cap"),
                "{:?}",
                k.damage
            );
            assert!(k.bytes_decoded <= cap && k.records <= s.records);
        }
        _ => {}
    }
});
