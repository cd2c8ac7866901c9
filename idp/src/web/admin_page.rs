//! The operator's console (运营管理台): the app review queue, provinces, licences, keys, an app's
//! activity drawn as a chart, and the audit log with its chain checked. Each section shows only
//! for an operator holding its role.
use super::account_page::local_time;
use super::i18n::Lang;
use super::pages::{esc, layout, Frame};
use crate::domain::audit::AuditEntry;
use crate::domain::operator::Role;
use crate::domain::upstream_health::Health;
use crate::flows::console::{Activity, AppEntry};
use crate::flows::operators::Operator;
use crate::flows::upstreams::UpstreamInfo;
use crate::store::signing_keys::SigningKeyRow;
use std::fmt::Write;

#[derive(Debug)]
pub struct Console<'a> {
    pub operator: &'a Operator,
    pub apps: &'a [AppEntry],
    /// Each province with how it has been answering this node.
    pub upstreams: &'a [(UpstreamInfo, Health)],
    pub keys: &'a [SigningKeyRow],
    pub notice: Option<String>,
}

fn role_label(lang: Lang, role: Role) -> &'static str {
    match role {
        Role::Apps => lang.pick("应用审核", "apps"),
        Role::Licences => lang.pick("证照管理", "licences"),
        Role::Keys => lang.pick("密钥管理", "keys"),
        Role::Audit => lang.pick("审计", "audit"),
        Role::Corrections => lang.pick("纠错审核", "corrections"),
    }
}

fn status_label(lang: Lang, status: &str) -> &'static str {
    match status {
        "pending" => lang.pick("待审核", "Pending"),
        "approved" => lang.pick("已发布", "Published"),
        "rejected" => lang.pick("已驳回", "Rejected"),
        "suspended" => lang.pick("已暂停", "Suspended"),
        _ => "?",
    }
}

/// A form that sets an app's status, with a reason field when the act needs one.
fn status_form(f: &Frame, app: &AppEntry, to: &str, label: &str, needs_reason: bool) -> String {
    let reason = if needs_reason {
        format!(
            r#"<label for="reason-{to}-{id}">{l}</label><input id="reason-{to}-{id}" type="text" name="reason" required maxlength="200">"#,
            to = to,
            id = esc(&app.client_id),
            l = f.lang.pick("理由", "Reason"),
        )
    } else {
        String::new()
    };
    format!(
        r#"<form method="post" action="/admin/apps/status" class="inline"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="client_id" value="{id}"><input type="hidden" name="status" value="{to}">{reason}<button type="submit" aria-label="{label} {name}">{label}</button></form>"#,
        csrf = esc(&f.csrf),
        id = esc(&app.client_id),
        name = esc(&app.name),
        label = esc(label),
    )
}

fn apps_section(f: &Frame, apps: &[AppEntry], body: &mut String) {
    let lang = f.lang;
    let _ = write!(
        body,
        r#"<section aria-labelledby="apps-title"><h2 id="apps-title">{}</h2>"#,
        lang.pick("应用审核与管理", "App review and registry")
    );
    if apps.is_empty() {
        let _ = write!(body, "<p>{}</p>", lang.pick("暂无应用。", "No apps yet."));
    }
    for app in apps {
        let actions = match app.status.as_str() {
            "pending" => format!(
                "{}{}",
                status_form(f, app, "approved", lang.pick("批准发布", "Approve"), false),
                status_form(f, app, "rejected", lang.pick("驳回", "Reject"), true)
            ),
            "approved" => status_form(f, app, "suspended", lang.pick("暂停", "Suspend"), true),
            _ => status_form(
                f,
                app,
                "approved",
                lang.pick("重新发布", "Publish again"),
                false,
            ),
        };
        let _ = write!(
            body,
            r#"<div class="card app" data-status="{status}"><h3><a href="/admin/apps/{id_url}">{name}</a></h3><p><span class="badge">{status_label}</span> <code>{id}</code> · {registered} {at}</p><p>{uris}</p><p>{scopes_label}: {scopes}</p><p>{rating}</p>{actions}</div>"#,
            status = esc(&app.status),
            id_url = url_path_segment(&app.client_id),
            name = esc(&app.name),
            status_label = status_label(lang, &app.status),
            id = esc(&app.client_id),
            registered = lang.pick("登记于", "registered"),
            at = local_time(app.created_at),
            uris = esc(&app.redirect_uris.join(" ")),
            scopes_label = lang.pick("权限", "Scopes"),
            scopes = esc(&app.scopes),
            rating = super::admin_feedback::tally_line(lang, &app.ratings),
        );
    }
    body.push_str("</section>");
}

