//! The device verification page (RFC 8628 3.3): the citizen types (or scans) the code a kiosk
//! or TV shows, sees which app asks for what, and approves or denies.
use super::i18n::Lang;
use super::pages::{esc, layout, Frame};
use std::fmt::Write;

struct DeviceTexts {
    title: &'static str,
    enter: &'static str,
    code_label: &'static str,
    code_help: &'static str,
    next: &'static str,
    confirm: &'static str,
    asks: &'static str,
    allow: &'static str,
    deny: &'static str,
    approved: &'static str,
    denied: &'static str,
    unknown: &'static str,
    throttled: &'static str,
}

static ZH: DeviceTexts = DeviceTexts {
    title: "设备登录",
    enter: "请输入自助终端或电视上显示的代码。",
    code_label: "设备代码",
    code_help: "8位字母，例如 BCDF-GHJK",
    next: "下一步",
    confirm: "请确认设备上显示的代码为：",
    asks: "该设备上的应用请求访问您的信息：",
    allow: "同意并登录",
    deny: "拒绝",
    approved: "已授权，请回到设备上继续。",
    denied: "已拒绝，设备不会登录。",
    unknown: "代码不正确或已过期，请核对设备上显示的代码。",
    throttled: "尝试次数过多，请15分钟后再试。",
};

static EN: DeviceTexts = DeviceTexts {
    title: "Device login",
    enter: "Enter the code shown on the kiosk or TV.",
    code_label: "Device code",
    code_help: "8 letters, for example BCDF-GHJK",
    next: "Next",
    confirm: "Check that the device shows this code:",
    asks: "The app on that device asks to access your information:",
    allow: "Allow and log in",
    deny: "Deny",
    approved: "Done. Go back to the device to continue.",
    denied: "Denied. The device will not be logged in.",
    unknown: "The code is wrong or has expired; check the code on the device.",
    throttled: "Too many attempts. Please try again in 15 minutes.",
};

fn texts(lang: Lang) -> &'static DeviceTexts {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

/// What went wrong on the page, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    UnknownCode,
    Throttled,
}

pub fn enter_code(f: &Frame, typed: &str, problem: Option<Problem>) -> String {
    let t = texts(f.lang);
    let mut body = format!("<p>{}</p>", esc(t.enter));
    let described = match problem {
        Some(p) => {
            let text = if p == Problem::Throttled {
                t.throttled
            } else {
                t.unknown
            };
            let _ = write!(
                body,
                r#"<p class="error" role="alert" id="code-error">{}</p>"#,
                esc(text)
            );
            "code-help code-error"
        }
        None => "code-help",
    };
    let _ = write!(
        body,
        r#"<form method="get" action="/device" class="card">
<label for="user_code">{label}</label>
<input id="user_code" name="user_code" type="text" autocomplete="one-time-code" autocapitalize="characters" maxlength="16" required value="{typed}" aria-describedby="{described}">
<p class="help" id="code-help">{help}</p>
<button type="submit" class="primary">{next}</button>
</form>"#,
        label = esc(t.code_label),
        typed = esc(typed),
        help = esc(t.code_help),
        next = esc(t.next),
    );
    layout(f, t.title, &body)
}

pub fn confirm(
    f: &Frame,
    user_code: &str,
    client_name: &str,
    scopes: &[&str],
    licence_types: &crate::domain::licence_type::LicenceTypes,
) -> String {
    let t = texts(f.lang);
    let items = super::pages::scope_items(f, scopes, licence_types);
    let body = format!(
        r#"<p class="client">{client}</p>
<p>{confirm} <strong class="code">{code}</strong></p>
<p>{asks}</p>
<ul class="scopes">{items}</ul>
<form method="post" action="/device" class="card actions">
<input type="hidden" name="csrf" value="{csrf}">
<input type="hidden" name="user_code" value="{code}">
<button type="submit" name="decision" value="allow" class="primary">{allow}</button>
<button type="submit" name="decision" value="deny">{deny}</button>
</form>"#,
        client = esc(client_name),
        confirm = esc(t.confirm),
        code = esc(user_code),
        asks = esc(t.asks),
        csrf = esc(&f.csrf),
        allow = esc(t.allow),
        deny = esc(t.deny),
    );
    layout(f, t.title, &body)
}

pub fn done(f: &Frame, allowed: bool) -> String {
    let t = texts(f.lang);
    let text = if allowed { t.approved } else { t.denied };
    layout(
        f,
        t.title,
        &format!(r#"<p class="message" role="status">{}</p>"#, esc(text)),
    )
}
