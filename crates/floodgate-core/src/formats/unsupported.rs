//! Logs floodgate does not read but that end up in the same buckets: recognised, so that their
//! lines are rejected as `unsupported_format` with what they are, instead of a field-level
//! error that sends a person looking for a bug.
//!
//! Each kind has a signature on one line ([`identify`]). A file whose first line is one of them
//! is read as that kind (every line rejected, one reason); a line of such a kind inside another
//! format's file (NLB lines in an ALB folder) gets the same reason ([`LineParser`] asks
//! [`identify`] whenever a parser rejects a line).
//!
//! [`LineParser`]: super::LineParser

use super::{Confidence, FileParser, LogFormat, ParseOptions};
use crate::reject::{Reject, RejectReason};
use crate::request::{Format, Request};
use crate::timefmt;

/// The format's name (a file of unsupported lines).
pub const FORMAT: Format = Format::new("unsupported");

/// One kind of log floodgate does not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kind {
    /// What it is, for the rejection's detail.
    pub what: &'static str,
}

const NLB: Kind = Kind {
    what: "a Network Load Balancer access log line (tls 2.0 …): NLB logs carry no HTTP request; not supported",
};
const ALB_CONNECTION: Kind = Kind {
    what: "an ALB connection log line (time, client IP, port, listener port, TLS …): connection logs carry no HTTP request; floodgate reads ALB access logs",
};
const CLASSIC_ELB: Kind = Kind {
    what: "a Classic Load Balancer access log line (time, load balancer name, client:port …): not supported; floodgate reads ALB access logs",
};
const S3_ACCESS: Kind = Kind {
    what: "an S3 server access log line (bucket owner, bucket, [time] …): not supported",
};
const VPC_FLOW: Kind = Kind {
    what: "a VPC flow log line (version, account, eni-…): not supported",
};
const VPC_FLOW_HEADER: Kind = Kind {
    what: "a VPC flow log header line (version account-id interface-id srcaddr …): VPC flow logs carry no HTTP request; not supported",
};

/// The field names of VPC flow logs, as the header line of a flow log file in S3 lists them.
const VPC_FIELDS: &[&str] = &[
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
    "vpc-id",
    "subnet-id",
    "instance-id",
    "tcp-flags",
    "type",
    "pkt-srcaddr",
    "pkt-dstaddr",
    "region",
    "az-id",
    "sublocation-type",
    "sublocation-id",
    "pkt-src-aws-service",
    "pkt-dst-aws-service",
    "flow-direction",
    "traffic-path",
    "ecs-cluster-arn",
    "ecs-cluster-name",
    "ecs-container-instance-arn",
    "ecs-container-instance-id",
    "ecs-container-id",
    "ecs-second-container-id",
    "ecs-service-name",
    "ecs-task-definition-arn",
    "ecs-task-arn",
    "ecs-task-id",
    "reject-reason",
];

/// A VPC flow log header: only flow log field names, at least one of them an address.
fn vpc_header(line: &str) -> bool {
    let mut n = 0;
    let mut address = false;
    for f in line.split(' ').filter(|x| !x.is_empty()) {
        if !VPC_FIELDS.contains(&f) {
            return false;
        }
        address |= matches!(f, "srcaddr" | "dstaddr" | "interface-id");
        n += 1;
    }
    n >= 3 && address
}

/// S3 server access log time, `[06/Feb/2019:00:00:38` then `+0000]`.
fn s3_time(c: &str, d: Option<&str>) -> bool {
    let b = c.as_bytes();
    b.len() == 21
        && b[0] == b'['
        && b[3] == b'/'
        && b[7] == b'/'
        && b[12] == b':'
        && d.is_some_and(|z| (z.starts_with('+') || z.starts_with('-')) && z.ends_with(']'))
}
const CLOUDTRAIL: Kind = Kind {
    what: "a CloudTrail record (Records[] of API events): not supported",
};

fn is_ip(s: &str) -> bool {
    s.parse::<std::net::IpAddr>().is_ok()
}

fn is_ip_port(s: &str) -> bool {
    crate::client_ip::parse_ip_port(s).is_some()
}

