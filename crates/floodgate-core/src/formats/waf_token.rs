//! WAF's `challengeResponse` and `captchaResponse` objects, read leniently (see `waf.rs`).

use crate::features::{TokenFailure, TokenResponse};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

/// `challengeResponse` / `captchaResponse`: `{responseCode, solveTimestamp, failureReason}`.
/// Lenient: a member of another type reads as absent, and anything but an object (null
/// included) as no response at all; the fast path reads the same subset or defers to this.
#[derive(Default, Clone, Copy, PartialEq, Debug)]
pub(super) struct Token(pub(super) Option<TokenResponse>);

impl<'de> Deserialize<'de> for Token {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Token;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a CAPTCHA or Challenge response object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Token, A::Error> {
                let mut t = TokenResponse::default();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    match key.as_ref() {
                        "responseCode" => {
                            let v = map.next_value::<Lenient>()?;
                            t.response_code =
                                v.int().and_then(|c| u16::try_from(c).ok()).unwrap_or(0);
                        }
                        "solveTimestamp" => {
                            t.solve_timestamp = map.next_value::<Lenient>()?.int().unwrap_or(0);
                        }
                        "failureReason" => {
                            t.failure = match map.next_value::<Lenient>()? {
                                Lenient::Str(s) if !s.is_empty() => Some(TokenFailure::parse(&s)),
                                _ => None,
                            };
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Token(Some(t)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Token, E> {
                Ok(Token(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Token, E> {
                Ok(Token(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Token, E> {
                Ok(Token(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Token, E> {
                Ok(Token(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Token, E> {
                Ok(Token(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Token, E> {
                Ok(Token(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Token, E> {
                Ok(Token(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Token, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Token(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// Any JSON value, kept only when it is a number or a string (for [`Token`]'s members).
enum Lenient {
    Int(i64),
    Str(String),
    Other,
}

impl Lenient {
    /// An integer, or a string holding one.
    fn int(&self) -> Option<i64> {
        match self {
            Lenient::Int(v) => Some(*v),
            Lenient::Str(s) => s.parse().ok(),
            Lenient::Other => None,
        }
    }
}

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Lenient;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Lenient, E> {
                Ok(Lenient::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Lenient, E> {
                Ok(i64::try_from(v).map_or(Lenient::Other, Lenient::Int))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Lenient, E> {
                Ok(Lenient::Other)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Lenient, E> {
                Ok(Lenient::Other)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Lenient, E> {
                Ok(Lenient::Str(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Lenient, E> {
                Ok(Lenient::Other)
            }
            fn visit_none<E: de::Error>(self) -> Result<Lenient, E> {
                Ok(Lenient::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Lenient, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Lenient::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Lenient, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Lenient::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// A string field floodgate reads as a feature (`ja3Fingerprint`, `ja4Fingerprint`): a string
/// (borrowed when it has no escape), or absent for null or a value of another type, so an
/// odd fingerprint never costs a record its place in the counts.
#[derive(Default)]
pub(super) struct Text<'a>(pub(super) Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'a>, E> {
                Ok(Text(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'a>, E> {
                Ok(Text(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Text<'a>, E> {
                Ok(Text(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Text<'a>, E> {
                Ok(Text(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Text<'a>, E> {
                Ok(Text(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Text<'a>, E> {
                Ok(Text(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Text<'a>, E> {
                Ok(Text(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Text<'a>, E> {
                Ok(Text(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Text<'a>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Text<'a>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}
