//! Application Load Balancer access logs (space-separated, quoted fields, 5-minute files).

use super::{push_rand_hex, replace_first, BAD_IP, BAD_TIME, HOST, INVALID_UTF8, NOT_UTF8};
use crate::catalog::{query_text, Catalog, UaKind, HEALTH, LOGIN, RES, UAS};
use crate::model::{Client, Event, FLAG_BLOCKED};
use crate::text::{push_fixed, push_u64};
use crate::time::push_iso_micros;
use rand::RngCore;
use rand_chacha::ChaCha8Rng;

const ELB: &str = "app/floodgate-demo/0123456789abcdef";
const TG: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/floodgate-web/73e2d6bc24d8a067";
const CERT: &str =
    "arn:aws:acm:us-east-1:123456789012:certificate/5d0c2b8e-7a41-4f0e-9c3d-2e8b6a1f4c90";
const TARGETS: [&str; 3] = ["10.0.2.11", "10.0.2.12", "10.0.3.21"];

/// Appends one ALB log line for `ev`.
pub fn write_record(
    buf: &mut Vec<u8>,
    ev: &Event,
    c: &mut Client,
    cat: &Catalog,
    rng: &mut ChaCha8Rng,
) {
    let res = &RES[ev.res as usize];
    let blocked = ev.flags & FLAG_BLOCKED != 0;
    let internal = ev.res == HEALTH;
    let browser = UAS[ev.ua as usize].1 == UaKind::Browser;
    let target = TARGETS[(rng.next_u32() % 3) as usize];
    let tport: u64 = if internal { 8080 } else { 80 };
    // The log's `time` is when the response was sent; the event time is that instant.
    let rpt = 1 + rng.next_u32() as u64 % 3; // ms
    let tpt = if internal {
        1 + rng.next_u32() as u64 % 3
    } else {
        3 + rng.next_u32() as u64 % 180
    };
    buf.extend_from_slice(if internal {
        b"http "
    } else if browser {
        b"h2 "
    } else {
        b"https "
    });
    let micros = rng.next_u32() % 1000;
    push_iso_micros(buf, ev.t, micros);
    buf.push(b' ');
    buf.extend_from_slice(ELB.as_bytes());
    buf.push(b' ');
    buf.extend_from_slice(c.ip_str.as_bytes());
    buf.push(b':');
    let (port, conn_id) = super::connection(c, rng);
    push_u64(buf, port as u64);
    if blocked {
        buf.extend_from_slice(b" - -1 -1 -1 403 - ");
    } else {
        buf.push(b' ');
        buf.extend_from_slice(target.as_bytes());
        buf.push(b':');
        push_u64(buf, tport);
        buf.push(b' ');
        push_fixed(buf, rpt, 3);
        buf.push(b' ');
        push_fixed(buf, tpt, 3);
        buf.extend_from_slice(b" 0.000 ");
        push_u64(buf, ev.status as u64);
        buf.push(b' ');
        push_u64(buf, ev.status as u64);
        buf.push(b' ');
    }
    let post = ev.method.as_str() == "POST";
    let ua_len = cat.ua_alb[ev.ua as usize].len() as u64;
    push_u64(
        buf,
        90 + ua_len
            + res.path.len() as u64
            + (rng.next_u32() % 32) as u64
            + if post { 240 } else { 0 },
    );
    buf.push(b' ');
    let sent = match ev.status {
        304 => 210,
        _ if internal => 163,
        400..=599 => 380 + (rng.next_u32() % 60) as u64,
        _ => res.size as u64 + 300 + (rng.next_u32() % 512) as u64,
    };
    push_u64(buf, sent);
    buf.extend_from_slice(b" \"");
    buf.extend_from_slice(ev.method.as_str().as_bytes());
    if internal {
        buf.extend_from_slice(b" http://10.0.0.5:80");
    } else {
        buf.extend_from_slice(b" https://");
        buf.extend_from_slice(HOST.as_bytes());
        buf.extend_from_slice(b":443");
    }
    buf.extend_from_slice(res.path.as_bytes());
    let q = query_text(ev.query, ev.qseed);
    let q = q.as_ref();
    if !q.is_empty() {
        buf.push(b'?');
        buf.extend_from_slice(q.as_bytes());
    }
    buf.extend_from_slice(if browser {
        b" HTTP/2.0\" \""
    } else {
        b" HTTP/1.1\" \""
    });
    buf.extend_from_slice(cat.ua_alb[ev.ua as usize].as_bytes());
    if internal {
        buf.extend_from_slice(b"\" - - ");
    } else {
        buf.extend_from_slice(b"\" TLS_AES_128_GCM_SHA256 TLSv1.3 ");
    }
    buf.extend_from_slice(TG.as_bytes());
    buf.extend_from_slice(b" \"Root=1-");
    crate::text::push_hex(buf, (ev.t / 1000) as u64, 8);
    buf.push(b'-');
    push_rand_hex(buf, rng, 24);
    if internal {
        buf.extend_from_slice(b"\" \"-\" \"-\" ");
    } else {
        buf.extend_from_slice(b"\" \"");
        buf.extend_from_slice(HOST.as_bytes());
        buf.extend_from_slice(b"\" \"");
        buf.extend_from_slice(CERT.as_bytes());
        buf.extend_from_slice(b"\" ");
    }
    buf.extend_from_slice(if ev.res == LOGIN { b"10 " } else { b"0 " });
    push_iso_micros(buf, ev.t - (rpt + tpt) as i64, micros);
    if blocked {
        buf.extend_from_slice(b" \"waf\" \"-\" \"-\" \"-\" \"-\" \"-\" \"-\" TID_");
    } else {
        buf.extend_from_slice(b" \"forward\" \"-\" \"-\" \"");
        buf.extend_from_slice(target.as_bytes());
        buf.push(b':');
        push_u64(buf, tport);
        buf.extend_from_slice(b"\" \"");
        push_u64(buf, ev.status as u64);
        buf.extend_from_slice(b"\" \"-\" \"-\" TID_");
    }
    crate::text::push_hex(buf, (conn_id >> 64) as u64, 16);
    crate::text::push_hex(buf, conn_id as u64, 16);
    buf.push(b'\n');
}

/// Turns the valid line in `line` (for `c`) into one that a parser must reject for `reason`.
pub fn corrupt(line: &mut Vec<u8>, reason: &str, c: &Client) {
    match reason {
        BAD_IP => {
            let from = format!(" {}:", c.ip_str);
            replace_first(line, from.as_bytes(), b" 1.2.3:");
        }
        BAD_TIME => {
            if let Some(i) = line.iter().position(|&b| b == b' ') {
                line.splice(
                    i + 1..i + 28,
                    b"2026-13-45T99:00:00.000000Z".iter().copied(),
                );
            }
        }
        INVALID_UTF8 => {
            if let Some(i) = line.windows(3).position(|w| w == b"\" \"") {
                line.splice(i + 3..i + 3, NOT_UTF8.iter().copied());
            }
        }
        _ => {}
    }
}
