//! The rules behind the Vault/OpenBao KV v2 view of a vault: how a KV key names a
//! secret, how a KV object maps onto a secret's value, check-and-set, the per-secret
//! settings KV clients keep, and the duration strings they send. Pure; the server speaks
//! the wire.

use crate::error::{Error, ErrorCode};
use crate::names::{
    ApplicationName, EnvironmentName, EnvironmentPath, ProjectName, ProjectPath, SecretName,
    SecretPath,
};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The one KV v2 mount each vault exposes.
pub const MOUNT: &str = "secret";

/// Where a KV key points: a secret at the fourth level, folders above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvLocation {
    /// The mount itself: applications are its folders.
    Root,
    /// An application: projects are its folders.
    Application(ApplicationName),
    /// A project: environments are its folders.
    Project(ProjectPath),
    /// An environment: secrets are its keys.
    Environment(EnvironmentPath),
    /// A secret.
    Secret(SecretPath),
}

/// Reads a KV key (below `secret/data/` or `secret/metadata/`). Empty segments from a
/// doubled or trailing `/` are ignored, as Vault's path cleaning does.
pub fn parse_location(key: &str) -> Result<KvLocation, Error> {
    let parts: Vec<&str> = key.split('/').filter(|s| !s.is_empty()).collect();
    Ok(match parts.as_slice() {
        [] => KvLocation::Root,
        [a] => KvLocation::Application(a.parse()?),
        [a, p] => KvLocation::Project(project(a, p)?),
        [a, p, e] => KvLocation::Environment(environment(a, p, e)?),
        [a, p, e, n] => KvLocation::Secret(SecretPath {
            environment: environment(a, p, e)?,
            name: n.parse::<SecretName>()?,
        }),
        _ => return Err(wrong_depth(key, parts.len())),
    })
}

fn project(a: &str, p: &str) -> Result<ProjectPath, Error> {
    Ok(ProjectPath {
        application: a.parse()?,
        project: p.parse::<ProjectName>()?,
    })
}

fn environment(a: &str, p: &str, e: &str) -> Result<EnvironmentPath, Error> {
    Ok(EnvironmentPath {
        project: project(a, p)?,
        environment: e.parse::<EnvironmentName>()?,
    })
}

fn wrong_depth(key: &str, depth: usize) -> Error {
    Error::new(
        ErrorCode::InvalidPath,
        format!("a KV key in Strongroom is APP/PROJECT/ENV/NAME (four parts); '{key}' has {depth}"),
    )
}

impl KvLocation {
    /// The secret this key names, or why a folder is not one.
    pub fn secret(self, key: &str) -> Result<SecretPath, Error> {
        let depth = match self {
            Self::Secret(path) => return Ok(path),
            Self::Root => 0,
            Self::Application(_) => 1,
            Self::Project(_) => 2,
            Self::Environment(_) => 3,
        };
        Err(wrong_depth(key, depth))
    }
}

/// The value a KV write stores: `{"value": "<text>"}` stores the text itself, any other
/// object is stored as its JSON.
pub fn value_from_kv(data: &Map<String, Value>) -> String {
    if data.len() == 1
        && let Some(Value::String(text)) = data.get("value")
    {
        return text.clone();
    }
    Value::Object(data.clone()).to_string()
}

/// The object a KV read returns: a value that is a JSON object reads back as that
/// object, any other value as `{"value": "<value>"}`.
pub fn value_to_kv(stored: &str) -> Map<String, Value> {
    if stored.starts_with('{')
        && let Ok(Value::Object(object)) = serde_json::from_str::<Value>(stored)
    {
        return object;
    }
    let mut object = Map::new();
    object.insert("value".to_owned(), Value::String(stored.to_owned()));
    object
}

