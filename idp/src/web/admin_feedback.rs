//! The console's views of what citizens tell the platform: ratings per app (好差评), correction
//! requests to review (身份认证结果纠错), and how each province has been answering.
use super::account_feedback::{score_label, topic_label};
use super::account_page::local_time;
use super::i18n::Lang;
use super::pages::{esc, layout, Frame};
use crate::domain::rating::Tally;
use crate::domain::upstream_health::{Health, State};
use crate::flows::corrections::QueueEntry;
use crate::flows::ratings::AppRatings;
use std::fmt::Write;

/// "好评率 67%（好评 2 · 中评 0 · 差评 1）", or that there is none yet.
pub fn tally_line(lang: Lang, t: &Tally) -> String {
    match t.good_percent() {
        None => lang.pick("暂无评价", "No ratings yet").to_owned(),
        Some(p) => format!(
            "{} {p}% ({} {} · {} {} · {} {})",
            lang.pick("好评率", "Rated good by"),
            score_label(lang, "good"),
            t.good,
            score_label(lang, "average"),
            t.average,
            score_label(lang, "bad"),
            t.bad,
        ),
    }
}

pub fn health_cell(lang: Lang, h: &Health) -> String {
    let (class, label) = match h.state() {
        State::Unknown => ("unknown", lang.pick("暂无数据", "No traffic yet")),
        State::Healthy => ("healthy", lang.pick("正常", "Healthy")),
        State::Degraded => ("degraded", lang.pick("部分失败", "Degraded")),
        State::Down => ("down", lang.pick("不可用", "Down")),
    };
    let mut cell = format!(
        r#"<span class="health {class}">{label}</span> · {} {} / {} {}"#,
        lang.pick("成功", "ok"),
        h.ok,
        lang.pick("失败", "failed"),
        h.failed
    );
    if let (Some(at), Some(why)) = (h.last_failure_at, &h.last_failure) {
        let _ = write!(
            cell,
            " · {} {} <code>{}</code>",
            lang.pick("最近失败", "last failure"),
            local_time(at),
            esc(why)
        );
    }
    cell
}

/// An app's ratings on its monitoring page: the tally, drawn, and the newest comments.
pub fn ratings_section(f: &Frame, r: &AppRatings, body: &mut String) {
    let lang = f.lang;
    let total = r.tally.total().max(1);
    let _ = write!(
        body,
        r#"<section aria-labelledby="ratings-title"><h2 id="ratings-title">{}</h2><p>{}</p>"#,
        lang.pick("好差评", "Citizens' ratings"),
        esc(&tally_line(lang, &r.tally)),
    );
    if r.tally.total() > 0 {
        body.push_str(r#"<dl class="tally">"#);
        for (score, n) in [
            ("good", r.tally.good),
            ("average", r.tally.average),
            ("bad", r.tally.bad),
        ] {
            let _ = write!(
                body,
                r#"<dt>{}</dt><dd><meter min="0" max="{total}" value="{n}"></meter> {n}</dd>"#,
                score_label(lang, score),
            );
        }
        body.push_str("</dl>");
        for (title, series) in [
            (
                lang.pick("每日评价数（30天）", "Ratings per day (30 days)"),
                &r.per_day,
            ),
            (
                lang.pick("每日差评数（30天）", "Bad ratings per day (30 days)"),
                &r.bad_per_day,
            ),
        ] {
            let _ = write!(
                body,
                "<h3>{}</h3>{}",
                esc(title),
                super::admin_page::bar_chart(title, r.from, 86_400, series)
            );
        }
    }
    if !r.comments.is_empty() {
        body.push_str(r#"<ul class="comments">"#);
        for c in &r.comments {
            let _ = write!(
                body,
                "<li><strong>{}</strong> {} · {}</li>",
                score_label(lang, &c.score),
                local_time(c.at),
                esc(&c.comment)
            );
        }
        body.push_str("</ul>");
    }
    body.push_str("</section>");
}

/// The review queue of correction requests, each with a form to fix or reject it.
pub fn corrections_page(f: &Frame, queue: &[QueueEntry], notice: Option<&str>) -> String {
    let lang = f.lang;
    let mut body = format!(
        r#"<p><a href="/admin">{}</a></p>"#,
        lang.pick("返回管理台", "Back to the console")
    );
    if let Some(n) = notice {
        let _ = write!(body, r#"<p class="notice" role="status">{}</p>"#, esc(n));
    }
    if queue.is_empty() {
        let _ = write!(
            body,
            "<p>{}</p>",
            lang.pick("没有待处理的纠错申请。", "No requests are waiting.")
        );
    }
    for e in queue {
        let r = &e.request;
        let id = esc(&r.id);
        let links = if e.links.is_empty() {
            lang.pick("无", "none").to_owned()
        } else {
            esc(&e.links.join(", "))
        };
        let _ = write!(
            body,
            r#"<div class="card correction" id="{id}"><h2>{topic}</h2><p>{filed} {at} · <code>{sub}</code></p><p>{name_label} {name} · {links_label} {links}</p><p class="detail">{detail}</p>
<form method="post" action="/admin/corrections/decide"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="id" value="{id}">
<fieldset><legend>{decision}</legend><label class="choice"><input type="radio" name="decision" value="fix" required> {fix}</label><label class="choice"><input type="radio" name="decision" value="reject"> {reject}</label></fieldset>"#,
            topic = topic_label(lang, &r.topic),
            filed = lang.pick("提交于", "Filed"),
            at = local_time(r.filed_at),
            sub = esc(&e.sub),
            name_label = lang.pick("当前姓名：", "Name now:"),
            name = esc(&e.name),
            links_label = lang.pick("关联外省：", "Linked provinces:"),
            detail = esc(&r.detail),
            csrf = esc(&f.csrf),
            decision = lang.pick("处理决定", "Decision"),
            fix = match r.topic.as_str() {
                "name" => lang.pick("更正姓名", "Correct the name"),
                "link" => lang.pick("解除外省账户关联", "Remove the province links"),
                _ => lang.pick("已人工更正", "Corrected by hand"),
            },
            reject = lang.pick("不予更正", "Reject"),
        );
        if r.topic == "name" {
            let _ = write!(
                body,
                r#"<label for="name-{id}">{}</label><input id="name-{id}" type="text" name="new_name" maxlength="64">"#,
                lang.pick(
                    "更正后的姓名（更正时必填）",
                    "Corrected name (needed to correct)"
                )
            );
        }
        let _ = write!(
            body,
            r#"<label for="reason-{id}">{reason}</label><textarea id="reason-{id}" name="reason" rows="2" maxlength="{max}" required></textarea><button type="submit">{submit}</button></form></div>"#,
            reason = lang.pick("处理意见（告知申请人）", "Reason (the citizen sees it)"),
            max = crate::domain::correction::MAX_REASON_CHARS,
            submit = lang.pick("提交决定", "Decide"),
        );
    }
    layout(
        f,
        lang.pick("身份认证纠错申请", "Identity correction requests"),
        &body,
    )
}
