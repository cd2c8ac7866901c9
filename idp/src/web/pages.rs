//! Server-rendered pages. Every dynamic value goes through `esc`; no inline script or style
//! (the CSP forbids them); one stylesheet and one small script from /static.
use super::i18n::{Lang, Texts};
use std::fmt::Write;

/// HTML-escapes text for element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What every page needs to draw its frame. The display switches are plain links: they change
/// only how pages look, so they need no CSRF token.
#[derive(Debug, Clone)]
pub struct Frame {
    pub lang: Lang,
    pub elder: bool,
    pub csrf: String,
    /// Local path of this page, so the mode switch comes back here.
    pub path: String,
}

impl Frame {
    pub fn t(&self) -> &'static Texts {
        self.lang.t()
    }
}

pub fn layout(f: &Frame, title: &str, body: &str) -> String {
    let t = f.t();
    let (elder_label, elder_value) = if f.elder {
        (t.elder_off, "0")
    } else {
        (t.elder_on, "1")
    };
    let other = if f.lang == Lang::Zh { "en" } else { "zh-CN" };
    format!(
        r##"<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {site}</title>
<link rel="stylesheet" href="/static/app.css">
</head>
<body class="{body_class}">
<a class="skip" href="#main">{skip}</a>
<header class="top">
<span class="site">{site}</span>
<nav class="prefs" aria-label="{prefs_label}">
<a href="/prefs?elder={elder_value}&amp;return_to={path}">{elder_label}</a>
<a href="/prefs?lang={other}&amp;return_to={path}" lang="{other}">{other_label}</a>
<button type="button" id="read-aloud" class="link" aria-pressed="false" data-stop="{read_stop}" hidden>{read}</button>
</nav>
</header>
<main id="main">
<h1>{title}</h1>
{body}
</main>
<script src="/static/read_aloud.js" defer></script>
</body>
</html>
"##,
        lang = f.lang.tag(),
        title = esc(title),
        site = esc(t.site),
        body_class = if f.elder { "elder" } else { "" },
        skip = if f.lang == Lang::Zh {
            "跳到主要内容"
        } else {
            "Skip to content"
        },
        path = esc(&url::form_urlencoded::byte_serialize(f.path.as_bytes()).collect::<String>()),
        other_label = t.other_language,
        read = f.lang.pick("朗读本页", "Read aloud"),
        read_stop = f.lang.pick("停止朗读", "Stop reading"),
        prefs_label = if f.lang == Lang::Zh {
            "显示设置"
        } else {
            "Display settings"
        },
    )
}

#[derive(Debug)]
pub struct LoginPage<'a> {
    pub request_id: Option<&'a str>,
    /// A local page to return to after a login that serves no authorization request.
    pub next: Option<&'a str>,
    pub client_name: Option<&'a str>,
    pub username: &'a str,
    pub error: Option<String>,
    /// Offer passkey login (the provider has a WebAuthn relying party).
    pub passkeys: bool,
    /// The client asked for the strong level: say that a passkey is needed.
    pub step_up: bool,
    /// Offer logging in with an account of another region (federation), and the home this
    /// browser chose before: (code, name).
    pub elsewhere: Option<Option<(&'a str, &'a str)>>,
}

