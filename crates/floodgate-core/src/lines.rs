//! Decompressed bytes → lines, with a hard cap on line length enforced while reading.
//!
//! A hostile or broken object may hold a 10 GB "line"; [`LineReader`] never buffers more than
//! `max_line_bytes` of one: past the cap it skips to the next newline and reports the line as
//! too long. Lines that sit inside the reader's buffer are returned without a copy.
//! `\r\n` endings are accepted (the `\r` is removed).

use memchr::memchr;
use std::io::{self, BufRead};

/// One line from [`LineReader::next_line`].
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A line within the length cap, without its line ending.
    Text(&'a [u8]),
    /// A line over the cap: only its start (up to the cap) is kept, for the sample.
    TooLong {
        /// The first bytes of the line.
        head: &'a [u8],
        /// Its full length in bytes.
        len: u64,
    },
}

impl<'a> Line<'a> {
    /// The line, or the kept start of a line over the cap: what is known of its beginning.
    pub fn head(&self) -> &'a [u8] {
        match *self {
            Line::Text(t) => t,
            Line::TooLong { head, .. } => head,
        }
    }
}

/// Splits a [`BufRead`] into lines of at most `max_line_bytes`.
pub struct LineReader<R> {
    inner: R,
    max: usize,
    buf: Vec<u8>,
    pending_consume: usize,
    line_no: u64,
    bytes: u64,
    partial: u64,
}

impl<R: BufRead> LineReader<R> {
    /// Read lines of at most `max_line_bytes` bytes (excluding the line ending).
    pub fn new(inner: R, max_line_bytes: usize) -> Self {
        LineReader {
            inner,
            max: max_line_bytes,
            buf: Vec::new(),
            pending_consume: 0,
            line_no: 0,
            bytes: 0,
            partial: 0,
        }
    }

    /// 1-based number of the line last returned.
    pub fn line_no(&self) -> u64 {
        self.line_no
    }

    /// Decompressed bytes consumed so far, line endings included.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Bytes of an unfinished line held when the last read failed (0 if none). A damaged gzip
    /// stream ends in such a fragment; the caller counts it as truncated.
    pub fn partial_len(&self) -> u64 {
        self.partial
    }

    /// The next line, `Ok(None)` at the end. A read error is returned as is; lines before it
    /// were already delivered.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        if self.pending_consume > 0 {
            self.inner.consume(self.pending_consume);
            self.pending_consume = 0;
        }
        self.buf.clear();
        self.partial = 0;
        // Fast path: the whole line is already in the reader's buffer.
        let avail = fill(&mut self.inner)?;
        if avail.is_empty() {
            return Ok(None);
        }
        if let Some(i) = memchr(b'\n', avail) {
            if i <= self.max + 1 {
                self.pending_consume = i + 1;
                self.bytes += i as u64 + 1;
                self.line_no += 1;
                let line = trim_cr(&avail[..i]);
                if line.len() <= self.max {
                    // Re-borrow: the buffer is not touched until the next call.
                    let avail = self.inner.fill_buf()?;
                    return Ok(Some(Line::Text(trim_cr(&avail[..i]))));
                }
            }
        }
        self.slow_path()
    }

    fn slow_path(&mut self) -> io::Result<Option<Line<'_>>> {
        if self.pending_consume > 0 {
            // The fast path found a line just over the cap: undo its bookkeeping.
            self.bytes -= self.pending_consume as u64;
            self.line_no -= 1;
            self.pending_consume = 0;
        }
        let mut len: u64 = 0;
        loop {
            let avail = match fill(&mut self.inner) {
                Ok(a) => a,
                Err(e) => {
                    self.partial = len;
                    return Err(e);
                }
            };
            if avail.is_empty() {
                break; // last line without a newline
            }
            let (chunk, used, done) = match memchr(b'\n', avail) {
                Some(i) => (&avail[..i], i + 1, true),
                None => (avail, avail.len(), false),
            };
            len += chunk.len() as u64;
            // Keep at most max + 1 bytes: enough to tell "too long" and to strip a CR.
            let room = (self.max + 1).saturating_sub(self.buf.len());
            self.buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            self.bytes += used as u64;
            self.inner.consume(used);
            if done {
                break;
            }
        }
        self.line_no += 1;
        // A CR before the newline is not part of the line.
        if self.buf.len() as u64 == len && self.buf.last() == Some(&b'\r') {
            self.buf.pop();
            len -= 1;
        }
        if len > self.max as u64 {
            self.buf.truncate(self.max);
            Ok(Some(Line::TooLong {
                head: &self.buf,
                len,
            }))
        } else {
            Ok(Some(Line::Text(&self.buf)))
        }
    }
}

/// The lines of a buffer of whole lines (one chunk of a parallel read), split exactly as
/// [`LineReader`] splits the same bytes (same `\r\n` handling, same [`Line::TooLong`] heads and
/// lengths) but borrowing from the buffer, so a chunk's records may outlive the iteration
/// until their turn to be counted comes.
pub struct SliceLines<'t> {
    rest: &'t [u8],
    max: usize,
}

impl<'t> SliceLines<'t> {
    /// Split `text` into lines of at most `max_line_bytes` bytes (excluding the line ending).
    pub fn new(text: &'t [u8], max_line_bytes: usize) -> Self {
        SliceLines {
            rest: text,
            max: max_line_bytes,
        }
    }
}

