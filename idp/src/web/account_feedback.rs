//! The account page's 我的证照 (licences, each movable into the government app by QR code),
//! 纠错申请 (correction requests and their outcome) and 好差评 (rating an app).
use super::account_page::local_time;
use super::i18n::Lang;
use super::pages::{esc, layout, Frame};
use crate::domain::licence_type::LicenceTypes;
use crate::domain::rating::Score;
use crate::flows::corrections::Correction;
use crate::flows::my_licences::MyLicence;
use crate::flows::ratings::MyRating;
use std::fmt::Write;

pub fn topic_label(lang: Lang, topic: &str) -> &'static str {
    match topic {
        "name" => lang.pick("姓名有误", "My name is wrong"),
        "link" => lang.pick(
            "关联了不属于我的外省账户",
            "Linked to another province's account that is not mine",
        ),
        _ => lang.pick("其他认证信息有误", "Something else is wrong"),
    }
}

pub fn state_label(lang: Lang, state: &str) -> &'static str {
    match state {
        "open" => lang.pick("处理中", "Being reviewed"),
        "fixed" => lang.pick("已更正", "Corrected"),
        "rejected" => lang.pick("未予更正", "Not corrected"),
        _ => "",
    }
}

pub fn score_label(lang: Lang, score: &str) -> &'static str {
    match score {
        "good" => lang.pick("好评", "Good"),
        "average" => lang.pick("中评", "Average"),
        "bad" => lang.pick("差评", "Bad"),
        _ => "",
    }
}

fn licence_state_label(lang: Lang, l: &MyLicence) -> &'static str {
    match l.state.as_str() {
        "active" if l.usable => lang.pick("有效", "Valid"),
        "active" => lang.pick("已过期", "Expired"),
        "suspended" => lang.pick("已暂停", "Suspended"),
        "revoked" => lang.pick("已注销", "Revoked"),
        _ => "",
    }
}

/// 我的证照: each licence, and a button that puts it into the government app.
pub fn licences(f: &Frame, list: &[MyLicence], types: &LicenceTypes, body: &mut String) {
    let lang = f.lang;
    let _ = write!(
        body,
        r#"<section aria-labelledby="licences-title"><h2 id="licences-title">{}</h2>"#,
        lang.pick("我的证照", "My licences")
    );
    if list.is_empty() {
        let _ = write!(
            body,
            "<p>{}</p>",
            lang.pick(
                "暂无电子证照。实名认证后，发证机关签发的证照会显示在这里。",
                "No licences yet. Once your identity is verified, licences issued to you appear here."
            )
        );
    }
    for l in list {
        let name = types
            .get(&l.licence_type)
            .map(|t| {
                if lang == Lang::Zh {
                    t.name.zh.as_str()
                } else {
                    t.name.en.as_str()
                }
            })
            .unwrap_or(l.licence_type.as_str());
        let _ = write!(
            body,
            r#"<div class="card licence"><h3>{name}</h3><p>{state} · {until} {date}</p>"#,
            name = esc(name),
            state = licence_state_label(lang, l),
            until = lang.pick("有效期至", "Valid until"),
            date = local_time(l.valid_until),
        );
        if l.usable {
            let _ = write!(
                body,
                r#"<form method="post" action="/account/licences/show"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="id" value="{id}"><button type="submit" aria-label="{show} {name}">{show}</button></form>"#,
                csrf = esc(&f.csrf),
                id = esc(&l.id),
                name = esc(name),
                show = lang.pick("亮证（添加到政务App）", "Show (add to the government app)"),
            );
        }
        body.push_str("</div>");
    }
    body.push_str("</section>");
}

/// The page with a licence's QR code: the government app scans it, asks for the 6-digit code
/// and keeps the licence, which it then shows by QR at any counter.
pub fn licence_offer(f: &Frame, name: &str, qr_svg: &str, tx_code: &str) -> String {
    let lang = f.lang;
    let body = format!(
        r#"<p class="client">{name}</p>
<ol class="steps"><li>{s1}</li><li>{s2}</li><li>{s3}</li></ol>
<figure class="qr" role="img" aria-label="{alt}">{qr_svg}</figure>
<p>{code_label} <strong class="tx-code" data-speak="{code_spoken}">{tx_code}</strong></p>
<p class="help">{expiry}</p>
<p><a href="/account">{back}</a></p>"#,
        name = esc(name),
        s1 = lang.pick(
            "打开政务App，点“扫一扫”，扫描下方二维码。",
            "Open the government app and scan the code below."
        ),
        s2 = lang.pick(
            "在App中输入下方的6位交易码。",
            "Enter the 6-digit code below in the app."
        ),
        s3 = lang.pick(
            "证照保存在App中，办事时在App里出示二维码即可（扫码亮证）。",
            "The licence stays in the app: show its QR code at any counter."
        ),
        alt = lang.pick("添加证照的二维码", "QR code to add the licence"),
        code_label = lang.pick("交易码：", "Code:"),
        code_spoken = esc(&tx_code
            .chars()
            .map(String::from)
            .collect::<Vec<_>>()
            .join(" ")),
        tx_code = esc(tx_code),
        expiry = lang.pick(
            "二维码10分钟内有效，只能使用一次。请勿截图发给他人。",
            "The code works once, within 10 minutes. Do not share it."
        ),
        back = lang.pick("返回我的账户", "Back to my account"),
    );
    layout(
        f,
        lang.pick("添加证照到政务App", "Add a licence to the government app"),
        &body,
    )
}

