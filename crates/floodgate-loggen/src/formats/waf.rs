//! AWS WAF logs (JSON lines, as Kinesis Data Firehose delivers them to S3).

use super::{
    push_rand_hex, replace_first, BAD_IP, BAD_JSON, BAD_TIME, HOST, INVALID_UTF8, NOT_UTF8,
};
use crate::catalog::{query_text, Catalog, UaKind, RES, TLS, UAS};
use crate::model::{Client, Event, Method, FLAG_BLOCKED};
use crate::text::push_u64;
use rand_chacha::ChaCha8Rng;

const HEAD: &str = concat!(
    ",\"formatVersion\":1,\"webaclId\":\"arn:aws:wafv2:us-east-1:123456789012:regional/webacl/floodgate-demo-acl/",
    "3f9b2c1e-5d4a-4e8f-9b7c-0a1d2e3f4a5b\","
);

const ALLOW: &str = concat!(
    "\"terminatingRuleId\":\"Default_Action\",\"terminatingRuleType\":\"REGULAR\",\"action\":\"ALLOW\",",
    "\"terminatingRuleMatchDetails\":[],\"httpSourceName\":\"ALB\",",
    "\"httpSourceId\":\"123456789012-app/floodgate-demo/0123456789abcdef\",",
    "\"ruleGroupList\":[{\"ruleGroupId\":\"AWS#AWSManagedRulesCommonRuleSet\",\"terminatingRule\":null,",
    "\"nonTerminatingMatchingRules\":[],\"excludedRules\":null,\"customerConfig\":null}],",
    "\"rateBasedRuleList\":[],\"nonTerminatingMatchingRules\":[],\"requestHeadersInserted\":null,",
    "\"responseCodeSent\":null,"
);

const BLOCK: &str = concat!(
    "\"terminatingRuleId\":\"AWS-AWSManagedRulesCommonRuleSet\",\"terminatingRuleType\":\"MANAGED_RULE_GROUP\",",
    "\"action\":\"BLOCK\",\"terminatingRuleMatchDetails\":[],\"httpSourceName\":\"ALB\",",
    "\"httpSourceId\":\"123456789012-app/floodgate-demo/0123456789abcdef\",",
    "\"ruleGroupList\":[{\"ruleGroupId\":\"AWS#AWSManagedRulesCommonRuleSet\",\"terminatingRule\":",
    "{\"ruleId\":\"GenericLFI_QUERYARGUMENTS\",\"action\":\"BLOCK\",\"ruleMatchDetails\":null},",
    "\"nonTerminatingMatchingRules\":[],\"excludedRules\":null,\"customerConfig\":null}],",
    "\"rateBasedRuleList\":[],\"nonTerminatingMatchingRules\":[],\"requestHeadersInserted\":null,",
    "\"responseCodeSent\":403,"
);

