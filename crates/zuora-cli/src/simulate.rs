//! `--simulate`: the whole trip against a local simulator of Zuora, offline. Behind the
//! default feature `simulate`; `--no-default-features` builds a lean binary without the
//! simulator (and its server stack).

use crate::failure::Failure;

/// A running simulator with the credentials it accepts.
pub struct Simulated {
    #[cfg(feature = "simulate")]
    _server: zuora_sim::Simulator,
    pub base_url: String,
    pub client_id: String,
    pub client_secret: String,
}

/// Starts the simulator, runs completing in 0.4 s, numbers written in `locale`.
#[cfg(feature = "simulate")]
pub fn start(quiet: bool, locale: zuora_tables::Locale) -> Result<Simulated, Failure> {
    let mut config = zuora_sim::SimConfig {
        run_timing: zuora_sim::RunTiming::uniform(std::time::Duration::from_millis(400)),
        ..zuora_sim::SimConfig::default()
    };
    config.catalogue.set_locale(match locale {
        zuora_tables::Locale::De => zuora_sim::NumberLocale::De,
        zuora_tables::Locale::Fr => zuora_sim::NumberLocale::Fr,
        _ => zuora_sim::NumberLocale::EnUs,
    });
    let server = zuora_sim::Simulator::start(config)
        .map_err(|e| Failure::usage(format!("cannot start the simulator: {e}")))?;
    if !quiet {
        eprintln!(
            "zuora-report: simulating Zuora with a local simulator at {} (sample reports, no network)",
            server.base_url()
        );
    }
    Ok(Simulated {
        base_url: server.base_url().to_owned(),
        client_id: server.client_id().to_owned(),
        client_secret: server.client_secret().to_owned(),
        _server: server,
    })
}

/// Without the simulator built in, `--simulate` is a usage error.
#[cfg(not(feature = "simulate"))]
pub fn start(_quiet: bool, _locale: zuora_tables::Locale) -> Result<Simulated, Failure> {
    Err(Failure::usage(
        "this zuora-report was built without the simulator: rebuild with the default feature `simulate` to use --simulate",
    ))
}