/// Check-and-set as Vault does it: a write naming `cas` lands only if the secret's
/// latest version is `cas` (0 for a secret that does not exist yet); a secret that
/// requires it refuses a write without one.
pub fn check_and_set(cas: Option<i64>, latest: i64, required: bool) -> Result<(), Error> {
    match cas {
        None if required => Err(Error::new(
            ErrorCode::CheckAndSetRequired,
            "check-and-set parameter required for this call: this secret requires the version \
             the write expects to follow (`options.cas`, or `--expected-version`)",
        )),
        Some(expected) if expected != latest => Err(Error::new(
            ErrorCode::VersionConflict,
            format!(
                "check-and-set parameter did not match the current version (expected {expected}, \
                 the latest is {latest}); read it again and retry"
            ),
        )),
        _ => Ok(()),
    }
}

/// Most custom metadata keys per secret (Vault's limits).
pub const MAX_CUSTOM_KEYS: usize = 64;
const MAX_CUSTOM_KEY_BYTES: usize = 128;
const MAX_CUSTOM_VALUE_BYTES: usize = 512;

/// Free-form string pairs kept with a secret (Vault's `custom_metadata`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomMetadata(BTreeMap<String, String>);

impl CustomMetadata {
    /// Checks Vault's limits: at most 64 keys of 1–128 bytes, values of at most 512
    /// bytes, printable text.
    pub fn parse(pairs: BTreeMap<String, String>) -> Result<Self, Error> {
        let invalid =
            |why: String| Error::new(ErrorCode::InvalidValue, format!("custom_metadata: {why}"));
        if pairs.len() > MAX_CUSTOM_KEYS {
            return Err(invalid(format!("at most {MAX_CUSTOM_KEYS} keys")));
        }
        for (key, value) in &pairs {
            if key.is_empty() || key.len() > MAX_CUSTOM_KEY_BYTES {
                return Err(invalid(format!(
                    "keys are 1 to {MAX_CUSTOM_KEY_BYTES} bytes"
                )));
            }
            if value.len() > MAX_CUSTOM_VALUE_BYTES {
                return Err(invalid(format!(
                    "the value of '{key}' is longer than {MAX_CUSTOM_VALUE_BYTES} bytes"
                )));
            }
            if key.chars().chain(value.chars()).any(char::is_control) {
                return Err(invalid(format!("'{key}' holds a control character")));
            }
        }
        Ok(Self(pairs))
    }

    /// Accepts pairs read back from storage.
    pub fn from_trusted(pairs: BTreeMap<String, String>) -> Self {
        Self(pairs)
    }

    /// The pairs, by key.
    pub fn pairs(&self) -> &BTreeMap<String, String> {
        &self.0
    }
}

/// Most versions a secret may be told to keep (Vault's field is a Go int).
const MAX_KEPT_VERSIONS: i64 = 1_000_000;

/// Checks `max_versions`: 0 keeps every version, `n` keeps the newest `n`.
pub fn max_versions(n: i64) -> Result<i64, Error> {
    if !(0..=MAX_KEPT_VERSIONS).contains(&n) {
        return Err(Error::new(
            ErrorCode::InvalidValue,
            format!("max_versions is 0 (keep every version) to {MAX_KEPT_VERSIONS}"),
        ));
    }
    Ok(n)
}

/// Reads a duration as Vault does: a Go duration (`"1h30m"`, `"45s"`, `"0s"`) or a
/// whole number of seconds. Returns milliseconds.
pub fn parse_duration(text: &str) -> Result<i64, Error> {
    let invalid = || {
        Error::new(
            ErrorCode::InvalidValue,
            format!("'{text}' is not a duration: use seconds, or units like '30m', '1h30m', '45s'"),
        )
    };
    let text = text.trim();
    if let Ok(secs) = text.parse::<i64>() {
        return secs
            .checked_mul(1000)
            .filter(|ms| *ms >= 0)
            .ok_or_else(invalid);
    }
    let mut rest = text;
    let mut total: f64 = 0.0;
    if rest.is_empty() {
        return Err(invalid());
    }
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(invalid)?;
        let number: f64 = rest[..number_len].parse().map_err(|_| invalid())?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let ms_per_unit = match &rest[..unit_len] {
            "ns" => 1e-6,
            "us" | "µs" => 1e-3,
            "ms" => 1.0,
            "s" => 1e3,
            "m" => 60e3,
            "h" => 3_600e3,
            "d" => 86_400e3,
            _ => return Err(invalid()),
        };
        total += number * ms_per_unit;
        rest = &rest[unit_len..];
    }
    if !total.is_finite() || total > 1e15 {
        return Err(invalid());
    }
    Ok(total.round() as i64)
}

