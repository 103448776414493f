//! The config as the terminal commands load it: the file and the environment, without the
//! variables the command line reads itself.

use clap::CommandFactory;
use sharesync::config::{Config, ConfigError, Env, ProcessEnv};

use super::args::Cli;

/// The variable the log filter is read from (README: `SHARESYNC_LOG=debug`).
pub(super) const LOG_VAR: &str = "SHARESYNC_LOG";

/// The process environment without the variables the command line reads itself
/// (`SHARESYNC_CONFIG`, `SHARESYNC_LOG`, `SHARESYNC_LOG_FORMAT`, every `env` of an option): those
/// are never config keys.
pub struct CliEnv {
    own: Vec<String>,
}

impl CliEnv {
    pub fn new() -> CliEnv {
        fn collect(cmd: &clap::Command, own: &mut Vec<String>) {
            own.extend(
                cmd.get_arguments()
                    .filter_map(|a| a.get_env())
                    .map(|e| e.to_string_lossy().into_owned()),
            );
            for sub in cmd.get_subcommands() {
                collect(sub, own);
            }
        }
        let mut own = vec![LOG_VAR.to_string()];
        collect(&Cli::command(), &mut own);
        CliEnv { own }
    }
}

impl Env for CliEnv {
    fn var(&self, name: &str) -> Option<String> {
        ProcessEnv.var(name)
    }
    fn vars_with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        let mut vars = ProcessEnv.vars_with_prefix(prefix);
        vars.retain(|(name, _)| !self.own.contains(name));
        vars
    }
    fn front_end_variables(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .own
            .iter()
            .filter(|n| n.starts_with("SHARESYNC_"))
            .cloned()
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// The config from the file and the environment, with what loading noticed in `notices`.
pub fn read_config(path: Option<&std::path::Path>) -> Result<Config, ConfigError> {
    Config::load(path, &CliEnv::new())
}

/// [`read_config`], what loading noticed going to the log.
pub fn load_config(path: Option<&std::path::Path>) -> Result<Config, ConfigError> {
    let config = read_config(path)?;
    for notice in &config.notices {
        tracing::warn!("{notice}");
    }
    Ok(config)
}
