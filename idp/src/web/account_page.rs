//! The citizen's account page (用户专属服务空间): passkeys, bound devices, licences, authorized
//! apps (with their ratings), login history, correction requests and their data.
use super::pages::{esc, layout, Frame};
use super::passkey_text::texts;
use super::{account_feedback, account_sections};
use crate::domain::licence_type::LicenceTypes;
use crate::flows::authorized_apps::AuthorizedApp;
use crate::flows::corrections::Correction;
use crate::flows::devices::BoundDevice;
use crate::flows::my_licences::MyLicence;
use crate::flows::passkeys::PasskeyInfo;
use crate::flows::privacy::HistoryEntry;
use crate::flows::ratings::MyRating;
use std::fmt::Write;

#[derive(Debug)]
pub struct AccountPage<'a> {
    pub name: &'a str,
    pub passkeys: &'a [PasskeyInfo],
    /// Apps bound to a device key (the government app on the citizen's phones).
    pub devices: &'a [BoundDevice],
    pub apps: &'a [AuthorizedApp],
    pub history: &'a [HistoryEntry],
    pub licences: &'a [MyLicence],
    pub corrections: &'a [Correction],
    pub ratings: &'a [MyRating],
    pub licence_types: &'a LicenceTypes,
    /// Binding is offered (the provider has a WebAuthn relying party).
    pub can_bind: bool,
    /// A one-line outcome of the last action.
    pub notice: Option<&'a str>,
}

/// Unix seconds as China Standard Time, the time citizens read.
pub fn local_time(unix: i64) -> String {
    let cst = chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset");
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.with_timezone(&cst).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

pub use account_sections::{erased, notice};

pub fn account(f: &Frame, p: &AccountPage<'_>) -> String {
    let pt = texts(f.lang);
    let mut body = format!(r#"<p class="client">{}</p>"#, esc(p.name));
    if let Some(notice) = p.notice {
        let _ = write!(
            body,
            r#"<p class="notice" role="status">{}</p>"#,
            esc(notice)
        );
    }
    if p.passkeys.iter().any(|k| k.suspended) {
        let _ = write!(
            body,
            r#"<p class="error" role="alert">{}</p>"#,
            esc(pt.suspended_alert)
        );
    }
    let _ = write!(
        body,
        r#"<section aria-labelledby="passkeys-title"><h2 id="passkeys-title">{}</h2>"#,
        esc(pt.section_title)
    );
    if p.passkeys.is_empty() {
        let _ = write!(body, "<p>{}</p>", esc(pt.none_yet));
    } else {
        let _ = write!(
            body,
            r#"<table class="passkeys"><thead><tr><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>"#,
            esc(pt.col_name),
            esc(pt.col_created),
            esc(pt.col_last_used),
            esc(pt.col_status),
            esc(pt.remove_button)
        );
        for k in p.passkeys {
            let _ = write!(
                body,
                r#"<tr><td>{name}</td><td data-label="{l_created}">{created}</td><td data-label="{l_used}">{used}</td><td data-label="{l_status}">{status}</td><td><form method="post" action="/account/passkeys/remove"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="id" value="{id}"><button type="submit" aria-label="{remove} {name}">{remove}</button></form></td></tr>"#,
                name = esc(&k.name),
                l_created = esc(pt.col_created),
                l_used = esc(pt.col_last_used),
                l_status = esc(pt.col_status),
                created = local_time(k.created_at),
                used = k
                    .last_used_at
                    .map(local_time)
                    .unwrap_or_else(|| pt.never.to_owned()),
                status = esc(if k.suspended { pt.suspended } else { pt.active }),
                csrf = esc(&f.csrf),
                id = esc(&k.id),
                remove = esc(pt.remove_button),
            );
        }
        body.push_str("</tbody></table>");
    }
    if p.can_bind {
        let _ = write!(
            body,
            r#"<div class="card passkey" id="passkey-bind" data-working="{working}" data-cancelled="{cancelled}" data-done="{done}" hidden>
<label for="passkey-name">{label}</label>
<input id="passkey-name" type="text" maxlength="40" value="{default}">
<button type="button" id="passkey-bind-button" class="primary">{bind}</button>
<p id="passkey-status" class="status" role="status" aria-live="polite"></p>
</div>
<script src="/static/passkey.js" defer></script>"#,
            working = esc(pt.working),
            cancelled = esc(pt.cancelled),
            done = esc(pt.bound),
            label = esc(pt.name_label),
            default = esc(pt.default_name),
            bind = esc(pt.bind_button),
        );
    }
    body.push_str("</section>");
    devices_section(f, p.devices, &mut body);
    account_feedback::licences(f, p.licences, p.licence_types, &mut body);
    account_sections::apps(f, p.apps, p.ratings, p.licence_types, &mut body);
    account_sections::history(f, p.history, &mut body);
    account_feedback::corrections(f, p.corrections, &mut body);
    account_sections::data(f, &mut body);
    let t = f.t();
    let _ = write!(
        body,
        r#"<form method="post" action="/logout" class="card"><input type="hidden" name="csrf" value="{}"><button type="submit" name="confirm" value="yes">{}</button></form>"#,
        esc(&f.csrf),
        esc(t.logout_button)
    );
    layout(f, pt.account_title, &body)
}

/// 我的设备: the government app on each phone, bound to that phone's key; unbinding ends it.
fn devices_section(f: &Frame, devices: &[BoundDevice], body: &mut String) {
    let zh = f.lang == super::i18n::Lang::Zh;
    let pick = |zh_text: &'static str, en_text: &'static str| if zh { zh_text } else { en_text };
    let _ = write!(
        body,
        r#"<section aria-labelledby="devices-title"><h2 id="devices-title">{}</h2>"#,
        pick("我的设备（已绑定的App）", "My devices (bound apps)")
    );
    if devices.is_empty() {
        let _ = write!(
            body,
            "<p>{}</p>",
            pick("没有已绑定的设备。", "No bound devices.")
        );
    } else {
        let unbind = pick("解绑", "Unbind");
        let _ = write!(
            body,
            r#"<table class="devices"><thead><tr><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>"#,
            pick("应用", "App"),
            pick("绑定时间", "Bound on"),
            pick("设备密钥", "Device key"),
            unbind
        );
        for d in devices {
            let _ = write!(
                body,
                r#"<tr><td>{app}</td><td>{at}</td><td><code>{key}</code></td><td><form method="post" action="/account/devices/remove"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="id" value="{id}"><button type="submit" aria-label="{unbind} {app}">{unbind}</button></form></td></tr>"#,
                app = esc(&d.app),
                at = local_time(d.bound_at),
                key = esc(&d.key),
                csrf = esc(&f.csrf),
                id = esc(&d.id),
                unbind = esc(unbind),
            );
        }
        body.push_str("</tbody></table>");
    }
    body.push_str("</section>");
}
