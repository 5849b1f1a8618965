//! JSON documents spread over several lines (pretty-printed), as AWS documentation prints WAF
//! records and CloudTrail files. AWS delivers WAF logs (and CloudFront's JSON logs) one object
//! per line, which is what floodgate reads; a pretty-printed document has no line that is a
//! record, so each of its lines would otherwise be rejected as `unknown_format` with nothing
//! saying why.
//!
//! A document starts at a line that opens an object or array and stops there (`{`, `[`,
//! `{"Records": [`). From then on, lines no format recognises are rejected as
//! `unsupported_format` with [`Document::detail`], which names the kind (WAF, CloudTrail,
//! CloudFront) as soon as one of its keys has been seen. [`Document::final_detail`] is the
//! detail with everything the file showed, for the samples kept before the kind was known.

/// What a pretty-printed document turned out to be, from its keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DocKind {
    /// No key that names a kind yet.
    #[default]
    Unknown,
    /// A WAF log record (`httpRequest`, `webaclId`, `terminatingRuleId`).
    Waf,
    /// A CloudTrail file or record (`eventVersion` with an AWS `eventSource`, `userIdentity` …).
    CloudTrail,
    /// A CloudFront standard logging v2 JSON record (`c-ip`, `cs-method` …).
    CloudfrontJson,
}

/// The generic detail, before a key names the kind.
pub const GENERIC: &str = "a JSON document spread over several lines (pretty-printed): floodgate reads one JSON object per line, as AWS delivers WAF logs; `jq -c .` compacts a pretty-printed record";
const WAF: &str = "a WAF log record spread over several lines (pretty-printed, as in AWS documentation): floodgate reads one JSON object per line, as AWS delivers WAF logs; `jq -c .` compacts it";
const CLOUDTRAIL: &str = "a CloudTrail document spread over several lines (pretty-printed): CloudTrail records carry no HTTP request and are not supported; floodgate reads WAF, CloudFront and ALB logs";
const CLOUDFRONT_JSON: &str = "a CloudFront standard logging (v2) JSON record spread over several lines (pretty-printed): floodgate reads one JSON object per line, as AWS delivers them; `jq -c .` compacts it";

/// A pretty-printed document being read (per file).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Document {
    kind: DocKind,
}

/// Whether `line` opens a JSON object or array and stops there: the first line of a
/// pretty-printed document.
pub fn opens(line: &str) -> bool {
    let t = line.trim();
    (t.starts_with('{') || t.starts_with('[')) && (t.ends_with('{') || t.ends_with('['))
}

impl Document {
    /// Take in one line of the document (keys that name its kind).
    pub fn observe(&mut self, line: &str) {
        if self.kind != DocKind::Unknown {
            return;
        }
        let has = |k: &str| line.contains(k);
        self.kind = if has("\"httpRequest\"") || has("\"webaclId\"") || has("\"terminatingRuleId\"")
        {
            DocKind::Waf
        } else if has("\"userIdentity\"") && has("\"arn:aws:")
            || has("\"recipientAccountId\"")
            || has("\"eventCategory\"")
            || has("\"managementEvent\"")
            || (has("\"eventSource\"") && has(".amazonaws.com\""))
        {
            DocKind::CloudTrail
        } else if has("\"c-ip\"") || has("\"cs-method\"") || has("\"x-edge-location\"") {
            DocKind::CloudfrontJson
        } else {
            DocKind::Unknown
        };
    }

    /// The kind seen so far.
    pub fn kind(&self) -> DocKind {
        self.kind
    }

    /// The rejection detail for a line of this document, as far as it is known.
    pub fn detail(&self) -> &'static str {
        match self.kind {
            DocKind::Unknown => GENERIC,
            DocKind::Waf => WAF,
            DocKind::CloudTrail => CLOUDTRAIL,
            DocKind::CloudfrontJson => CLOUDFRONT_JSON,
        }
    }

    /// The detail for samples kept with [`GENERIC`] before a later line named the kind.
    pub fn final_detail(&self) -> Option<&'static str> {
        (self.kind != DocKind::Unknown).then(|| self.detail())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openers_and_kinds() {
        for l in ["{", " [", "{\"Records\": [", "[{", "  \"httpRequest\": {"] {
            assert!(opens(l) || l.contains("httpRequest"), "{l}");
        }
        for l in [
            "",
            "}",
            "{\"a\":1}",
            "{\"timestamp\":1,\"httpRequest\":{\"clientIp\"",
            "#Version: 1.0",
        ] {
            assert!(!opens(l), "{l}");
        }
        let mut d = Document::default();
        d.observe("{");
        assert_eq!(d.detail(), GENERIC);
        assert_eq!(d.final_detail(), None);
        d.observe("  \"httpRequest\": {");
        assert_eq!(d.kind(), DocKind::Waf);
        d.observe("\"eventCategory\": \"Management\",");
        assert_eq!(d.kind(), DocKind::Waf, "the first kind named stays");
        let mut c = Document::default();
        c.observe("  \"eventSource\": \"signin.amazonaws.com\",");
        assert_eq!(c.kind(), DocKind::CloudTrail);
        let mut s3 = Document::default();
        s3.observe(r#"  "eventSource": "aws:s3","#);
        assert_eq!(
            s3.kind(),
            DocKind::Unknown,
            "an S3 event notification is not CloudTrail"
        );
        assert!(c.detail().contains("CloudTrail") && WAF.contains("WAF"));
    }
}