/// Writes milliseconds the way Go prints a `time.Duration` (`"0s"`, `"1h30m0s"`,
/// `"1.5s"`, `"250ms"`), which is what Vault's clients parse back.
pub fn format_duration(ms: i64) -> String {
    if ms <= 0 {
        return "0s".to_owned();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let hours = ms / 3_600_000;
    let minutes = (ms % 3_600_000) / 60_000;
    let millis = ms % 60_000;
    let seconds = if millis % 1000 == 0 {
        format!("{}s", millis / 1000)
    } else {
        let text = format!("{}.{:03}", millis / 1000, millis % 1000);
        format!("{}s", text.trim_end_matches('0'))
    };
    match (hours, minutes) {
        (0, 0) => seconds,
        (0, m) => format!("{m}m{seconds}"),
        (h, m) => format!("{h}h{m}m{seconds}"),
    }
}

/// Reads the version numbers of a delete, undelete or destroy: integers, strings of
/// digits (the `bao` CLI sends those) or one comma-separated string.
pub fn parse_versions(value: Option<&Value>) -> Result<Vec<i64>, Error> {
    let none = || Error::new(ErrorCode::InvalidValue, "No version number provided");
    let bad = |v: &str| {
        Error::new(
            ErrorCode::InvalidValue,
            format!("'{v}' is not a version number"),
        )
    };
    let number = |text: &str| -> Result<i64, Error> {
        text.trim()
            .parse::<i64>()
            .ok()
            .filter(|v| *v >= 1)
            .ok_or_else(|| bad(text))
    };
    let mut versions = Vec::new();
    match value {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                match item {
                    Value::Number(n) => versions.push(
                        n.as_i64()
                            .filter(|v| *v >= 1)
                            .ok_or_else(|| bad(&n.to_string()))?,
                    ),
                    Value::String(s) => {
                        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
                            versions.push(number(part)?);
                        }
                    }
                    other => return Err(bad(&other.to_string())),
                }
            }
        }
        Some(Value::String(s)) => {
            for part in s.split(',').filter(|p| !p.trim().is_empty()) {
                versions.push(number(part)?);
            }
        }
        Some(Value::Number(n)) => versions.push(
            n.as_i64()
                .filter(|v| *v >= 1)
                .ok_or_else(|| bad(&n.to_string()))?,
        ),
        Some(other) => return Err(bad(&other.to_string())),
    }
    if versions.is_empty() {
        return Err(none());
    }
    versions.sort_unstable();
    versions.dedup();
    Ok(versions)
}

/// Reads a check-and-set parameter, weakly typed as Vault reads it (`1` or `"1"`).
pub fn parse_cas(value: Option<&Value>) -> Result<Option<i64>, Error> {
    let bad = || {
        Error::new(
            ErrorCode::InvalidValue,
            "error parsing check-and-set parameter",
        )
    };
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().filter(|v| *v >= 0).map(Some).ok_or_else(bad),
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|v| *v >= 0)
            .map(Some)
            .ok_or_else(bad),
        Some(_) => Err(bad()),
    }
}

