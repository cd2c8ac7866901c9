//! The parts of the citizen's account page beyond their passkeys and devices: the apps they
//! authorized (withdraw any), their login history, and their data (download it, erase the
//! account).
use super::account_page::local_time;
use super::i18n::Lang;
use super::pages::{esc, layout, scope_items, Frame};
use crate::domain::licence_type::LicenceTypes;
use crate::flows::authorized_apps::AuthorizedApp;
use crate::flows::privacy::HistoryEntry;
use crate::flows::ratings::MyRating;
use std::fmt::Write;

/// The one-line outcome of an action of these sections, by its `done` code.
pub fn notice(lang: Lang, done: &str) -> Option<&'static str> {
    Some(match done {
        "rated" => lang.pick("感谢您的评价！", "Thank you for your rating."),
        "rating_invalid" => lang.pick(
            "评价未提交：请选择好评、中评或差评，意见不超过300字。",
            "Not sent: choose good, average or bad, and keep the comment under 300 characters.",
        ),
        "filed" => lang.pick(
            "纠错申请已提交，处理结果会显示在本页。",
            "Request sent. The outcome will appear on this page.",
        ),
        "correction_invalid" => lang.pick(
            "申请未提交：请选择问题类型，并用1000字以内说明情况。",
            "Not sent: choose what is wrong and describe it in under 1,000 characters.",
        ),
        "too_many" => lang.pick(
            "您已有5个处理中的申请，请等待处理后再提交。",
            "You have 5 requests being reviewed; please wait for an outcome first.",
        ),
        "revoked" => lang.pick(
            "已撤销授权：该应用不能再读取您的信息。",
            "Access withdrawn: the app can no longer read your data.",
        ),
        "unconfirmed" => lang.pick(
            "请勾选确认后再注销账户。",
            "Tick the confirmation box to delete your account.",
        ),
        "reauth" => lang.pick(
            "为保护您的账户，请先退出并重新登录，5分钟内再注销账户。",
            "To protect your account, log out and log in again, then delete it within 5 minutes.",
        ),
        _ => return None,
    })
}

/// 我的授权: each app, what it may read, and a button to withdraw it.
pub fn apps(
    f: &Frame,
    apps: &[AuthorizedApp],
    ratings: &[MyRating],
    types: &LicenceTypes,
    body: &mut String,
) {
    let lang = f.lang;
    let _ = write!(
        body,
        r#"<section aria-labelledby="apps-title"><h2 id="apps-title">{}</h2>"#,
        lang.pick("我的授权", "Apps I authorized")
    );
    if apps.is_empty() {
        let _ = write!(
            body,
            "<p>{}</p>",
            lang.pick("您还没有授权任何应用。", "You have not authorized any app.")
        );
    }
    let revoke = lang.pick("撤销授权", "Withdraw");
    for app in apps {
        let scopes: Vec<&str> = app.scopes.iter().map(String::as_str).collect();
        let _ = write!(
            body,
            r#"<div class="card app"><h3>{name}</h3><p>{since} {at}</p><ul class="scopes">{items}</ul><form method="post" action="/account/apps/revoke"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="id" value="{id}"><button type="submit" aria-label="{revoke} {name}">{revoke}</button></form>"#,
            name = esc(&app.name),
            since = lang.pick("授权于", "Authorized on"),
            at = local_time(app.granted_at),
            items = scope_items(f, &scopes, types),
            csrf = esc(&f.csrf),
            id = esc(&app.client_id),
            revoke = esc(revoke),
        );
        let mine = ratings.iter().find(|r| r.client_id == app.client_id);
        super::account_feedback::rating_form(f, &app.client_id, &app.name, mine, body);
        body.push_str("</div>");
    }
    body.push_str("</section>");
}

fn method_label(lang: Lang, method: Option<&str>) -> &'static str {
    match method {
        Some("pwd") => lang.pick("密码", "Password"),
        Some("passkey") => lang.pick("指纹/通行密钥", "Passkey"),
        Some("qr") => lang.pick("扫码登录", "QR code"),
        Some("federation") => lang.pick("外省账户", "Another province"),
        _ => "",
    }
}

fn kind_label(lang: Lang, kind: &str) -> &'static str {
    match kind {
        "login.success" => lang.pick("登录", "Login"),
        "logout" => lang.pick("退出", "Logout"),
        "consent.withdrawn" => lang.pick("撤销授权", "Access withdrawn"),
        _ => lang.pick("其他", "Other"),
    }
}

/// 登录记录: the newest logins and logouts.
pub fn history(f: &Frame, entries: &[HistoryEntry], body: &mut String) {
    let lang = f.lang;
    let _ = write!(
        body,
        r#"<section aria-labelledby="history-title"><h2 id="history-title">{}</h2>"#,
        lang.pick("登录记录", "Login history")
    );
    if entries.is_empty() {
        let _ = write!(body, "<p>{}</p>", lang.pick("暂无记录。", "Nothing yet."));
        body.push_str("</section>");
        return;
    }
    let _ = write!(
        body,
        r#"<table class="history"><thead><tr><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>"#,
        lang.pick("时间", "Time"),
        lang.pick("事件", "Event"),
        lang.pick("方式", "Method"),
        lang.pick("应用", "App"),
        lang.pick("来源网段", "From network"),
    );
    for e in entries.iter().take(20) {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            local_time(e.at),
            kind_label(lang, &e.kind),
            method_label(lang, e.method.as_deref()),
            esc(e.app.as_deref().or(e.client_id.as_deref()).unwrap_or("")),
            esc(e.network.as_deref().unwrap_or("")),
        );
    }
    body.push_str("</tbody></table></section>");
}

/// 我的数据: download everything, or erase the account.
pub fn data(f: &Frame, body: &mut String) {
    let lang = f.lang;
    let _ = write!(
        body,
        r#"<section aria-labelledby="data-title"><h2 id="data-title">{title}</h2>
<form method="post" action="/account/export" class="card"><input type="hidden" name="csrf" value="{csrf}"><p>{export_intro}</p><button type="submit">{export}</button></form>
<form method="post" action="/account/delete" class="card danger"><input type="hidden" name="csrf" value="{csrf}"><p>{delete_intro}</p><p><input type="checkbox" id="delete-confirm" name="confirm" value="yes"> <label for="delete-confirm">{confirm}</label></p><button type="submit">{delete}</button></form>
</section>"#,
        title = lang.pick("我的数据", "My data"),
        csrf = esc(&f.csrf),
        export_intro = lang.pick("下载本平台保存的您的全部个人信息（JSON 文件）。",
            "Download all personal data this platform holds about you (a JSON file)."
        ),
        export = lang.pick("下载我的数据", "Download my data"),
        delete_intro = lang.pick("注销后，您的账户、授权、通行密钥和登录状态将被删除，且无法恢复。电子证照由发证机关保管，不受影响。",
            "Deleting removes your account, authorizations, passkeys and sessions for good. Your licences are kept by the authorities that issued them."
        ),
        confirm = lang.pick("我已了解，确认注销账户", "I understand; delete my account"),
        delete = lang.pick("注销账户", "Delete my account"),
    );
}

/// The page after erasure.
pub fn erased(f: &Frame) -> String {
    let lang = f.lang;
    let body = format!(
        r#"<p class="notice" role="status">{}</p>"#,
        lang.pick(
            "您的账户已注销，相关数据已删除。",
            "Your account has been deleted, and its data with it."
        )
    );
    layout(f, lang.pick("账户已注销", "Account deleted"), &body)
}
