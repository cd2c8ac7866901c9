//! `idp province ...`: the federation's upstream identity providers, by GB/T 2260 region code.
//! On the hub they are the provinces (and cities, counties) citizens are sent home to; on a
//! province node, code 00 is the hub.
use super::{err, open, read_secret_stdin, CliError, OPERATOR};
use crate::config::Config;
use crate::flows::upstreams::{self, NewUpstream};
use clap::Subcommand;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum ProvinceCommand {
    /// Add an upstream; the client secret (this node's, at that provider) is read from stdin.
    Add {
        /// GB/T 2260 region code: 33 (a province), 3301 (a city), 330106 (a county), 00 (the hub).
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// The provider's issuer URL (its discovery document lives under it).
        #[arg(long)]
        issuer: String,
        #[arg(long)]
        client_id: String,
        /// Read the client secret from standard input (required: never on the command line).
        #[arg(long, required = true)]
        client_secret_stdin: bool,
    },
    /// Add many at once from JSON lines on stdin ({"code", "name", "issuer", "client_id",
    /// "client_secret"} per line): all or none.
    Import,
    List,
    /// Send no more citizens there.
    Disable {
        code: String,
    },
    Enable {
        code: String,
    },
}

pub fn run(command: ProvinceCommand, config: Config) -> Result<(), CliError> {
    match command {
        ProvinceCommand::Add {
            code,
            name,
            issuer,
            client_id,
            ..
        } => {
            let secret = read_secret_stdin()?;
            let svc = open(config)?;
            let added = upstreams::add(
                &svc,
                &NewUpstream {
                    code: &code,
                    name: &name,
                    issuer: &issuer,
                    client_id: &client_id,
                    client_secret: &secret,
                },
                OPERATOR,
            )
            .map_err(err)?
            .map_err(err)?;
            println!("{}", json!(added));
            Ok(())
        }
        ProvinceCommand::Import => {
            let mut text = zeroize::Zeroizing::new(String::new());
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(err)?;
            let mut lines = Vec::new();
            for (i, line) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                lines.push(
                    serde_json::from_str::<upstreams::ImportLine>(line)
                        .map_err(|e| CliError(format!("line {}: {e}", i + 1)))?,
                );
            }
            let svc = open(config)?;
            let count = upstreams::import(&svc, &lines, OPERATOR)
                .map_err(err)?
                .map_err(err)?;
            println!("{}", json!({ "imported": count }));
            Ok(())
        }
        ProvinceCommand::List => {
            let svc = open(config)?;
            let list = upstreams::list(&svc).map_err(err)?;
            println!("{}", json!({ "upstreams": list }));
            Ok(())
        }
        ProvinceCommand::Disable { code } => switch(config, &code, false),
        ProvinceCommand::Enable { code } => switch(config, &code, true),
    }
}

fn switch(config: Config, code: &str, enabled: bool) -> Result<(), CliError> {
    let svc = open(config)?;
    if !upstreams::set_enabled(&svc, code, enabled, OPERATOR).map_err(err)? {
        return Err(CliError(format!("no upstream with code {code}")));
    }
    println!("{}", json!({ "code": code, "enabled": enabled }));
    Ok(())
}