fn upstreams_section(f: &Frame, upstreams: &[(UpstreamInfo, Health)], body: &mut String) {
    let lang = f.lang;
    let _ = write!(
        body,
        r#"<section aria-labelledby="provinces-title"><h2 id="provinces-title">{}</h2>"#,
        lang.pick("省级节点", "Provinces")
    );
    if upstreams.is_empty() {
        let _ = write!(
            body,
            "<p>{}</p>",
            lang.pick("未配置上级或下级节点。", "No federation nodes configured.")
        );
    } else {
        let _ = write!(
            body,
            r#"<table class="provinces" tabindex="0"><thead><tr><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>"#,
            lang.pick("代码", "Code"),
            lang.pick("名称", "Name"),
            lang.pick("地址", "Issuer"),
            lang.pick("状态", "State"),
            lang.pick("健康（本节点所见）", "Health (as this node sees it)"),
        );
        for (u, health) in upstreams {
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                esc(&u.code),
                esc(&u.name),
                esc(&u.issuer),
                if u.enabled {
                    lang.pick("启用", "Enabled")
                } else {
                    lang.pick("停用", "Disabled")
                },
                super::admin_feedback::health_cell(lang, health),
            );
        }
        body.push_str("</tbody></table>");
    }
    body.push_str("</section>");
}

fn licences_section(f: &Frame, body: &mut String) {
    let lang = f.lang;
    let _ = write!(
        body,
        r#"<section aria-labelledby="licences-title"><h2 id="licences-title">{title}</h2>
<form method="post" action="/admin/licences" class="card"><input type="hidden" name="csrf" value="{csrf}">
<label for="licence-id">{id_label}</label><input id="licence-id" type="text" name="id" required maxlength="64" autocomplete="off">
<label for="licence-action">{action_label}</label><select id="licence-action" name="action"><option value="suspend">{suspend}</option><option value="reinstate">{reinstate}</option><option value="revoke">{revoke}</option></select>
<button type="submit">{submit}</button></form></section>"#,
        title = lang.pick("电子证照状态", "Licence status"),
        csrf = esc(&f.csrf),
        id_label = lang.pick("证照编号", "Licence id"),
        action_label = lang.pick("操作", "Action"),
        suspend = lang.pick("暂停", "Suspend"),
        reinstate = lang.pick("恢复", "Reinstate"),
        revoke = lang.pick("吊销（不可恢复）", "Revoke (final)"),
        submit = lang.pick("提交", "Apply"),
    );
}

fn keys_section(f: &Frame, keys: &[SigningKeyRow], body: &mut String) {
    let lang = f.lang;
    let _ = write!(
        body,
        r#"<section aria-labelledby="keys-title"><h2 id="keys-title">{}</h2><table><thead><tr><th scope="col">kid</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>"#,
        lang.pick("签名密钥", "Signing keys"),
        lang.pick("算法", "Algorithm"),
        lang.pick("创建时间", "Created"),
        lang.pick("状态", "State"),
    );
    for k in keys {
        let _ = write!(
            body,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&k.kid),
            esc(&k.alg),
            local_time(k.created_at),
            if k.retired_at.is_none() {
                lang.pick("签名中", "Signing")
            } else {
                lang.pick("已轮换", "Retired")
            }
        );
    }
    let _ = write!(
        body,
        r#"</tbody></table><form method="post" action="/admin/keys/rotate" class="card"><input type="hidden" name="csrf" value="{}"><p>{}</p><button type="submit">{}</button></form></section>"#,
        esc(&f.csrf),
        lang.pick("轮换后新密钥立即签名，旧密钥继续公布，直到其签发的令牌全部过期。",
            "New keys sign at once; the old ones stay published until every token they signed has expired."
        ),
        lang.pick("轮换密钥", "Rotate keys"),
    );
}

