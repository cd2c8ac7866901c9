//! `idp licence ...`: the electronic licence registry (import, suspend, reinstate, revoke).
use super::{err, open, CliError, OPERATOR};
use crate::config::Config;
use crate::domain::licence::{ImportRecord, LicenceAction};
use crate::flows::licences;
use clap::Subcommand;
use serde_json::json;
use std::path::PathBuf;

/// Largest import file read (about a million records).
const MAX_IMPORT_BYTES: u64 = 512 * 1024 * 1024;

#[derive(Debug, Subcommand)]
pub enum LicenceCommand {
    /// Import licence records from a JSON array of {"type", "holder", "claims", "valid_from",
    /// "valid_until"}: all of them, or none and a report of every wrong record.
    Import { file: PathBuf },
    /// Suspend a licence (verifiers see "suspended" until it is reinstated).
    Suspend { id: String },
    /// Lift a suspension.
    Reinstate { id: String },
    /// Revoke a licence for good.
    Revoke { id: String },
    /// The licence types this node issues.
    Types,
    /// Offer a holder's licence to their wallet (OpenID4VCI pre-authorized code): prints
    /// {"offer", "tx_code"}; give the holder the offer (as a QR code) and the code apart.
    Offer {
        /// A citizen's ID number (or use --credit-code for a company).
        #[arg(
            long,
            required_unless_present = "credit_code",
            conflicts_with = "credit_code"
        )]
        id_number: Option<String>,
        #[arg(long)]
        credit_code: Option<String>,
        /// The licence type (see `idp licence types`).
        #[arg(long = "type")]
        licence_type: String,
        /// Also draw the offer as a QR code on standard error, for a phone to scan.
        #[arg(long)]
        qr: bool,
    },
}

pub fn run(command: LicenceCommand, config: Config) -> Result<(), CliError> {
    let (id, action) = match command {
        LicenceCommand::Import { file } => return import(&file, config),
        LicenceCommand::Types => return types(config),
        LicenceCommand::Offer {
            id_number,
            credit_code,
            licence_type,
            qr,
        } => return offer(id_number, credit_code, &licence_type, qr, config),
        LicenceCommand::Suspend { id } => (id, LicenceAction::Suspend),
        LicenceCommand::Reinstate { id } => (id, LicenceAction::Reinstate),
        LicenceCommand::Revoke { id } => (id, LicenceAction::Revoke),
    };
    let svc = open(config)?;
    let state = licences::change(&svc, id.trim(), action, OPERATOR)
        .map_err(err)?
        .map_err(|e| CliError(format!("licence {}: {e}", id.trim())))?;
    println!("{}", json!({ "id": id.trim(), "state": state.as_str() }));
    Ok(())
}

fn import(file: &std::path::Path, config: Config) -> Result<(), CliError> {
    let size = std::fs::metadata(file)
        .map_err(|e| CliError(format!("{}: {e}", file.display())))?
        .len();
    if size > MAX_IMPORT_BYTES {
        return Err(CliError(format!(
            "{}: larger than {} MiB; split it",
            file.display(),
            MAX_IMPORT_BYTES >> 20
        )));
    }
    let text =
        std::fs::read_to_string(file).map_err(|e| CliError(format!("{}: {e}", file.display())))?;
    let records: Vec<ImportRecord> = parse_records(&text)?;
    let svc = open(config)?;
    match licences::import(&svc, &records, OPERATOR).map_err(err)? {
        Ok(imported) => {
            println!("{}", json!(imported));
            Ok(())
        }
        Err(refused) => {
            let mut report = format!(
                "nothing imported: {} of {} records are wrong",
                refused.len(),
                records.len()
            );
            for r in &refused {
                for p in &r.problems {
                    report.push_str(&format!("\nrecord {}: {p}", r.index));
                }
            }
            Err(CliError(report))
        }
    }
}

/// The array, or which record is malformed JSON-wise (each checked on its own for a clear
/// message; serde's message for the whole array names only a line and column).
fn parse_records(text: &str) -> Result<Vec<ImportRecord>, CliError> {
    let values: Vec<serde_json::Value> = serde_json::from_str(text)
        .map_err(|e| CliError(format!("the file is not a JSON array: {e}")))?;
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            // serde's message would quote the bad value, maybe an ID number: name the shape.
            serde_json::from_value(v).map_err(|_| {
                CliError(format!(
                    "record {i}: must be an object with \"type\" and \"holder\" (strings), \
                     \"claims\" (an object), and optionally \"valid_from\"/\"valid_until\"; \
                     nothing else"
                ))
            })
        })
        .collect()
}

fn types(config: Config) -> Result<(), CliError> {
    let svc = open(config)?;
    let types: Vec<_> = svc
        .licence_types
        .all()
        .map(|t| {
            json!({
                "id": t.id, "vct": t.vct, "name": {"zh": t.name.zh, "en": t.name.en},
                "claims": t.claims.iter().map(|c| &c.name).collect::<Vec<_>>(),
            })
        })
        .collect();
    println!("{}", json!(types));
    Ok(())
}

fn offer(
    id_number: Option<String>,
    credit_code: Option<String>,
    licence_type: &str,
    qr: bool,
    config: Config,
) -> Result<(), CliError> {
    use crate::domain::licence::Holder;
    let holder = match (id_number, credit_code) {
        (Some(n), _) => crate::domain::id_number::IdNumber::parse(&n)
            .map(Holder::Person)
            .map_err(|e| CliError(format!("--id-number: {e}")))?,
        (None, Some(c)) => crate::domain::credit_code::CreditCode::parse(&c)
            .map(Holder::Company)
            .map_err(|e| CliError(format!("--credit-code: {e}")))?,
        (None, None) => return Err(CliError("give --id-number or --credit-code".into())),
    };
    let svc = open(config)?;
    let offer = crate::flows::vci::offer(&svc, &holder, licence_type.trim(), OPERATOR)
        .map_err(err)?
        .map_err(err)?;
    if qr {
        let code = qrcode::QrCode::new(offer.offer.as_bytes()).map_err(err)?;
        let drawn = code
            .render::<qrcode::render::unicode::Dense1x2>()
            .quiet_zone(true)
            .build();
        eprintln!("{drawn}");
    }
    println!("{}", json!(offer));
    Ok(())
}