pub fn login(f: &Frame, p: &LoginPage<'_>) -> String {
    let t = f.t();
    let mut body = String::new();
    if let Some(name) = p.client_name {
        let _ = write!(body, r#"<p class="client">{}</p>"#, esc(name));
    }
    let _ = write!(body, "<p>{}</p>", esc(t.login_intro));
    if let Some(e) = &p.error {
        let _ = write!(
            body,
            r#"<p class="error" role="alert" id="login-error">{}</p>"#,
            esc(e)
        );
    }
    if p.passkeys {
        body.push_str(&passkey_login_block(f, p));
    }
    body.push_str(&qr_login_block(f, p));
    let described = if p.error.is_some() {
        "username-help login-error"
    } else {
        "username-help"
    };
    let _ = write!(
        body,
        r#"<form method="post" action="/login" class="card">
<input type="hidden" name="csrf" value="{csrf}">
<input type="hidden" name="req" value="{req}">
<input type="hidden" name="next" value="{next}">
<label for="username">{ul}</label>
<input id="username" name="username" type="text" autocomplete="username webauthn" inputmode="text" maxlength="64" required value="{uv}" aria-describedby="{described}">
<p class="help" id="username-help">{uh}</p>
<label for="password">{pl}</label>
<input id="password" name="password" type="password" autocomplete="current-password" maxlength="256" required>
<button type="submit" class="primary">{lb}</button>
</form>"#,
        csrf = esc(&f.csrf),
        req = esc(p.request_id.unwrap_or("")),
        next = esc(p.next.unwrap_or("")),
        ul = esc(t.username),
        uv = esc(p.username),
        uh = esc(t.username_help),
        pl = esc(t.password),
        lb = esc(t.login_button),
    );
    if let Some(remembered) = p.elsewhere {
        body.push_str(&elsewhere_block(f, p, remembered));
    }
    layout(f, t.login_title, &body)
}

/// An account of another region: the citizen's home is found from the ID number (which goes
/// nowhere else), or taken from the choice this browser made before.
fn elsewhere_block(f: &Frame, p: &LoginPage<'_>, remembered: Option<(&str, &str)>) -> String {
    let zh = f.lang == super::i18n::Lang::Zh;
    let pick = |zh_text: &'static str, en_text: &'static str| if zh { zh_text } else { en_text };
    let req = p.request_id.unwrap_or("");
    let again = match remembered {
        Some((code, name)) => format!(
            r#"<p><a class="button" id="home-again" href="/federation/start?upstream={code}&amp;req={req}">{text}{name}</a></p>"#,
            code = esc(code),
            req = esc(req),
            text = pick("继续使用此地账号登录：", "Continue with your account in "),
            name = esc(name),
        ),
        None => String::new(),
    };
    format!(
        r#"<section class="card" id="elsewhere">
<h2>{title}</h2>
{again}<form method="post" action="/federation/route">
<input type="hidden" name="csrf" value="{csrf}">
<input type="hidden" name="req" value="{req}">
<label for="home-id">{label}</label>
<input id="home-id" name="id_number" type="text" inputmode="text" autocomplete="off" maxlength="18" required aria-describedby="home-id-help">
<p class="help" id="home-id-help">{help}</p>
<button type="submit">{button}</button>
</form>
</section>"#,
        title = pick("其他地区的账号", "An account in another region"),
        csrf = esc(&f.csrf),
        req = esc(req),
        label = pick("身份证号", "ID number"),
        help = pick(
            "只用来找到您账号所在的地区，不会发给应用。",
            "Used only to find the region of your account; no app receives it."
        ),
        button = pick("前往所在地登录", "Log in where your account is"),
    )
}

/// The QR code for the government app; drawn and kept fresh by `/static/qr.js`.
fn qr_login_block(f: &Frame, p: &LoginPage<'_>) -> String {
    let zh = f.lang == super::i18n::Lang::Zh;
    let pick = |zh_text: &'static str, en_text: &'static str| if zh { zh_text } else { en_text };
    format!(
        r##"<section class="card qr" id="qr-login" data-req="{req}" data-next="{next}" data-waiting="{waiting}" data-scanned="{scanned}" data-approved="{approved}" data-denied="{denied}" data-expired="{expired}" hidden>
<h2>{title}</h2>
<img id="qr-image" alt="{alt}" width="220" height="220">
<p id="qr-status" class="status" role="status" aria-live="polite">{waiting}</p>
<p><a id="qr-link" href="#">{link}</a></p>
</section>
<script src="/static/qr.js" defer></script>"##,
        req = esc(p.request_id.unwrap_or("")),
        next = esc(p.next.unwrap_or("")),
        title = pick("扫码登录", "Log in with the government app"),
        alt = pick(
            "登录二维码：请用国家政务服务App扫描",
            "Login QR code: scan it with the government app"
        ),
        waiting = pick("待扫码", "Waiting for a scan"),
        scanned = pick("已扫码，请在手机上确认", "Scanned: confirm on your phone"),
        approved = pick("已确认，正在登录……", "Confirmed, logging in…"),
        denied = pick("已拒绝", "Denied"),
        expired = pick(
            "二维码已过期，正在刷新……",
            "The code expired; drawing a new one…"
        ),
        link = pick(
            "无法扫码？在装有政务App的手机上打开此链接",
            "Cannot scan? Open this link on the phone with the app"
        ),
    )
}

/// The fingerprint button; hidden until the script finds WebAuthn in the browser.
fn passkey_login_block(f: &Frame, p: &LoginPage<'_>) -> String {
    let pt = super::passkey_text::texts(f.lang);
    let step_up = if p.step_up {
        format!(r#"<p class="notice" role="alert">{}</p>"#, esc(pt.step_up))
    } else {
        String::new()
    };
    format!(
        r#"<section class="card passkey" id="passkey-login" data-req="{req}" data-next="{next}" data-working="{working}" data-cancelled="{cancelled}" hidden>
{step_up}<button type="button" id="passkey-login-button" class="primary">{button}</button>
<p class="help">{help}</p>
<p id="passkey-status" class="status" role="status" aria-live="polite"></p>
</section>
<p class="or">{or}</p>
<script src="/static/passkey.js" defer></script>"#,
        req = esc(p.request_id.unwrap_or("")),
        next = esc(p.next.unwrap_or("")),
        working = esc(pt.working),
        cancelled = esc(pt.cancelled),
        button = esc(pt.login_button),
        help = esc(pt.login_help),
        or = esc(pt.or_password),
    )
}

/// What each scope lets the app read, as list items; the ID number and licences marked
/// sensitive, a licence by its name in the page's language.
pub fn scope_items(
    f: &Frame,
    scopes: &[&str],
    licence_types: &crate::domain::licence_type::LicenceTypes,
) -> String {
    let t = f.t();
    let mut items = String::new();
    for s in scopes {
        let licence = crate::domain::scope::licence_type(s)
            .and_then(|id| licence_types.get(id))
            .map(|kind| match f.lang {
                super::i18n::Lang::Zh => format!("{}{}", t.scope_licence, kind.name.zh),
                super::i18n::Lang::En => format!("{}{}", t.scope_licence, kind.name.en),
            });
        let label = licence
            .or_else(|| t.scope(s).map(str::to_owned))
            .unwrap_or_else(|| (*s).to_owned());
        let class = if crate::domain::scope::needs_consent_always(s) {
            r#" class="sensitive""#
        } else {
            ""
        };
        let _ = write!(items, "<li{class}>{}</li>", esc(&label));
    }
    items
}

pub fn consent(
    f: &Frame,
    request_id: &str,
    client_name: &str,
    scopes: &[&str],
    licence_types: &crate::domain::licence_type::LicenceTypes,
) -> String {
    let t = f.t();
    let items = scope_items(f, scopes, licence_types);
    let body = format!(
        r#"<p class="client">{client}</p>
<p>{intro}</p>
<ul class="scopes">{items}</ul>
<form method="post" action="/consent" class="card actions">
<input type="hidden" name="csrf" value="{csrf}">
<input type="hidden" name="req" value="{req}">
<button type="submit" name="decision" value="allow" class="primary">{allow}</button>
<button type="submit" name="decision" value="deny">{deny}</button>
</form>"#,
        client = esc(client_name),
        intro = esc(t.consent_intro),
        csrf = esc(&f.csrf),
        req = esc(request_id),
        allow = esc(t.allow),
        deny = esc(t.deny),
    );
    layout(f, t.consent_title, &body)
}

pub fn message(f: &Frame, title: &str, message: &str) -> String {
    layout(
        f,
        title,
        &format!(r#"<p class="message" role="alert">{}</p>"#, esc(message)),
    )
}

pub fn logout_confirm(f: &Frame, hidden: &[(&str, &str)]) -> String {
    let t = f.t();
    let mut inputs = String::new();
    for (k, v) in hidden {
        let _ = write!(
            inputs,
            r#"<input type="hidden" name="{}" value="{}">"#,
            esc(k),
            esc(v)
        );
    }
    let body = format!(
        r#"<p>{q}</p>
<form method="post" action="/logout" class="card">
<input type="hidden" name="csrf" value="{csrf}">
{inputs}
<button type="submit" name="confirm" value="yes" class="primary">{b}</button>
</form>"#,
        q = esc(t.logout_confirm),
        csrf = esc(&f.csrf),
        b = esc(t.logout_button),
    );
    layout(f, t.logout_title, &body)
}

/// OAuth 2.0 Form Post Response Mode: an auto-submitting form (script from /static).
pub fn form_post(f: &Frame, action: &str, params: &[(&str, String)]) -> String {
    let t = f.t();
    let mut inputs = String::new();
    for (k, v) in params {
        let _ = write!(
            inputs,
            r#"<input type="hidden" name="{}" value="{}">"#,
            esc(k),
            esc(v)
        );
    }
    format!(
        r#"<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="/static/app.css"><script src="/static/form_post.js" defer></script></head>
<body><main><form method="post" action="{action}" id="form_post">{inputs}
<p>{note}</p><button type="submit">{cont}</button></form></main></body></html>
"#,
        lang = f.lang.tag(),
        title = esc(t.site),
        action = esc(action),
        note = esc(t.form_post_note),
        cont = esc(t.continue_button),
    )
}