/// The segments of a namespace as Vault canonicalizes it (`acme`, `acme/` and `/acme`
/// alike; an empty value is the root).
pub fn namespace_segments(namespace: &str) -> Vec<String> {
    namespace
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(o) => o,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn a_four_part_key_names_a_secret_and_shorter_keys_are_folders() {
        assert_eq!(
            parse_location("").unwrap_or_else(|e| panic!("{e:?}")),
            KvLocation::Root
        );
        assert!(matches!(
            parse_location("payments/").unwrap_or_else(|e| panic!("{e:?}")),
            KvLocation::Application(_)
        ));
        assert!(matches!(
            parse_location("payments/api").unwrap_or_else(|e| panic!("{e:?}")),
            KvLocation::Project(_)
        ));
        assert!(matches!(
            parse_location("payments/api/production/").unwrap_or_else(|e| panic!("{e:?}")),
            KvLocation::Environment(_)
        ));
        let secret = parse_location("payments//api/production/STRIPE_KEY")
            .unwrap_or_else(|e| panic!("{e:?}"))
            .secret("payments/api/production/STRIPE_KEY")
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(secret.to_string(), "payments/api/production/STRIPE_KEY");
    }

    #[test]
    fn a_key_of_the_wrong_depth_says_how_many_parts_it_has() {
        let e = parse_location("a/b/c/d/e")
            .err()
            .unwrap_or_else(|| panic!("expected an error"));
        assert_eq!(e.code(), ErrorCode::InvalidPath);
        assert!(e.message().contains("has 5"), "{}", e.message());
        let e = parse_location("a/b/c")
            .unwrap_or_else(|e| panic!("{e:?}"))
            .secret("a/b/c")
            .err()
            .unwrap_or_else(|| panic!("expected an error"));
        assert!(e.message().contains("APP/PROJECT/ENV/NAME"));
    }

    #[test]
    fn an_object_holding_only_a_string_value_stores_the_plain_value() {
        assert_eq!(
            value_from_kv(&object(json!({"value": "hunter2"}))),
            "hunter2"
        );
        assert_eq!(
            value_from_kv(&object(json!({"value": 5}))),
            r#"{"value":5}"#
        );
        assert_eq!(
            value_from_kv(&object(json!({"user": "u", "pass": "p"}))),
            r#"{"pass":"p","user":"u"}"#
        );
    }

    #[test]
    fn a_json_object_value_reads_back_as_the_object_and_anything_else_as_value() {
        assert_eq!(
            Value::Object(value_to_kv(r#"{"a":{"b":1}}"#)),
            json!({"a": {"b": 1}})
        );
        assert_eq!(
            Value::Object(value_to_kv("plain")),
            json!({"value": "plain"})
        );
        assert_eq!(
            Value::Object(value_to_kv("[1,2]")),
            json!({"value": "[1,2]"})
        );
        assert_eq!(
            Value::Object(value_to_kv("{nope")),
            json!({"value": "{nope"})
        );
    }

    #[test]
    fn check_and_set_lands_only_on_the_named_latest_version() {
        assert!(check_and_set(Some(0), 0, false).is_ok());
        assert!(check_and_set(Some(3), 3, true).is_ok());
        assert!(check_and_set(None, 3, false).is_ok());
        assert_eq!(
            check_and_set(Some(0), 1, false)
                .err()
                .unwrap_or_else(|| panic!("expected an error"))
                .code(),
            ErrorCode::VersionConflict
        );
        assert_eq!(
            check_and_set(None, 1, true)
                .err()
                .unwrap_or_else(|| panic!("expected an error"))
                .code(),
            ErrorCode::CheckAndSetRequired
        );
    }

    #[test]
    fn durations_read_go_strings_and_plain_seconds() {
        assert_eq!(parse_duration("0s").unwrap_or_else(|e| panic!("{e:?}")), 0);
        assert_eq!(
            parse_duration("90").unwrap_or_else(|e| panic!("{e:?}")),
            90_000
        );
        assert_eq!(
            parse_duration("1h30m").unwrap_or_else(|e| panic!("{e:?}")),
            5_400_000
        );
        assert_eq!(
            parse_duration("3h25m19s").unwrap_or_else(|e| panic!("{e:?}")),
            12_319_000
        );
        assert_eq!(
            parse_duration("1.5s").unwrap_or_else(|e| panic!("{e:?}")),
            1_500
        );
        assert_eq!(
            parse_duration("250ms").unwrap_or_else(|e| panic!("{e:?}")),
            250
        );
        for bad in ["", "s", "5x", "-5", "1h-3m"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_print_as_go_prints_them() {
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(250), "250ms");
        assert_eq!(format_duration(1_500), "1.5s");
        assert_eq!(format_duration(45_000), "45s");
        assert_eq!(format_duration(90_000), "1m30s");
        assert_eq!(format_duration(3_600_000), "1h0m0s");
        assert_eq!(format_duration(12_319_000), "3h25m19s");
        for ms in [0, 1_500, 90_000, 12_319_000] {
            assert_eq!(
                parse_duration(&format_duration(ms)).unwrap_or_else(|e| panic!("{e:?}")),
                ms
            );
        }
    }

    #[test]
    fn versions_are_read_from_numbers_strings_and_comma_lists() {
        assert_eq!(
            parse_versions(Some(&json!([2, 1, 2]))).unwrap_or_else(|e| panic!("{e:?}")),
            vec![1, 2]
        );
        assert_eq!(
            parse_versions(Some(&json!(["1", "3"]))).unwrap_or_else(|e| panic!("{e:?}")),
            vec![1, 3]
        );
        assert_eq!(
            parse_versions(Some(&json!("1,2"))).unwrap_or_else(|e| panic!("{e:?}")),
            vec![1, 2]
        );
        assert_eq!(
            parse_versions(Some(&json!([])))
                .err()
                .unwrap_or_else(|| panic!("expected an error"))
                .message(),
            "No version number provided"
        );
        assert!(parse_versions(None).is_err());
        assert!(parse_versions(Some(&json!(["x"]))).is_err());
        assert!(parse_versions(Some(&json!([0]))).is_err());
    }

    #[test]
    fn check_and_set_parameters_are_weakly_typed() {
        assert_eq!(
            parse_cas(Some(&json!(1))).unwrap_or_else(|e| panic!("{e:?}")),
            Some(1)
        );
        assert_eq!(
            parse_cas(Some(&json!("2"))).unwrap_or_else(|e| panic!("{e:?}")),
            Some(2)
        );
        assert_eq!(parse_cas(None).unwrap_or_else(|e| panic!("{e:?}")), None);
        assert_eq!(
            parse_cas(Some(&json!("x")))
                .err()
                .unwrap_or_else(|| panic!("expected an error"))
                .message(),
            "error parsing check-and-set parameter"
        );
    }

    #[test]
    fn custom_metadata_keeps_vaults_limits() {
        let ok = BTreeMap::from([("owner".to_owned(), "team-a".to_owned())]);
        assert!(CustomMetadata::parse(ok).is_ok());
        let many = (0..65).map(|i| (format!("k{i}"), "v".to_owned())).collect();
        assert!(CustomMetadata::parse(many).is_err());
        let long = BTreeMap::from([("k".to_owned(), "v".repeat(513))]);
        assert!(CustomMetadata::parse(long).is_err());
        let empty_key = BTreeMap::from([(String::new(), "v".to_owned())]);
        assert!(CustomMetadata::parse(empty_key).is_err());
    }

    #[test]
    fn namespaces_are_canonicalized_like_vaults() {
        assert_eq!(namespace_segments("acme"), vec!["acme"]);
        assert_eq!(namespace_segments("/acme/"), vec!["acme"]);
        assert!(namespace_segments("").is_empty());
        assert_eq!(namespace_segments("a//b/"), vec!["a", "b"]);
    }
}