impl<'t> Iterator for SliceLines<'t> {
    type Item = Line<'t>;

    fn next(&mut self) -> Option<Line<'t>> {
        if self.rest.is_empty() {
            return None;
        }
        let (raw, rest) = match memchr(b'\n', self.rest) {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
            None => (self.rest, &[][..]),
        };
        self.rest = rest;
        Some(classify(raw, self.max))
    }
}

/// One line's bytes (without its `\n`) as [`LineReader`] returns them: a `\r` before the
/// newline is dropped when the line fits in `max + 1` bytes (LineReader keeps no more), and a
/// line still longer than `max` is [`Line::TooLong`] with its first `max` bytes.
pub(crate) fn classify(raw: &[u8], max: usize) -> Line<'_> {
    let line = if raw.len() <= max.saturating_add(1) {
        trim_cr(raw)
    } else {
        raw
    };
    if line.len() <= max {
        Line::Text(line)
    } else {
        Line::TooLong {
            head: &line[..max],
            len: line.len() as u64,
        }
    }
}

fn fill<R: BufRead>(r: &mut R) -> io::Result<&[u8]> {
    loop {
        match r.fill_buf() {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    r.fill_buf()
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Read};

    fn collect<R: BufRead>(r: R, max: usize) -> Vec<Result<Vec<u8>, u64>> {
        let mut lr = LineReader::new(r, max);
        let mut out = Vec::new();
        while let Some(l) = lr.next_line().unwrap() {
            out.push(match l {
                Line::Text(t) => Ok(t.to_vec()),
                Line::TooLong { len, .. } => Err(len),
            });
        }
        out
    }

    #[test]
    fn splits_lines_with_and_without_final_newline() {
        let got = collect(&b"a\r\nbb\n\nccc"[..], 10);
        assert_eq!(
            got,
            vec![
                Ok(b"a".to_vec()),
                Ok(b"bb".to_vec()),
                Ok(vec![]),
                Ok(b"ccc".to_vec())
            ]
        );
    }

    #[test]
    fn lines_across_small_buffers_are_joined() {
        let data = b"hello world\nsecond line here\n";
        let got = collect(BufReader::with_capacity(3, &data[..]), 100);
        assert_eq!(
            got,
            vec![
                Ok(b"hello world".to_vec()),
                Ok(b"second line here".to_vec())
            ]
        );
    }

    #[test]
    fn over_long_lines_are_skipped_not_buffered() {
        let mut data = vec![b'x'; 5000];
        data.extend_from_slice(b"\nok\n");
        data.extend_from_slice(&[b'y'; 11]);
        for cap in [2, 7, 64, 8192] {
            let got = collect(BufReader::with_capacity(cap, &data[..]), 10);
            assert_eq!(
                got,
                vec![Err(5000), Ok(b"ok".to_vec()), Err(11)],
                "buffer {cap}"
            );
        }
        // exactly at the cap is accepted, with or without CR
        let got = collect(&b"0123456789\n0123456789\r\n"[..], 10);
        assert_eq!(
            got,
            vec![Ok(b"0123456789".to_vec()), Ok(b"0123456789".to_vec())]
        );
    }

    /// A reader producing `n` bytes of 'a' without ever holding them: a 10 GB line in tests.
    struct Endless(u64);
    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = (buf.len() as u64).min(self.0) as usize;
            buf[..n].fill(b'a');
            self.0 -= n as u64;
            Ok(n)
        }
    }

    #[test]
    fn a_huge_line_uses_bounded_memory() {
        let big = 200 * 1024 * 1024; // 200 MB, streamed
        let mut lr = LineReader::new(BufReader::with_capacity(64 * 1024, Endless(big)), 1024);
        match lr.next_line().unwrap() {
            Some(Line::TooLong { head, len }) => {
                assert_eq!(len, big);
                assert_eq!(head.len(), 1024);
            }
            other => panic!("{other:?}"),
        }
        assert!(lr.buf.capacity() < 64 * 1024);
        assert!(lr.next_line().unwrap().is_none());
    }

    fn owned(l: Line<'_>) -> (Vec<u8>, Option<u64>) {
        match l {
            Line::Text(t) => (t.to_vec(), None),
            Line::TooLong { head, len } => (head.to_vec(), Some(len)),
        }
    }

    proptest::proptest! {
        /// A chunk of a parallel read is split exactly as the one-thread reader splits it.
        #[test]
        fn slice_lines_split_as_the_line_reader_does(
            data in proptest::collection::vec(
                proptest::sample::select(vec![b'a', b'b', b'\r', b'\n']), 0..200),
            max in 0usize..12,
            cap in 1usize..9,
        ) {
            let mut lr = LineReader::new(BufReader::with_capacity(cap, &data[..]), max);
            let mut want = Vec::new();
            while let Some(l) = lr.next_line().unwrap() {
                want.push(owned(l));
            }
            let got: Vec<_> = SliceLines::new(&data, max).map(owned).collect();
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn counts_bytes_and_line_numbers() {
        let mut lr = LineReader::new(&b"ab\ncd\n"[..], 10);
        lr.next_line().unwrap();
        lr.next_line().unwrap();
        assert_eq!(lr.line_no(), 2);
        assert!(lr.next_line().unwrap().is_none());
        assert_eq!(lr.bytes(), 6);
    }
}
