//! Where an example or a first try runs: a real tenant named by the environment, or this
//! simulator when none is.

use zuora_core::ReportId;
use zuora_core::config::{BuildClient, ClientBuilder};

use crate::{SimConfig, Simulator};

/// A tenant to run against: the one `ZUORA_BASE_URL`, `ZUORA_CLIENT_ID` and
/// `ZUORA_CLIENT_SECRET` name, or (with `ZUORA_BASE_URL` unset) a simulator started for it,
/// kept running while this value lives.
#[derive(Debug)]
pub struct Tenant {
    base_url: String,
    client_id: String,
    client_secret: String,
    simulator: Option<Simulator>,
}

/// What went wrong finding a tenant or a report in it.
pub type TenantError = Box<dyn std::error::Error + Send + Sync>;

impl Tenant {
    /// The environment's tenant, or a simulated one when `ZUORA_BASE_URL` is unset.
    ///
    /// # Errors
    ///
    /// A variable missing beside `ZUORA_BASE_URL`, or a simulator that cannot start.
    pub fn from_env() -> Result<Self, TenantError> {
        let Ok(base_url) = std::env::var("ZUORA_BASE_URL") else {
            return Self::simulated();
        };
        let variable = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
        Ok(Self {
            base_url,
            client_id: variable("ZUORA_CLIENT_ID")?,
            client_secret: variable("ZUORA_CLIENT_SECRET")?,
            simulator: None,
        })
    }

    /// A simulated tenant with the default catalogue.
    ///
    /// # Errors
    ///
    /// When the simulator cannot start (no loopback port).
    pub fn simulated() -> Result<Self, TenantError> {
        let simulator = Simulator::start(SimConfig::default())?;
        Ok(Self {
            base_url: simulator.base_url().to_owned(),
            client_id: simulator.client_id().to_owned(),
            client_secret: simulator.client_secret().to_owned(),
            simulator: Some(simulator),
        })
    }

    /// The simulator, when the tenant is simulated.
    pub fn simulator(&self) -> Option<&Simulator> {
        self.simulator.as_ref()
    }

    /// A client builder with the tenant's base URL and credentials set.
    pub fn client_builder<C: BuildClient>(&self) -> ClientBuilder<C> {
        ClientBuilder::new()
            .base_url(&self.base_url)
            .credentials(&self.client_id, &self.client_secret)
    }

    /// The reports to use: the simulator's reports named `names`, or for a real tenant the
    /// report ids given on the command line (at least one).
    ///
    /// # Errors
    ///
    /// A name the simulator does not know, no id on the command line, or an id that is not
    /// one.
    pub fn reports(&self, names: &[&str]) -> Result<Vec<ReportId>, TenantError> {
        let Some(simulator) = &self.simulator else {
            let ids: Vec<ReportId> = std::env::args()
                .skip(1)
                .map(|id| id.parse())
                .collect::<Result<_, _>>()?;
            return match ids.is_empty() {
                true => Err("usage: give one or more report ids".into()),
                false => Ok(ids),
            };
        };
        names
            .iter()
            .map(|name| {
                let report = simulator.report_by_name(name);
                report
                    .map(|report| report.id)
                    .ok_or_else(|| format!("no report named {name:?}").into())
            })
            .collect()
    }
}
