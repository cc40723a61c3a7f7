//! Access policies: conditions on a machine's or token's access. A policy only ever takes
//! away, so authoring one cannot escalate; loosening one (editing or deleting it) needs
//! the same standing as writing it. Conditions: source ranges, environments, an expiry,
//! a weekly time window in a named time zone (which may wrap midnight), rate caps and a
//! maximum number of reads. Every refusal names the policy and the condition.

use crate::error::{Error, ErrorCode};
use crate::names::EnvironmentName;
use crate::network::{self, CidrRange};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::str::FromStr;

/// A policy file as written (JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// Ranges requests must come from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cidrs: Vec<String>,
    /// The only environments it may reach.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environments: Vec<String>,
    /// After this (RFC 3339), everything is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// When in the week requests are admitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowSpec>,
    /// Most reads in one minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reads_per_minute: Option<u32>,
    /// Most reads in one day (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reads_per_day: Option<u32>,
    /// Most reads ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_reads: Option<u32>,
}

/// A weekly window: on `days`, from `from` until `to` (`HH:MM`, `to` may be `24:00`) in
/// `time_zone`. A window whose `to` is earlier than its `from` runs past midnight into
/// the next day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    /// Days the window opens on: `mon` … `sun`.
    pub days: Vec<String>,
    /// Opening time.
    pub from: String,
    /// Closing time.
    pub to: String,
    /// An IANA time zone such as `Europe/Paris` (or `UTC`).
    pub time_zone: String,
}

/// How many reads a policy admits, counted by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadCaps {
    /// The policy's id, which its counters are kept under.
    pub policy_id: String,
    /// Its name, for refusals.
    pub policy: String,
    /// Most reads in one minute.
    pub per_minute: Option<u32>,
    /// Most reads in one UTC day.
    pub per_day: Option<u32>,
    /// Most reads ever.
    pub total: Option<u32>,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

#[derive(Debug, Clone)]
struct Window {
    /// Bit `d` set: the window opens on day `d` (Monday = 0).
    days: u8,
    from_min: u16,
    to_min: u16,
    zone: jiff::tz::TimeZone,
    text: String,
}

/// A compiled policy.
#[derive(Debug, Clone)]
pub struct Policy {
    name: String,
    cidrs: Vec<CidrRange>,
    environments: Vec<String>,
    expires_at_ms: Option<i64>,
    window: Option<Window>,
    caps: ReadCaps,
}

fn invalid(message: String) -> Error {
    Error::new(ErrorCode::InvalidValue, message)
}

