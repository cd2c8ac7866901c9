//! `idp correction list|decide`: the console's correction review (身份认证结果纠错), for whoever
//! holds the server's KEK.
use super::{err, open, CliError, OPERATOR};
use crate::config::Config;
use crate::flows::corrections;
use clap::Subcommand;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum CorrectionCommand {
    /// The open requests, oldest first, as JSON lines.
    List,
    /// Fix or reject a request, with the reason the citizen will see.
    Decide {
        id: String,
        /// fix or reject.
        #[arg(long)]
        decision: String,
        #[arg(long)]
        reason: String,
        /// The corrected name, to fix a request about the name.
        #[arg(long)]
        new_name: Option<String>,
    },
}

pub fn run(command: CorrectionCommand, config: Config) -> Result<(), CliError> {
    let svc = open(config)?;
    match command {
        CorrectionCommand::List => {
            for entry in corrections::queue(&svc).map_err(err)? {
                println!("{}", json!(entry));
            }
        }
        CorrectionCommand::Decide {
            id,
            decision,
            reason,
            new_name,
        } => {
            let state =
                corrections::decide(&svc, &id, &decision, &reason, new_name.as_deref(), OPERATOR)
                    .map_err(err)?
                    .map_err(|e| CliError(e.to_string()))?;
            println!("{}", json!({ "id": id, "state": state.as_str() }));
        }
    }
    Ok(())
}