/// 纠错申请: the citizen's requests with their outcome, and the form to file one.
pub fn corrections(f: &Frame, list: &[Correction], body: &mut String) {
    let lang = f.lang;
    let _ = write!(
        body,
        r#"<section aria-labelledby="corrections-title"><h2 id="corrections-title">{}</h2>"#,
        lang.pick("认证信息纠错", "Correct my identity data")
    );
    for c in list {
        let _ = write!(
            body,
            r#"<div class="card correction" data-state="{state}"><h3>{topic}</h3><p>{filed} {at} · <strong>{state_label}</strong></p><p class="detail">{detail}</p>"#,
            state = esc(&c.state),
            topic = topic_label(lang, &c.topic),
            filed = lang.pick("提交于", "Filed on"),
            at = local_time(c.filed_at),
            state_label = state_label(lang, &c.state),
            detail = esc(&c.detail),
        );
        if let Some(reason) = &c.reason {
            let _ = write!(
                body,
                r#"<p class="reason">{} {}</p>"#,
                lang.pick("处理意见：", "Outcome:"),
                esc(reason)
            );
        }
        body.push_str("</div>");
    }
    let mut options = String::new();
    for t in crate::domain::correction::Topic::ALL {
        let _ = write!(
            options,
            r#"<option value="{}">{}</option>"#,
            t.as_str(),
            topic_label(lang, t.as_str())
        );
    }
    let _ = write!(
        body,
        r#"<form method="post" action="/account/corrections" class="card"><input type="hidden" name="csrf" value="{csrf}">
<p>{intro}</p>
<label for="correction-topic">{topic}</label><select id="correction-topic" name="topic">{options}</select>
<label for="correction-detail">{detail}</label><textarea id="correction-detail" name="detail" rows="4" maxlength="{max}" required></textarea>
<button type="submit">{submit}</button></form></section>"#,
        csrf = esc(&f.csrf),
        intro = lang.pick(
            "发现认证信息或账户关联有误？提交申请，工作人员核实后会更正或答复。",
            "Is something about your identity or linked accounts wrong? Tell us; staff will check and correct it or explain."
        ),
        topic = lang.pick("问题类型", "What is wrong"),
        detail = lang.pick("情况说明", "Details"),
        max = crate::domain::correction::MAX_DETAIL_CHARS,
        submit = lang.pick("提交纠错申请", "Send the request"),
    );
}

/// 好差评 inside an authorized app's card: the citizen's rating, if any, and a form to give or
/// change it. Quiet by design: nothing asks twice.
pub fn rating_form(
    f: &Frame,
    client_id: &str,
    app_name: &str,
    mine: Option<&MyRating>,
    body: &mut String,
) {
    let lang = f.lang;
    if let Some(r) = mine {
        let _ = write!(
            body,
            r#"<p class="rating">{} <strong>{}</strong></p>"#,
            lang.pick("我的评价：", "My rating:"),
            score_label(lang, &r.score)
        );
    }
    let id = esc(client_id);
    let _ = write!(
        body,
        r#"<details class="rate"><summary>{summary}</summary><form method="post" action="/account/apps/rate"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="id" value="{id}"><fieldset><legend>{legend} {name}</legend>"#,
        summary = if mine.is_some() {
            lang.pick("修改评价", "Change my rating")
        } else {
            lang.pick("评价此应用", "Rate this app")
        },
        csrf = esc(&f.csrf),
        legend = lang.pick("您对此应用的体验：", "Your experience with"),
        name = esc(app_name),
    );
    for s in Score::ALL {
        let checked = mine.is_some_and(|r| r.score == s.as_str());
        let _ = write!(
            body,
            r#"<label class="choice"><input type="radio" name="score" value="{v}"{c} required> {l}</label>"#,
            v = s.as_str(),
            c = if checked { " checked" } else { "" },
            l = score_label(lang, s.as_str()),
        );
    }
    let _ = write!(
        body,
        r#"</fieldset><label for="comment-{id}">{comment}</label><input id="comment-{id}" type="text" name="comment" maxlength="{max}"><button type="submit">{submit}</button></form></details>"#,
        comment = lang.pick("意见（选填）", "Comment (optional)"),
        max = crate::domain::rating::MAX_COMMENT_CHARS,
        submit = lang.pick("提交评价", "Send"),
    );
}