fn minutes(text: &str, allow_24: bool) -> Result<u16, Error> {
    let bad = || {
        invalid(format!(
            "time {text:?} must be HH:MM, 00:00 to 23:59 (or 24:00 for a closing time)"
        ))
    };
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h == 24 && m == 0 && allow_24 {
        return Ok(24 * 60);
    }
    if h > 23 || m > 59 || text.len() != 5 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn compile_window(spec: &WindowSpec) -> Result<Window, Error> {
    let mut days = 0u8;
    for day in &spec.days {
        let day = day.trim().to_ascii_lowercase();
        let index = DAYS
            .iter()
            .position(|d| day.starts_with(d))
            .ok_or_else(|| invalid(format!("day {day:?} must be one of mon … sun")))?;
        days |= 1 << index;
    }
    if days == 0 {
        return Err(invalid("a time window needs at least one day".into()));
    }
    let from_min = minutes(&spec.from, false)?;
    let to_min = minutes(&spec.to, true)?;
    if from_min == to_min {
        return Err(invalid(
            "a time window cannot open and close at the same time (use 00:00 to 24:00 for the whole day)"
                .into(),
        ));
    }
    let zone = jiff::tz::TimeZone::get(&spec.time_zone).map_err(|_| {
        invalid(format!(
            "unknown time zone {:?}: use an IANA name such as Europe/Paris or UTC",
            spec.time_zone
        ))
    })?;
    let listed: Vec<&str> = DAYS
        .iter()
        .enumerate()
        .filter(|(i, _)| days & (1 << i) != 0)
        .map(|(_, d)| *d)
        .collect();
    Ok(Window {
        days,
        from_min,
        to_min,
        zone,
        text: format!(
            "{} {}–{} {}",
            listed.join(","),
            spec.from,
            spec.to,
            spec.time_zone
        ),
    })
}

impl Window {
    fn admits(&self, now_ms: i64) -> bool {
        let Ok(ts) = jiff::Timestamp::from_millisecond(now_ms) else {
            return false;
        };
        let local = ts.to_zoned(self.zone.clone());
        let day = local.weekday().to_monday_zero_offset();
        let minute =
            u16::try_from(i32::from(local.hour()) * 60 + i32::from(local.minute())).unwrap_or(0);
        let opens_on = |d: i8| self.days & (1 << d.rem_euclid(7)) != 0;
        if self.from_min < self.to_min {
            opens_on(day) && (self.from_min..self.to_min).contains(&minute)
        } else {
            (opens_on(day) && minute >= self.from_min)
                || (opens_on(day - 1) && minute < self.to_min)
        }
    }
}

impl Policy {
    /// Compiles and checks a policy file.
    pub fn compile(id: &str, name: &str, spec: &PolicySpec) -> Result<Self, Error> {
        if *spec == PolicySpec::default() {
            return Err(invalid(
                "a policy needs at least one condition: cidrs, environments, expires_at, \
                 window, reads_per_minute, reads_per_day or max_reads"
                    .into(),
            ));
        }
        if spec.cidrs.len() > 100 || spec.environments.len() > 50 {
            return Err(invalid(
                "a policy names at most 100 ranges and 50 environments".into(),
            ));
        }
        let cidrs = spec
            .cidrs
            .iter()
            .map(|c| c.parse())
            .collect::<Result<Vec<CidrRange>, Error>>()?;
        let environments = spec
            .environments
            .iter()
            .map(|e| EnvironmentName::from_str(e).map(|e| e.to_string()))
            .collect::<Result<Vec<_>, Error>>()?;
        let expires_at_ms = spec
            .expires_at
            .as_deref()
            .map(|t| {
                t.parse::<jiff::Timestamp>()
                    .map(|ts| ts.as_millisecond())
                    .map_err(|_| {
                        invalid(format!(
                            "expires_at {t:?} must be an RFC 3339 time such as 2027-01-31T18:00:00Z"
                        ))
                    })
            })
            .transpose()?;
        let zero = [
            ("reads_per_minute", spec.reads_per_minute),
            ("reads_per_day", spec.reads_per_day),
            ("max_reads", spec.max_reads),
        ]
        .into_iter()
        .find(|(_, v)| *v == Some(0));
        if let Some((field, _)) = zero {
            return Err(invalid(format!(
                "{field} must be at least 1 (delete the machine's attachment to stop all reads)"
            )));
        }
        Ok(Self {
            name: name.to_owned(),
            cidrs,
            environments,
            expires_at_ms,
            window: spec.window.as_ref().map(compile_window).transpose()?,
            caps: ReadCaps {
                policy_id: id.to_owned(),
                policy: name.to_owned(),
                per_minute: spec.reads_per_minute,
                per_day: spec.reads_per_day,
                total: spec.max_reads,
            },
        })
    }

    /// The policy's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Checks what depends on the request alone: where it comes from and when. Says
    /// which condition failed.
    pub fn check_request(&self, ip: Option<IpAddr>, now_ms: i64) -> Result<(), String> {
        if let Some(expiry) = self.expires_at_ms
            && now_ms >= expiry
        {
            return Err(self.refusal("it expired"));
        }
        if !self.cidrs.is_empty() && !ip.is_some_and(|ip| network::any_contains(&self.cidrs, ip)) {
            let from = ip.map_or_else(|| "an unknown address".to_owned(), |ip| ip.to_string());
            return Err(self.refusal(&format!(
                "source address {from} is outside {}",
                network::format_list(&self.cidrs)
            )));
        }
        if let Some(window) = &self.window
            && !window.admits(now_ms)
        {
            return Err(self.refusal(&format!("outside its time window ({})", window.text)));
        }
        Ok(())
    }

    /// Checks the environment a path is in.
    pub fn check_environment(&self, env: &str) -> Result<(), String> {
        if self.environments.is_empty() || self.environments.iter().any(|e| e == env) {
            Ok(())
        } else {
            Err(self.refusal(&format!(
                "environment '{env}' is not one of {}",
                self.environments.join(", ")
            )))
        }
    }

    /// The read caps, if the policy has any.
    pub fn caps(&self) -> Option<&ReadCaps> {
        let c = &self.caps;
        (c.per_minute.is_some() || c.per_day.is_some() || c.total.is_some()).then_some(c)
    }

    fn refusal(&self, condition: &str) -> String {
        format!("access policy '{}': {condition}", self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(json: &str) -> Policy {
        let spec: PolicySpec = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"));
        Policy::compile("pol_x", "p", &spec).unwrap_or_else(|e| panic!("{e}"))
    }

    fn at(text: &str) -> i64 {
        text.parse::<jiff::Timestamp>()
            .unwrap_or_else(|e| panic!("{e}"))
            .as_millisecond()
    }

    fn ip(s: &str) -> Option<IpAddr> {
        s.parse().ok()
    }

    #[test]
    fn a_source_outside_the_ranges_is_refused_naming_both() {
        let p = policy(r#"{"cidrs": ["10.0.0.0/8"]}"#);
        assert!(p.check_request(ip("10.9.8.7"), 0).is_ok());
        let why = p
            .check_request(ip("192.0.2.1"), 0)
            .err()
            .unwrap_or_default();
        assert!(
            why.contains("192.0.2.1") && why.contains("10.0.0.0/8"),
            "{why}"
        );
    }

    #[test]
    fn after_its_expiry_everything_is_refused() {
        let p = policy(r#"{"expires_at": "2027-01-01T00:00:00Z"}"#);
        assert!(p.check_request(None, at("2026-12-31T23:59:59Z")).is_ok());
        assert!(p.check_request(None, at("2027-01-01T00:00:00Z")).is_err());
    }

    #[test]
    fn a_window_is_read_in_its_own_time_zone() {
        let p = policy(
            r#"{"window": {"days": ["mon","tue","wed","thu","fri"], "from": "09:00", "to": "17:00",
                "time_zone": "Europe/Paris"}}"#,
        );
        // Monday 2026-11-30: 08:30 UTC is 09:30 in Paris; 16:30 UTC is 17:30.
        assert!(p.check_request(None, at("2026-11-30T08:30:00Z")).is_ok());
        assert!(p.check_request(None, at("2026-11-30T16:30:00Z")).is_err());
        // Saturday.
        assert!(p.check_request(None, at("2026-12-05T10:00:00Z")).is_err());
    }

    #[test]
    fn a_window_may_wrap_past_midnight_into_the_next_day() {
        let p = policy(
            r#"{"window": {"days": ["fri"], "from": "22:00", "to": "02:00", "time_zone": "UTC"}}"#,
        );
        assert!(p.check_request(None, at("2026-12-04T23:00:00Z")).is_ok()); // Friday night
        assert!(p.check_request(None, at("2026-12-05T01:59:00Z")).is_ok()); // Saturday small hours
        assert!(p.check_request(None, at("2026-12-05T02:00:00Z")).is_err());
        assert!(p.check_request(None, at("2026-12-03T23:00:00Z")).is_err()); // Thursday
    }

    #[test]
    fn environments_limit_where_it_reaches() {
        let p = policy(r#"{"environments": ["production"]}"#);
        assert!(p.check_environment("production").is_ok());
        assert!(p.check_environment("staging").is_err());
    }

    #[test]
    fn bad_files_are_refused_with_what_to_write() {
        for bad in [
            r#"{"cidrs": ["nope"]}"#,
            r#"{"window": {"days": ["someday"], "from": "09:00", "to": "17:00", "time_zone": "UTC"}}"#,
            r#"{"window": {"days": ["mon"], "from": "9", "to": "17:00", "time_zone": "UTC"}}"#,
            r#"{"window": {"days": ["mon"], "from": "09:00", "to": "17:00", "time_zone": "Mars/Olympus"}}"#,
            r#"{"window": {"days": ["mon"], "from": "09:00", "to": "09:00", "time_zone": "UTC"}}"#,
            r#"{"expires_at": "tomorrow"}"#,
            r#"{"max_reads": 0}"#,
            r#"{}"#,
        ] {
            let spec: PolicySpec = serde_json::from_str(bad).unwrap_or_else(|e| panic!("{e}"));
            assert!(Policy::compile("pol_x", "p", &spec).is_err(), "{bad}");
        }
    }
}
