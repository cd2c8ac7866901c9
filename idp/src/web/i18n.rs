//! Page texts in Simplified Chinese (first) and English, chosen by `ui_locales`, then a
//! remembered choice, then `Accept-Language`.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// One of two inline texts, for pages whose few words do not warrant a `Texts` field.
    pub fn pick(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    fn from_tag(tag: &str) -> Option<Lang> {
        let t = tag.trim().to_ascii_lowercase();
        if t.starts_with("zh") {
            Some(Lang::Zh)
        } else if t.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// `ui_locales` is space-separated in preference order; `Accept-Language` is weighted.
    pub fn negotiate(
        ui_locales: Option<&str>,
        remembered: Option<&str>,
        accept_language: Option<&str>,
    ) -> Lang {
        if let Some(l) = ui_locales.and_then(|u| u.split(' ').find_map(Lang::from_tag)) {
            return l;
        }
        if let Some(l) = remembered.and_then(Lang::from_tag) {
            return l;
        }
        let mut best: Option<(f32, Lang)> = None;
        for part in accept_language.unwrap_or("").split(',') {
            let mut pieces = part.split(';');
            let Some(lang) = pieces.next().and_then(Lang::from_tag) else {
                continue;
            };
            let q = pieces
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::Zh)
    }

    pub fn t(self) -> &'static Texts {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }
}

#[derive(Debug)]
pub struct Texts {
    pub site: &'static str,
    pub login_title: &'static str,
    pub login_intro: &'static str,
    pub username: &'static str,
    pub username_help: &'static str,
    pub password: &'static str,
    pub login_button: &'static str,
    pub wrong_credentials: &'static str,
    pub throttled: &'static str,
    pub bad_id_number: &'static str,
    pub colon: &'static str,
    pub consent_title: &'static str,
    pub consent_intro: &'static str,
    pub allow: &'static str,
    pub deny: &'static str,
    pub error_title: &'static str,
    pub request_expired: &'static str,
    pub csrf_failed: &'static str,
    pub unavailable: &'static str,
    pub internal: &'static str,
    pub malformed: &'static str,
    pub logout_title: &'static str,
    pub logout_confirm: &'static str,
    pub logout_button: &'static str,
    pub logged_out: &'static str,
    pub logged_in: &'static str,
    pub elder_on: &'static str,
    pub elder_off: &'static str,
    pub continue_button: &'static str,
    pub form_post_note: &'static str,
    pub other_language: &'static str,
    pub scope_openid: &'static str,
    pub scope_profile: &'static str,
    pub scope_email: &'static str,
    pub scope_address: &'static str,
    pub scope_phone: &'static str,
    pub scope_offline: &'static str,
    pub scope_id_number: &'static str,
    pub scope_gov_app: &'static str,
    /// Followed by the licence type's name.
    pub scope_licence: &'static str,
    pub untrusted_unknown_client: &'static str,
    pub untrusted_redirect: &'static str,
    pub untrusted_not_approved: &'static str,
    pub untrusted_missing: &'static str,
}

impl Texts {
    pub fn scope(&self, scope: &str) -> Option<&'static str> {
        Some(match scope {
            "openid" => self.scope_openid,
            "profile" => self.scope_profile,
            "email" => self.scope_email,
            "address" => self.scope_address,
            "phone" => self.scope_phone,
            "offline_access" => self.scope_offline,
            "id_number" => self.scope_id_number,
            "gov_app" => self.scope_gov_app,
            _ => return None,
        })
    }
}