/// An app id as a path segment: ids are URL-safe, but escape anything else anyway.
fn url_path_segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

pub fn console(f: &Frame, c: &Console<'_>) -> String {
    let lang = f.lang;
    let roles: Vec<&str> = c
        .operator
        .roles
        .iter()
        .map(|r| role_label(lang, *r))
        .collect();
    let mut body = format!(
        r#"<p class="client">{} · {}: {}</p>"#,
        esc(&c.operator.name),
        lang.pick("角色", "Roles"),
        esc(&roles.join(", "))
    );
    if let Some(n) = &c.notice {
        let _ = write!(body, r#"<p class="notice" role="status">{}</p>"#, esc(n));
    }
    if c.operator.may(Role::Audit) {
        let _ = write!(
            body,
            r#"<p><a href="/admin/audit">{}</a></p>"#,
            lang.pick("审计日志", "Audit log")
        );
    }
    if c.operator.may(Role::Corrections) {
        let _ = write!(
            body,
            r#"<p><a href="/admin/corrections">{}</a></p>"#,
            lang.pick("身份认证纠错申请", "Identity correction requests")
        );
    }
    if c.operator.may(Role::Apps) {
        apps_section(f, c.apps, &mut body);
        upstreams_section(f, c.upstreams, &mut body);
    }
    if c.operator.may(Role::Licences) {
        licences_section(f, &mut body);
    }
    if c.operator.may(Role::Keys) {
        keys_section(f, c.keys, &mut body);
    }
    layout(f, lang.pick("运营管理台", "Operator console"), &body)
}

/// A bar chart of hourly counts as inline SVG (no script, readable by screen readers through
/// its title and the table after it).
pub fn bar_chart(title: &str, from: i64, step_secs: i64, values: &[u32]) -> String {
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    let (w, h, bar) = (values.len() * 12, 80usize, 10usize);
    let mut svg = format!(
        r#"<svg class="chart" role="img" aria-label="{t}" viewBox="0 0 {w} {h}" width="100%" height="{h}" preserveAspectRatio="none"><title>{t}</title>"#,
        t = esc(title)
    );
    for (i, v) in values.iter().enumerate() {
        let bh = (*v as usize * (h - 2)) / max as usize;
        let _ = write!(
            svg,
            r#"<rect x="{}" y="{}" width="{bar}" height="{bh}"><title>{} {v}</title></rect>"#,
            i * 12,
            h - bh,
            local_time(from + i as i64 * step_secs)
        );
    }
    // The axes, in HTML around the drawing: the SVG stretches to the page's width, text in it
    // would stretch too.
    let _ = write!(
        svg,
        r#"<line x1="0" y1="{h}" x2="{w}" y2="{h}" class="axis"/></svg><p class="axis-labels" aria-hidden="true"><span>↑ {max}</span><span>{} → {}</span></p>"#,
        local_time(from),
        local_time(from + values.len() as i64 * step_secs),
    );
    svg
}

pub fn app_activity(
    f: &Frame,
    app: &AppEntry,
    counts: &crate::store::clients::Counts,
    a: &Activity,
    ratings: &crate::flows::ratings::AppRatings,
) -> String {
    let lang = f.lang;
    let mut body = format!(
        r#"<p><a href="/admin">{}</a></p><p class="client">{} <code>{}</code> · {}</p>"#,
        lang.pick("返回管理台", "Back to the console"),
        esc(&app.name),
        esc(&app.client_id),
        status_label(lang, &app.status)
    );
    let _ = write!(
        body,
        r#"<ul class="stats"><li>{}: {}</li><li>{}: {}</li><li>{}: {}</li><li>{}: {:.1}%</li></ul>"#,
        lang.pick("登录", "Logins"),
        counts.logins,
        lang.pick("令牌", "Tokens"),
        counts.tokens,
        lang.pick("错误", "Errors"),
        counts.errors,
        lang.pick("错误率", "Error rate"),
        if counts.tokens + counts.errors > 0 {
            counts.errors as f64 * 100.0 / (counts.tokens + counts.errors) as f64
        } else {
            0.0
        }
    );
    for (title, series) in [
        (
            lang.pick("每小时签发令牌（24小时）", "Tokens per hour (24 h)"),
            &a.tokens,
        ),
        (
            lang.pick("每小时新授权", "New consents per hour"),
            &a.consents,
        ),
        (
            lang.pick(
                "每小时拒绝（重放、复用）",
                "Refusals per hour (replays, reuse)",
            ),
            &a.refusals,
        ),
    ] {
        let _ = write!(
            body,
            r#"<section><h2>{}</h2>{}</section>"#,
            esc(title),
            bar_chart(title, a.from, 3600, series)
        );
    }
    super::admin_feedback::ratings_section(f, ratings, &mut body);
    layout(f, lang.pick("应用监控", "App monitoring"), &body)
}

pub fn audit(
    f: &Frame,
    entries: &[AuditEntry],
    filter: &crate::store::console::AuditFilter,
    chain: &Result<i64, String>,
) -> String {
    let lang = f.lang;
    let mut body = format!(
        r#"<p><a href="/admin">{}</a></p>"#,
        lang.pick("返回管理台", "Back to the console")
    );
    match chain {
        Ok(n) => {
            let _ = write!(
                body,
                r#"<p class="notice" role="status">{} {n} {}</p>"#,
                lang.pick("哈希链完整：已校验", "Hash chain intact:"),
                lang.pick("条记录。", "entries verified.")
            );
        }
        Err(why) => {
            let _ = write!(
                body,
                r#"<p class="error" role="alert">{} {}</p>"#,
                lang.pick("哈希链已损坏：", "Hash chain broken:"),
                esc(why)
            );
        }
    }
    let v = |o: &Option<String>| esc(o.as_deref().unwrap_or(""));
    let _ = write!(
        body,
        r#"<form method="get" action="/admin/audit" class="card search"><label for="q-kind">{}</label><input id="q-kind" type="text" name="kind" value="{}" maxlength="64"><label for="q-actor">{}</label><input id="q-actor" type="text" name="actor" value="{}" maxlength="128"><label for="q-client">{}</label><input id="q-client" type="text" name="client_id" value="{}" maxlength="128"><button type="submit">{}</button></form>"#,
        lang.pick("事件类型", "Event kind"),
        v(&filter.kind),
        lang.pick("操作者", "Actor"),
        v(&filter.actor),
        lang.pick("应用", "App"),
        v(&filter.client_id),
        lang.pick("查询", "Search"),
    );
    let _ = write!(
        body,
        r#"<table class="audit" tabindex="0"><thead><tr><th scope="col">#</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>"#,
        lang.pick("时间", "Time"),
        lang.pick("事件", "Event"),
        lang.pick("操作者", "Actor"),
        lang.pick("应用", "App"),
        lang.pick("详情", "Detail"),
    );
    for e in entries {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td><code>{}</code></td></tr>",
            e.seq,
            local_time(e.at),
            esc(&e.event.kind),
            esc(&e.event.actor),
            esc(e.event.client_id.as_deref().unwrap_or("")),
            esc(&e.event.detail)
        );
    }
    body.push_str("</tbody></table>");
    layout(f, lang.pick("审计日志", "Audit log"), &body)
}