/// Appends one WAF log line for `ev`.
pub fn write_record(
    buf: &mut Vec<u8>,
    ev: &Event,
    c: &Client,
    cat: &Catalog,
    rng: &mut ChaCha8Rng,
) {
    let blocked = ev.flags & FLAG_BLOCKED != 0;
    let res = &RES[ev.res as usize];
    buf.extend_from_slice(b"{\"timestamp\":");
    push_u64(buf, ev.t as u64);
    buf.extend_from_slice(HEAD.as_bytes());
    buf.extend_from_slice(if blocked { BLOCK } else { ALLOW }.as_bytes());
    buf.extend_from_slice(b"\"httpRequest\":{\"clientIp\":\"");
    buf.extend_from_slice(c.ip_str.as_bytes());
    buf.extend_from_slice(b"\",\"country\":\"");
    buf.extend_from_slice(c.country.as_bytes());
    buf.extend_from_slice(b"\",\"headers\":[{\"name\":\"Host\",\"value\":\"");
    buf.extend_from_slice(HOST.as_bytes());
    buf.extend_from_slice(b"\"},{\"name\":\"User-Agent\",\"value\":");
    buf.extend_from_slice(cat.ua_json[ev.ua as usize].as_bytes());
    buf.extend_from_slice(b"},{\"name\":\"Accept\",\"value\":\"");
    buf.extend_from_slice(accept(res.ctype).as_bytes());
    buf.extend_from_slice(b"\"},{\"name\":\"Accept-Encoding\",\"value\":\"gzip, deflate, br\"}");
    if UAS[ev.ua as usize].1 == UaKind::Browser {
        buf.extend_from_slice(b",{\"name\":\"Accept-Language\",\"value\":\"en-US,en;q=0.9\"}");
    }
    if ev.referer > 0 {
        buf.extend_from_slice(b",{\"name\":\"Referer\",\"value\":\"https://");
        buf.extend_from_slice(HOST.as_bytes());
        buf.extend_from_slice(RES[ev.referer as usize - 1].path.as_bytes());
        buf.extend_from_slice(b"\"}");
    }
    if ev.method == Method::Post {
        buf.extend_from_slice(
            b",{\"name\":\"Content-Type\",\"value\":\"application/x-www-form-urlencoded\"}",
        );
    }
    if let Some(x) = &c.xff {
        buf.extend_from_slice(b",{\"name\":\"X-Forwarded-For\",\"value\":\"");
        buf.extend_from_slice(x.as_bytes());
        buf.extend_from_slice(b"\"}");
    }
    buf.extend_from_slice(b"],\"uri\":\"");
    buf.extend_from_slice(res.path.as_bytes());
    buf.extend_from_slice(b"\",\"args\":\"");
    if blocked {
        buf.extend_from_slice(b"file=../../../../etc/passwd");
    } else {
        buf.extend_from_slice(query_text(ev.query, ev.qseed).as_bytes());
    }
    buf.extend_from_slice(b"\",\"httpVersion\":\"");
    let browser = UAS[ev.ua as usize].1 == UaKind::Browser;
    buf.extend_from_slice(if browser { b"HTTP/2.0" } else { b"HTTP/1.1" });
    buf.extend_from_slice(b"\",\"httpMethod\":\"");
    buf.extend_from_slice(ev.method.as_str().as_bytes());
    buf.extend_from_slice(b"\",\"requestId\":\"1-");
    crate::text::push_hex(buf, (ev.t / 1000) as u64, 8);
    buf.push(b'-');
    push_rand_hex(buf, rng, 24);
    buf.extend_from_slice(b"\"}");
    match UAS[ev.ua as usize].1 {
        _ if blocked => buf.extend_from_slice(
            b",\"labels\":[{\"name\":\"awswaf:managed:aws:core-rule-set:GenericLFI_QueryArguments\"}]",
        ),
        UaKind::SearchBot => buf.extend_from_slice(
            b",\"labels\":[{\"name\":\"awswaf:managed:aws:bot-control:bot:category:search_engine\"},{\"name\":\"awswaf:managed:aws:bot-control:bot:verified\"}]",
        ),
        UaKind::Tool => buf.extend_from_slice(
            b",\"labels\":[{\"name\":\"awswaf:managed:aws:bot-control:signal:non_browser_user_agent\"}]",
        ),
        UaKind::Browser => {}
    }
    let tls = &TLS[ev.tls as usize];
    buf.extend_from_slice(b",\"ja3Fingerprint\":\"");
    buf.extend_from_slice(tls.ja3.as_bytes());
    buf.extend_from_slice(b"\",\"ja4Fingerprint\":\"");
    buf.extend_from_slice(tls.ja4.as_bytes());
    buf.extend_from_slice(b"\"}\n");
}

fn accept(ctype: &str) -> &'static str {
    match ctype {
        "text/html" => "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "application/json" => "application/json, text/plain, */*",
        "text/css" => "text/css,*/*;q=0.1",
        c if c.starts_with("image/") => "image/avif,image/webp,image/apng,*/*;q=0.8",
        _ => "*/*",
    }
}

/// Turns the valid line in `line` (for `c`) into one that a parser must reject for `reason`.
pub fn corrupt(line: &mut Vec<u8>, reason: &str, c: &Client) {
    match reason {
        BAD_JSON => {
            let keep = line.len() * 3 / 5;
            line.truncate(keep);
            line.push(b'\n');
        }
        BAD_IP => {
            let from = format!("\"clientIp\":\"{}\"", c.ip_str);
            replace_first(line, from.as_bytes(), b"\"clientIp\":\"1.2.3\"");
        }
        BAD_TIME => {
            let end = line.iter().position(|&b| b == b',').unwrap_or(0);
            line.splice(
                0..end,
                b"{\"timestamp\":\"02/Nov/2026:08:00:00\"".iter().copied(),
            );
        }
        INVALID_UTF8 => {
            replace_first(
                line,
                b"\"uri\":\"/",
                &[b"\"uri\":\"/".as_slice(), NOT_UTF8].concat(),
            );
        }
        _ => {}
    }
}
