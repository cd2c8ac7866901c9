//! 我的证照: the licences a citizen holds, on their account page, and moving one into the
//! government app (a credential offer the app scans; the app then shows it by QR: 扫码亮证).
//! The page itself never shows a presentable licence: that needs the app's key binding.
use super::vci::{self, Offer};
use super::Infra;
use crate::domain::licence::LicenceState;
use crate::services::Services;

#[derive(Debug, Clone, serde::Serialize)]
pub struct MyLicence {
    pub id: String,
    pub licence_type: String,
    pub state: String,
    pub valid_until: i64,
    /// Active and unexpired: it can go into the app.
    pub usable: bool,
}

fn rows(svc: &Services, sub: &str) -> Result<Vec<crate::store::licences::LicenceRow>, Infra> {
    let Some(lookup) = svc.store.user_by_sub(sub)?.and_then(|u| u.id_number_lookup) else {
        return Ok(Vec::new());
    };
    Ok(svc.store.licences_of_holder(&lookup)?)
}

/// The citizen's licences (none without a verified ID number), newest first.
pub fn list(svc: &Services, sub: &str) -> Result<Vec<MyLicence>, Infra> {
    let now = svc.now();
    let mut out: Vec<MyLicence> = rows(svc, sub)?
        .into_iter()
        .map(|r| MyLicence {
            usable: r.state == LicenceState::Active.as_str() && r.valid_until > now,
            id: r.id,
            licence_type: r.licence_type,
            state: r.state,
            valid_until: r.valid_until,
        })
        .collect();
    out.reverse();
    Ok(out)
}

/// An offer of the citizen's own licence `id`, with the licence's type; None when it is not
/// theirs, or not usable.
pub fn offer(svc: &Services, sub: &str, id: &str) -> Result<Option<(Offer, String)>, Infra> {
    let now = svc.now();
    let Some(row) = rows(svc, sub)?
        .into_iter()
        .find(|r| r.id == id && r.state == LicenceState::Active.as_str() && r.valid_until > now)
    else {
        return Ok(None);
    };
    Ok(Some((
        vci::offer_licence(svc, &row, sub)?,
        row.licence_type,
    )))
}
