//! What a citizen reads when a passkey request is refused, in their language.
use super::i18n::Lang;
use crate::domain::passkey::PasskeyError;

pub fn message(lang: Lang, e: PasskeyError) -> &'static str {
    use PasskeyError as E;
    match (lang, e) {
        (Lang::Zh, E::Unavailable) => "本站点未启用指纹登录。",
        (Lang::Zh, E::LoginRequired) => "请先登录，再绑定指纹。",
        (Lang::Zh, E::ReauthenticationRequired) => "为保护您的账号，请重新登录后在五分钟内绑定指纹。",
        (Lang::Zh, E::InvalidRequest) => "请求格式不正确。",
        (Lang::Zh, E::InvalidName) => "名称应为1至40个字符。",
        (Lang::Zh, E::CeremonyExpired) => "操作已过期或已完成，请重试。",
        (Lang::Zh, E::UserVerificationRequired) => {
            "设备没有验证您的指纹、面容或锁屏密码，无法登录。请在设备上开启生物识别后重试。"
        }
        (Lang::Zh, E::OriginMismatch) => "请求来自非本站点的页面，已拒绝。请只在官方网站或政务App中使用指纹登录。",
        (Lang::Zh, E::UnknownCredential) => "此设备上的凭据未绑定或已被移除，请用其他方式登录。",
        (Lang::Zh, E::CredentialSuspended) => {
            "此指纹凭据疑似被复制，已暂停使用。请用其他方式登录，并在“我的设备”中移除它。"
        }
        (Lang::Zh, E::AlreadyRegistered) => "此凭据已经绑定。",
        (Lang::Zh, E::VerificationFailed) => "指纹验证未通过，请重试。",
        (Lang::Zh, E::RequestExpired) => "登录请求已过期，请返回应用重新登录。",
        (Lang::En, E::Unavailable) => "Passkey login is not enabled on this site.",
        (Lang::En, E::LoginRequired) => "Log in first, then bind a passkey.",
        (Lang::En, E::ReauthenticationRequired) => {
            "To protect your account, log in again and bind the passkey within five minutes."
        }
        (Lang::En, E::InvalidRequest) => "The request is not well formed.",
        (Lang::En, E::InvalidName) => "The name must have 1 to 40 characters.",
        (Lang::En, E::CeremonyExpired) => "This attempt expired or was already used; please try again.",
        (Lang::En, E::UserVerificationRequired) => {
            "Your device did not verify you (fingerprint, face or screen lock), so you cannot log in this way. Turn on biometrics and try again."
        }
        (Lang::En, E::OriginMismatch) => "The request came from a page that is not this site and was refused. Use passkeys only on the official site or app.",
        (Lang::En, E::UnknownCredential) => "This passkey is not bound or was removed; log in another way.",
        (Lang::En, E::CredentialSuspended) => {
            "This passkey may have been copied and is suspended. Log in another way and remove it under My devices."
        }
        (Lang::En, E::AlreadyRegistered) => "This passkey is already bound.",
        (Lang::En, E::VerificationFailed) => "The passkey could not be verified; please try again.",
        (Lang::En, E::RequestExpired) => "The login request expired; go back to the app and start again.",
    }
}

/// Labels of the passkey parts of the login and account pages.
#[derive(Debug)]
pub struct PasskeyTexts {
    pub login_button: &'static str,
    pub login_help: &'static str,
    pub or_password: &'static str,
    pub step_up: &'static str,
    pub working: &'static str,
    pub cancelled: &'static str,
    pub unsupported: &'static str,
    pub account_title: &'static str,
    pub section_title: &'static str,
    pub none_yet: &'static str,
    pub name_label: &'static str,
    pub default_name: &'static str,
    pub bind_button: &'static str,
    pub bound: &'static str,
    pub col_name: &'static str,
    pub col_created: &'static str,
    pub col_last_used: &'static str,
    pub col_status: &'static str,
    pub never: &'static str,
    pub active: &'static str,
    pub suspended: &'static str,
    pub suspended_alert: &'static str,
    pub remove_button: &'static str,
    pub removed: &'static str,
    pub unbound: &'static str,
    pub not_found: &'static str,
}

pub fn texts(lang: Lang) -> &'static PasskeyTexts {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

static ZH: PasskeyTexts = PasskeyTexts {
    login_button: "指纹登录",
    login_help: "使用已绑定的指纹、面容或设备锁屏登录，无需输入身份证号码。",
    or_password: "或使用密码登录",
    step_up: "此应用要求更高安全等级的登录，请使用指纹登录。",
    working: "请在设备上完成验证……",
    cancelled: "未能完成验证（已取消、超时，或设备没有验证您的指纹），请重试或使用密码登录。",
    unsupported: "此浏览器不支持指纹登录，请使用密码登录。",
    account_title: "我的账户",
    section_title: "我的指纹（通行密钥）",
    none_yet: "您还没有绑定指纹。",
    name_label: "设备名称",
    default_name: "我的设备",
    bind_button: "绑定指纹",
    bound: "绑定成功。",
    col_name: "名称",
    col_created: "绑定时间",
    col_last_used: "最近使用",
    col_status: "状态",
    never: "从未使用",
    active: "正常",
    suspended: "已暂停（疑似被复制）",
    suspended_alert: "您有指纹凭据疑似被复制，已暂停使用。如果不是您本人操作，请移除它并修改密码。",
    remove_button: "移除",
    removed: "已移除。",
    unbound: "已解绑，该设备上的App需要重新登录。",
    not_found: "没有找到该凭据。",
};

static EN: PasskeyTexts = PasskeyTexts {
    login_button: "Log in with fingerprint",
    login_help: "Use the fingerprint, face or screen lock of a device you bound; no ID number needed.",
    or_password: "or log in with your password",
    step_up: "This app asks for a stronger login: please use your fingerprint.",
    working: "Complete the check on your device…",
    cancelled: "The check did not complete (cancelled, timed out, or your device did not verify you). Try again or use your password.",
    unsupported: "This browser does not support passkeys; please use your password.",
    account_title: "My account",
    section_title: "My fingerprints (passkeys)",
    none_yet: "You have not bound a fingerprint yet.",
    name_label: "Device name",
    default_name: "My device",
    bind_button: "Bind a fingerprint",
    bound: "Bound.",
    col_name: "Name",
    col_created: "Bound on",
    col_last_used: "Last used",
    col_status: "Status",
    never: "Never",
    active: "Active",
    suspended: "Suspended (may have been copied)",
    suspended_alert: "One of your passkeys may have been copied and is suspended. If this was not you, remove it and change your password.",
    remove_button: "Remove",
    removed: "Removed.",
    unbound: "Unbound. The app on that device must log in again.",
    not_found: "No such passkey.",
};
