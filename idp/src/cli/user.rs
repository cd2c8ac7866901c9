//! `idp user export|delete`: a citizen's data-access and erasure requests, answered by an
//! operator. The citizen is named by their subject or by their ID number on standard input
//! (never on the command line, where `ps` would show it).
use super::{err, read_secret_stdin, CliError, OPERATOR};
use crate::domain::id_number::IdNumber;
use crate::flows::{logout, privacy, users};
use crate::services::Shared;
use clap::Args;
use serde_json::json;

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct Which {
    /// The citizen's subject (`sub`) at this provider.
    #[arg(long, allow_hyphen_values = true)]
    sub: Option<String>,
    /// Read the citizen's ID number from standard input instead.
    #[arg(long)]
    id_number_stdin: bool,
}

fn subject(svc: &Shared, which: &Which) -> Result<String, CliError> {
    if let Some(sub) = &which.sub {
        return Ok(sub.clone());
    }
    let text = read_secret_stdin()?;
    let id = IdNumber::parse(text.trim()).map_err(err)?;
    svc.store
        .user_by_lookup(&users::id_lookup(svc, &id))
        .map_err(err)?
        .map(|u| u.sub)
        .ok_or_else(|| CliError("no citizen has that ID number".into()))
}

pub fn export(svc: &Shared, which: &Which) -> Result<(), CliError> {
    let sub = subject(svc, which)?;
    let export = privacy::export(svc, &sub, OPERATOR)
        .map_err(err)?
        .ok_or_else(|| CliError("no such citizen".into()))?;
    println!("{}", serde_json::to_string_pretty(&export).map_err(err)?);
    Ok(())
}

pub fn delete(svc: &Shared, which: &Which) -> Result<(), CliError> {
    let sub = subject(svc, which)?;
    let aftermath = privacy::erase(svc, &sub, OPERATOR)
        .map_err(err)?
        .ok_or_else(|| CliError("no such citizen".into()))?;
    let told = aftermath.deliveries.len();
    // Apps with a back-channel logout endpoint are told the sessions ended, as at a logout.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(err)?
        .block_on(logout::carry_out(svc.clone(), aftermath));
    println!("{}", json!({ "erased": sub, "apps_told": told }));
    Ok(())
}
