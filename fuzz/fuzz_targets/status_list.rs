//! Status lists as a verifier fetches them: the `lst` codec (zlib, bounded output) and the
//! signed token around it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wallet_verifier::sd_jwt::StatusList;

mod common;

fuzz_target!(|data: &[u8]| {
    if let Some((&bits, rest)) = data.split_first() {
        if let Ok(lst) = std::str::from_utf8(rest) {
            if let Ok(list) = StatusList::from_lst(bits, lst) {
                let _ = list.get(list.len().saturating_sub(1));
                let _ = list.get(u64::MAX);
            }
        }
    }
    if let Ok(token) = std::str::from_utf8(data) {
        let _ = common::verifier().verify_status_list_token(
            token,
            "https://idp.example/s",
            common::NOW,
        );
    }
});
