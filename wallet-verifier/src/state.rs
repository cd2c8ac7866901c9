//! What the app keeps on the phone: the issuer, its client id, the device key (sealed under a
//! local key-encryption key, as a secure element would keep it) and the current tokens.
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WalletState {
    pub issuer: String,
    pub client_id: String,
    pub device_key: keys::SealedKey,
    pub access_token: String,
    pub refresh_token: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("the wallet is not logged in (run `wallet login` first): {0}")]
    Missing(String),
    #[error("cannot write {0}: {1}")]
    Write(PathBuf, std::io::Error),
    #[error("the wallet state is damaged: {0}")]
    Damaged(String),
    #[error("device key: {0}")]
    Key(#[from] keys::KeyError),
}

/// The local key-encryption key next to the state file.
pub fn kek_path(state: &Path) -> PathBuf {
    state.with_extension("kek")
}

pub fn load(path: &Path) -> Result<(WalletState, keys::SigningKey), StateError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| StateError::Missing(format!("{}: {e}", path.display())))?;
    let state: WalletState =
        serde_json::from_str(&text).map_err(|e| StateError::Damaged(e.to_string()))?;
    let kek = keys::Kek::load(&kek_path(path))?;
    let key = keys::SigningKey::unseal(&state.device_key, &kek)?;
    Ok((state, key))
}

pub fn save(path: &Path, state: &WalletState) -> Result<(), StateError> {
    let text =
        serde_json::to_string_pretty(state).map_err(|e| StateError::Damaged(e.to_string()))?;
    // Tokens and the sealed key: readable by the owner only.
    write_private(path, text.as_bytes()).map_err(|e| StateError::Write(path.to_owned(), e))
}

/// Writes a file only its owner may read (mode 0600 on Unix): the wallet's state and licences.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, bytes)
}