pub static ZH: Texts = Texts {
    site: "国家统一身份认证",
    login_title: "登录",
    login_intro: "请使用身份证号码或手机号码登录",
    username: "身份证号码或手机号码",
    username_help: "18位身份证号码，末位可以是 X",
    password: "密码",
    login_button: "登录",
    wrong_credentials: "账号或密码错误，请重新输入。",
    throttled: "尝试次数过多，请15分钟后再试。",
    bad_id_number: "身份证号码有误",
    colon: "：",
    consent_title: "授权确认",
    consent_intro: "以下应用请求访问您的信息：",
    allow: "同意授权",
    deny: "拒绝",
    error_title: "出错了",
    request_expired: "登录请求已过期或已完成，请返回应用重新登录。",
    csrf_failed: "页面已过期，请刷新后重试。",
    unavailable: "服务暂时不可用，请稍后再试。",
    internal: "系统发生错误，请稍后再试。",
    malformed: "请求格式有误。",
    logout_title: "退出登录",
    logout_confirm: "确定要退出统一身份认证吗？",
    logout_button: "退出登录",
    logged_out: "您已安全退出。",
    logged_in: "您已登录。",
    elder_on: "长辈模式",
    elder_off: "标准模式",
    continue_button: "继续",
    form_post_note: "正在返回应用，如未自动跳转请点击“继续”。",
    other_language: "English",
    scope_openid: "确认您的身份",
    scope_profile: "您的姓名",
    scope_email: "您的电子邮箱",
    scope_address: "您的地址",
    scope_phone: "您的手机号码",
    scope_offline: "在您离开后继续访问（长期授权）",
    scope_id_number: "您的身份证号码（敏感信息）",
    scope_gov_app: "代您确认扫码登录、自助终端登录和管理设备",
    scope_licence: "您的电子证照（敏感信息）：",
    untrusted_unknown_client: "该应用未在平台注册。",
    untrusted_redirect: "应用提供的回调地址未经登记，为保护您的安全，已停止登录。",
    untrusted_not_approved: "该应用尚未通过审核或已被暂停，无法登录。",
    untrusted_missing: "登录请求缺少必要参数。",
};

pub static EN: Texts = Texts {
    site: "National Identity Service",
    login_title: "Log in",
    login_intro: "Log in with your ID number or mobile number",
    username: "ID number or mobile number",
    username_help: "18-character ID number; the last may be X",
    password: "Password",
    login_button: "Log in",
    wrong_credentials: "The account or password is wrong. Please try again.",
    throttled: "Too many attempts. Please try again in 15 minutes.",
    bad_id_number: "The ID number is not valid",
    colon: ": ",
    consent_title: "Allow access",
    consent_intro: "This app asks to access your information:",
    allow: "Allow",
    deny: "Deny",
    error_title: "Something went wrong",
    request_expired: "This login request has expired or was already completed. Please go back to the app and log in again.",
    csrf_failed: "This page has expired. Please reload it and try again.",
    unavailable: "The service is temporarily unavailable. Please try again shortly.",
    internal: "An internal error occurred. Please try again later.",
    malformed: "The request is malformed.",
    logout_title: "Log out",
    logout_confirm: "Do you want to log out of the national identity service?",
    logout_button: "Log out",
    logged_out: "You have logged out.",
    logged_in: "You are logged in.",
    elder_on: "Large text mode",
    elder_off: "Standard mode",
    continue_button: "Continue",
    form_post_note: "Returning to the app. If nothing happens, press Continue.",
    other_language: "中文",
    scope_openid: "Confirm who you are",
    scope_profile: "Your name",
    scope_email: "Your email address",
    scope_address: "Your address",
    scope_phone: "Your mobile number",
    scope_offline: "Keep access when you are away (long-lived)",
    scope_id_number: "Your national ID number (sensitive)",
    scope_gov_app: "Confirm QR and kiosk logins and manage devices for you",
    scope_licence: "Your electronic licence (sensitive): ",
    untrusted_unknown_client: "This app is not registered with the platform.",
    untrusted_redirect: "The app gave a return address that is not registered. To protect you, the login was stopped.",
    untrusted_not_approved: "This app has not been approved or is suspended, so it cannot log you in.",
    untrusted_missing: "The login request is missing required parameters.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_order() {
        assert_eq!(Lang::negotiate(Some("fr en"), Some("zh"), None), Lang::En);
        assert_eq!(Lang::negotiate(None, Some("en"), Some("zh-CN")), Lang::En);
        assert_eq!(
            Lang::negotiate(None, None, Some("zh-CN;q=0.5, en;q=0.9")),
            Lang::En
        );
        assert_eq!(Lang::negotiate(None, None, None), Lang::Zh);
    }
}
