//! QR-code login rules: its states, and what the approving phone is shown about the browser
//! that asks (coarsely: never a full address).
use std::net::IpAddr;

/// How long a code is valid before the page draws a new one.
pub const LIFETIME_SECS: i64 = 120;

/// RFC 8176 methods of a QR login: the citizen confirmed on a second channel (`mca`) and the phone
/// proved its app key (`swk`: a software key; nothing attests that it lives in hardware).
pub const AMR: &str = "mca swk";

/// How long after the app's own login a QR approval may still pass on a strong level.
pub const STRONG_FRESHNESS_SECS: i64 = 12 * 3600;

/// The level a QR login gives the browser: the app's, while the app's own login is recent, and
/// never more than a password's once that login has been carried by refresh tokens for long.
pub fn session_acr(app_acr: &str, app_auth_time: i64, now: i64) -> &'static str {
    use super::acr::{level, ACR_PASSWORD, ACR_STRONG};
    let fresh = (0..=STRONG_FRESHNESS_SECS).contains(&(now - app_auth_time));
    if level(app_acr) >= level(ACR_STRONG) && fresh {
        ACR_STRONG
    } else {
        ACR_PASSWORD
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 待扫码
    Waiting,
    /// 已扫码，请在手机上确认
    Scanned,
    /// 已确认 (the browser has not collected its session yet)
    Approved,
    /// 已拒绝
    Denied,
    /// The browser collected its session: the code is spent.
    Done,
    /// 已过期
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Waiting => "waiting",
            Status::Scanned => "scanned",
            Status::Approved => "approved",
            Status::Denied => "denied",
            Status::Done => "done",
            Status::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "waiting" => Status::Waiting,
            "scanned" => Status::Scanned,
            "approved" => Status::Approved,
            "denied" => Status::Denied,
            "done" => Status::Done,
            "expired" => Status::Expired,
            _ => return None,
        })
    }

    /// The status as the browser sees it at `now`: past its lifetime, an unanswered code has
    /// expired (an answered one keeps its answer).
    pub fn at(stored: Status, now: i64, expires_at: i64) -> Status {
        match stored {
            Status::Waiting | Status::Scanned if now >= expires_at => Status::Expired,
            s => s,
        }
    }
}

/// "Chrome / Windows"-style summary of a User-Agent, for the phone to show.
pub fn browser_summary(user_agent: &str) -> String {
    let ua = user_agent.to_ascii_lowercase();
    let browser = [
        ("micromessenger", "微信"),
        ("edg/", "Edge"),
        ("firefox/", "Firefox"),
        ("chrome/", "Chrome"),
        ("chromium/", "Chromium"),
        ("safari/", "Safari"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name)
    .unwrap_or("浏览器");
    let system = [
        ("windows", "Windows"),
        ("android", "Android"),
        ("iphone", "iOS"),
        ("ipad", "iPadOS"),
        ("mac os", "macOS"),
        ("linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name)
    .unwrap_or("");
    if system.is_empty() {
        browser.to_owned()
    } else {
        format!("{browser} / {system}")
    }
}

/// The address the phone is shown: the network only (a.b.*.*, or an IPv6 /32).
pub fn coarse_address(ip: &str) -> String {
    // The throttling form of an IPv6 address is its /64.
    match ip.trim_end_matches("/64").parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => {
            let o = v4.octets();
            format!("{}.{}.*.*", o[0], o[1])
        }
        Ok(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}::/32", s[0], s[1])
        }
        Err(_) => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::acr::{ACR_PASSWORD, ACR_STRONG};

    #[test]
    fn a_qr_login_is_strong_only_while_the_apps_own_login_is_recent() {
        let now = 1_000_000;
        assert_eq!(session_acr(ACR_STRONG, now - 60, now), ACR_STRONG);
        assert_eq!(
            session_acr(ACR_STRONG, now - STRONG_FRESHNESS_SECS, now),
            ACR_STRONG
        );
        assert_eq!(
            session_acr(ACR_STRONG, now - STRONG_FRESHNESS_SECS - 1, now),
            ACR_PASSWORD
        );
        assert_eq!(session_acr(ACR_PASSWORD, now, now), ACR_PASSWORD);
        assert_eq!(session_acr("made-up", now, now), ACR_PASSWORD);
        // An auth_time in the future is not trusted either.
        assert_eq!(session_acr(ACR_STRONG, now + 600, now), ACR_PASSWORD);
    }

    #[test]
    fn unanswered_codes_expire_answered_ones_keep_their_answer() {
        assert_eq!(Status::at(Status::Waiting, 1120, 1120), Status::Expired);
        assert_eq!(Status::at(Status::Scanned, 1200, 1120), Status::Expired);
        assert_eq!(Status::at(Status::Waiting, 1119, 1120), Status::Waiting);
        assert_eq!(Status::at(Status::Denied, 1200, 1120), Status::Denied);
        for s in [
            "waiting", "scanned", "approved", "denied", "done", "expired",
        ] {
            assert_eq!(Status::parse(s).map(Status::as_str), Some(s));
        }
    }

    #[test]
    fn the_phone_sees_a_coarse_picture() {
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
        assert_eq!(browser_summary(chrome), "Chrome / Windows");
        let wechat = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0";
        assert_eq!(browser_summary(wechat), "微信 / iOS");
        assert_eq!(browser_summary(""), "浏览器");
        assert_eq!(coarse_address("202.96.134.133"), "202.96.*.*");
        assert_eq!(coarse_address("2408:8000:1:2::5"), "2408:8000::/32");
        assert_eq!(coarse_address("2408:8000:1:2::/64"), "2408:8000::/32");
        assert_eq!(coarse_address("unknown"), "unknown");
    }
}