/// `YYYY-MM-DDTHH:MM:SS` at the start (NLB writes no fraction and no zone).
fn iso_like(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 19
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
            .iter()
            .all(|&i| b[i].is_ascii_digit())
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Which unsupported kind `line` is, if it is one.
pub fn identify(line: &str) -> Option<Kind> {
    let t = line.trim_start();
    if t.starts_with('{') {
        return (t.contains("\"eventVersion\"") && t.contains("\"eventSource\""))
            .then_some(CLOUDTRAIL);
    }
    let mut f = t.split(' ').filter(|x| !x.is_empty());
    let (a, b, c, d) = (f.next()?, f.next(), f.next(), f.next());
    if a == "tls" && b == Some("2.0") && c.is_some_and(iso_like) {
        return Some(NLB);
    }
    if timefmt::parse_iso_utc(a).is_some() && a.ends_with('Z') {
        if b.is_some_and(is_ip) && c.is_some_and(is_number) && d.is_some_and(is_number) {
            return Some(ALB_CONNECTION);
        }
        if b.is_some_and(|n| !n.contains('/') && !is_ip(n) && !n.contains(':'))
            && c.is_some_and(is_ip_port)
        {
            return Some(CLASSIC_ELB);
        }
    }
    // The bucket owner is a 64-hex canonical id in AWS's files, but other tools and examples
    // anonymise it: the bracketed time in the third and fourth fields is signature enough.
    if c.is_some_and(|c| s3_time(c, d))
        || (a.len() == 64
            && a.bytes().all(|x| x.is_ascii_hexdigit())
            && c.is_some_and(|c| c.starts_with('[')))
    {
        return Some(S3_ACCESS);
    }
    if vpc_header(t) {
        return Some(VPC_FLOW_HEADER);
    }
    if is_number(a) && b.is_some_and(is_number) && c.is_some_and(|c| c.starts_with("eni-")) {
        return Some(VPC_FLOW);
    }
    None
}

/// A file of an unsupported kind.
pub struct Unsupported;

impl LogFormat for Unsupported {
    fn format(&self) -> Format {
        FORMAT
    }

    fn describe(&self) -> &'static str {
        "other AWS logs (NLB, ALB connection, Classic ELB, S3 server access, VPC flow logs, CloudTrail): recognised and rejected as unsupported_format"
    }

    fn detect(&self, line: &str) -> Option<Confidence> {
        identify(line).map(|_| Confidence::Certain)
    }

    fn open(&self, _opts: &ParseOptions) -> Result<Box<dyn FileParser>, String> {
        Ok(Box::new(UnsupportedParser))
    }
}

#[derive(Clone)]
struct UnsupportedParser;

impl FileParser for UnsupportedParser {
    fn fork(&self) -> Box<dyn FileParser> {
        Box::new(self.clone())
    }
    fn parse<'a>(
        &mut self,
        line: &'a str,
        _emit: &mut dyn FnMut(Request<'a>),
    ) -> Result<(), Reject> {
        let what = identify(line).map_or("a line of an unsupported log", |k| k.what);
        Err(Reject::new(RejectReason::UnsupportedFormat, what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_by_its_first_fields() {
        let cases = [
            ("tls 2.0 2018-12-20T02:59:40 net/my-nlb/c6e7 g3d4 72.21.218.154:51341 172.100.100.185:443 5 2 98 246 -", NLB),
            ("2023-10-04T17:05:15.514108Z 203.0.113.1 36280 443 TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 4.036 \"CN=x\" - - Success TID_3180", ALB_CONNECTION),
            ("2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 \"GET http://www.example.com:80/ HTTP/1.1\" \"curl/7.38.0\" - -", CLASSIC_ELB),
            ("79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be awsexamplebucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 arn:aws:iam::1:user/x 3E57427F3EXAMPLE REST.GET.VERSIONING - \"GET /awsexamplebucket1?versioning HTTP/1.1\" 200", S3_ACCESS),
            ("2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK", VPC_FLOW),
            (r#"{"Records":[{"eventVersion":"1.08","eventSource":"s3.amazonaws.com"}]}"#, CLOUDTRAIL),
            ("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status", VPC_FLOW_HEADER),
            ("bucketowner my-bucket [06/Feb/2019:00:00:38 +0000] 192.0.2.3 - 3E57427F3EXAMPLE REST.GET.OBJECT key \"GET /key HTTP/1.1\" 200", S3_ACCESS),
        ];
        for (line, kind) in cases {
            assert_eq!(identify(line), Some(kind), "{line}");
        }
        for line in [
            "http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 \"GET http://www.example.com:80/ HTTP/1.1\" \"curl/7.46.0\" - -",
            "2019-12-04\t21:02:31\tLAX1\t392\t192.0.2.100\tGET",
            r#"{"timestamp":1,"httpRequest":{}}"#,
            "version start end",
            "srcaddr dstaddr GET",
            "",
        ] {
            assert_eq!(identify(line), None, "{line}");
        }
    }
}
