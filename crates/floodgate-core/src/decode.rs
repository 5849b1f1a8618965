//! Bytes → decompressed bytes, streaming, whatever the producer wrote.
//!
//! AWS writes gzip, and Firehose (WAF) and ALB write *multi-member* gzip: several complete gzip
//! streams back to back. [`open`] sniffs the gzip magic (`1f 8b`) and reads every member with
//! flate2's `MultiGzDecoder` (zlib-rs backend); anything else is read as plain text. Nothing is
//! read whole into memory. A cap on decompressed bytes ([`CappedReader`]) stops gzip bombs.

use flate2::bufread::MultiGzDecoder;
use std::io::{self, BufRead, BufReader, Read};

/// Buffer size for both the compressed and the decompressed side.
#[cfg(not(fuzzing))]
pub const BUFFER_BYTES: usize = 256 * 1024;
/// Buffer size under the fuzzer: std zero-fills a fresh `BufReader` buffer on its first read,
/// which at 256 KiB per reader cost the `read_log` target most of its time, and a tiny buffer
/// puts line, member and cap boundaries inside the small inputs a fuzzer makes. Nothing
/// depends on the size but speed (the line reader is tested down to 3-byte buffers).
#[cfg(fuzzing)]
pub const BUFFER_BYTES: usize = 256;

/// Whether the input was compressed; reported per file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// gzip, one or more members.
    Gzip,
    /// Plain text.
    Plain,
}

/// A decompressing reader over any byte source. (Not boxed: one per object, on the hot path.)
#[allow(clippy::large_enum_variant)]
pub enum Decoded<R: Read> {
    /// gzip input.
    Gzip(BufReader<MultiGzDecoder<BufReader<R>>>),
    /// Plain input.
    Plain(BufReader<R>),
}

/// Open `input` for reading lines: gzip if it starts with the gzip magic, plain otherwise.
pub fn open<R: Read>(input: R) -> io::Result<(Encoding, Decoded<R>)> {
    let mut raw = BufReader::with_capacity(BUFFER_BYTES, input);
    let head = loop {
        match raw.fill_buf() {
            Ok(b) => break b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    };
    // A one-byte first read could hide the second magic byte; real readers return more, and
    // a file of a single 0x1f byte is not gzip anyway.
    if head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b {
        let gz = MultiGzDecoder::new(raw);
        Ok((
            Encoding::Gzip,
            Decoded::Gzip(BufReader::with_capacity(BUFFER_BYTES, gz)),
        ))
    } else {
        Ok((Encoding::Plain, Decoded::Plain(raw)))
    }
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoded::Gzip(r) => r.read(buf),
            Decoded::Plain(r) => r.read(buf),
        }
    }
}

impl<R: Read> BufRead for Decoded<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self {
            Decoded::Gzip(r) => r.fill_buf(),
            Decoded::Plain(r) => r.fill_buf(),
        }
    }
    fn consume(&mut self, n: usize) {
        match self {
            Decoded::Gzip(r) => r.consume(n),
            Decoded::Plain(r) => r.consume(n),
        }
    }
}

/// Counts the bytes that pass through a reader (the compressed side, for progress and reports).
pub struct CountingReader<R> {
    inner: R,
    count: u64,
    on_read: Option<Box<dyn FnMut(u64) + Send>>,
}

impl<R> CountingReader<R> {
    /// Wrap `inner`; `on_read` (if any) is called with each chunk's size (progress bars).
    pub fn new(inner: R, on_read: Option<Box<dyn FnMut(u64) + Send>>) -> Self {
        CountingReader {
            inner,
            count: 0,
            on_read,
        }
    }
    /// Bytes read so far.
    pub fn count(&self) -> u64 {
        self.count
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        if let Some(f) = self.on_read.as_mut() {
            f(n as u64);
        }
        Ok(n)
    }
}

/// Stops with an error once more than `limit` decompressed bytes were produced, so one
/// hostile object (a gzip bomb) cannot run a batch out of time.
pub struct CappedReader<R> {
    inner: R,
    remaining: u64,
}

/// The error kind [`CappedReader`] reports; the message names the cap.
pub const CAP_EXCEEDED: io::ErrorKind = io::ErrorKind::FileTooLarge;

impl<R> CappedReader<R> {
    /// Allow at most `limit` bytes through.
    pub fn new(inner: R, limit: u64) -> Self {
        CappedReader {
            inner,
            remaining: limit,
        }
    }
}

impl<R: BufRead> Read for CappedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for CappedReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.remaining == 0 {
            // Only an error if there is actually more data behind the cap.
            if !self.inner.fill_buf()?.is_empty() {
                return Err(io::Error::new(
                    CAP_EXCEEDED,
                    "decompressed size cap reached",
                ));
            }
            return Ok(&[]);
        }
        let buf = self.inner.fill_buf()?;
        let n = buf
            .len()
            .min(self.remaining.min(usize::MAX as u64) as usize);
        Ok(&buf[..n])
    }
    fn consume(&mut self, n: usize) {
        self.remaining -= n as u64;
        self.inner.consume(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use flate2::Compression;
    use std::io::Write;

    pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn read_all<R: Read>(input: R) -> (Encoding, io::Result<Vec<u8>>) {
        let (enc, mut d) = open(input).unwrap();
        let mut out = Vec::new();
        let r = d.read_to_end(&mut out).map(|_| out);
        (enc, r)
    }

    #[test]
    fn reads_every_member_of_a_multi_member_gzip() {
        let mut data = gzip(b"one\n");
        data.extend(gzip(b"two\n"));
        data.extend(gzip(b"three\n"));
        let (enc, out) = read_all(&data[..]);
        assert_eq!(enc, Encoding::Gzip);
        assert_eq!(out.unwrap(), b"one\ntwo\nthree\n");
    }

    #[test]
    fn plain_text_passes_through() {
        let (enc, out) = read_all(&b"{\"a\":1}\n"[..]);
        assert_eq!(enc, Encoding::Plain);
        assert_eq!(out.unwrap(), b"{\"a\":1}\n");
        let (enc, out) = read_all(&b""[..]);
        assert_eq!(enc, Encoding::Plain);
        assert!(out.unwrap().is_empty());
    }

    #[test]
    fn truncated_gzip_is_an_error_after_the_good_part() {
        let original: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let data = gzip(&original);
        let cut = &data[..data.len() / 2];
        let (_, mut d) = open(cut).unwrap();
        let mut out = Vec::new();
        assert!(d.read_to_end(&mut out).is_err());
        assert!(!out.is_empty());
        assert!(original.starts_with(&out));
    }

    #[test]
    fn cap_stops_a_bomb() {
        let data = gzip(&vec![b'a'; 5_000_000]);
        let (_, d) = open(&data[..]).unwrap();
        let mut capped = CappedReader::new(d, 1_000_000);
        let mut out = Vec::new();
        let err = capped.read_to_end(&mut out).unwrap_err();
        assert_eq!(err.kind(), CAP_EXCEEDED);
        assert_eq!(out.len(), 1_000_000);
        // exactly at the cap is fine
        let (_, d) = open(&data[..]).unwrap();
        let mut capped = CappedReader::new(d, 5_000_000);
        assert_eq!(capped.read_to_end(&mut Vec::new()).unwrap(), 5_000_000);
    }
}
