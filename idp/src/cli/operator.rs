//! `idp operator grant|revoke|list`: who may do what in the console at `/admin`.
use super::{err, open, CliError, OPERATOR};
use crate::config::Config;
use crate::domain::operator::Role;
use crate::flows::operators;
use clap::Subcommand;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Give a citizen an operator role: apps, licences, keys, audit or corrections.
    Grant {
        // Subjects are base64url and may start with '-'.
        #[arg(long, allow_hyphen_values = true)]
        sub: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// Take a role back.
    Revoke {
        // Subjects are base64url and may start with '-'.
        #[arg(long, allow_hyphen_values = true)]
        sub: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// Every role held, as JSON lines.
    List,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s)
        .ok_or_else(|| "a role is one of: apps, licences, keys, audit, corrections".to_owned())
}

pub fn run(command: OperatorCommand, config: Config) -> Result<(), CliError> {
    let svc = open(config)?;
    match command {
        OperatorCommand::Grant { sub, role } => {
            if !operators::grant(&svc, &sub, role, OPERATOR).map_err(err)? {
                return Err(CliError("no citizen has that subject".into()));
            }
            println!(
                "{}",
                json!({ "sub": sub, "role": role.as_str(), "granted": true })
            );
        }
        OperatorCommand::Revoke { sub, role } => {
            let revoked = operators::revoke(&svc, &sub, role, OPERATOR).map_err(err)?;
            println!(
                "{}",
                json!({ "sub": sub, "role": role.as_str(), "revoked": revoked })
            );
        }
        OperatorCommand::List => {
            for (sub, role, at) in svc.store.all_operator_roles().map_err(err)? {
                println!("{}", json!({ "sub": sub, "role": role, "granted_at": at }));
            }
        }
    }
    Ok(())
}
