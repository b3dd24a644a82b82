//! Where the API lives: Zuora's documented REST hosts, or a base URL of your own.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::values::invalid_input::InvalidInput;

/// A Zuora REST environment (reference §2). Every path of the Reporting API follows the
/// environment's base URL, as does `/oauth/token`.
///
/// Parse one from its name (`us-cloud-2-api-sandbox`), from the enum name Zuora's SDKs use
/// (`SBX`, `PROD_EU`, …; any case), or from an `https://` URL for a custom host.
///
/// ```
/// use zuora_core::Environment;
/// let env: Environment = "SBX".parse()?;
/// assert_eq!(env, Environment::UsCloud2ApiSandbox);
/// assert_eq!(env.base_url(), "https://rest.apisandbox.zuora.com");
/// let local: Environment = "http://127.0.0.1:8080".parse()?;
/// assert_eq!(local.base_url(), "http://127.0.0.1:8080");
/// assert!("http://zuora.example.com".parse::<Environment>().is_err());
/// # Ok::<(), zuora_core::errors::InvalidInput>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Environment {
    /// US Cloud 1 Production, `https://rest.na.zuora.com`.
    UsCloud1Production,
    /// US Cloud 1 API Sandbox, `https://rest.sandbox.na.zuora.com`.
    UsCloud1ApiSandbox,
    /// US Cloud 2 Production, `https://rest.zuora.com`.
    UsCloud2Production,
    /// US Cloud 2 API Sandbox, `https://rest.apisandbox.zuora.com`.
    UsCloud2ApiSandbox,
    /// US Central Sandbox and US Developer Sandbox, `https://rest.test.zuora.com`.
    UsCentralSandbox,
    /// EU Production, `https://rest.eu.zuora.com`.
    EuProduction,
    /// EU API Sandbox, `https://rest.sandbox.eu.zuora.com`.
    EuApiSandbox,
    /// EU Central and Developer Sandbox, `https://rest.test.eu.zuora.com`.
    EuCentralSandbox,
    /// APAC Production, `https://rest.ap.zuora.com`.
    ApacProduction,
    /// APAC Developer and Central Sandbox, `https://rest.test.ap.zuora.com`.
    ApacCentralSandbox,
    /// US Performance Test, `https://rest.pt1.zuora.com`.
    UsPerformanceTest,
    /// Any other base URL: a US Production Copy host, a proxy, or a local simulator.
    Custom(BaseUrl),
}

/// (variant, name, SDK enum name, base URL) for every documented host.
const NAMED: [(Environment, &str, Option<&str>, &str); 11] = [
    (
        Environment::UsCloud1Production,
        "us-cloud-1-production",
        Some("PROD_NA"),
        "https://rest.na.zuora.com",
    ),
    (
        Environment::UsCloud1ApiSandbox,
        "us-cloud-1-api-sandbox",
        Some("SBX_NA"),
        "https://rest.sandbox.na.zuora.com",
    ),
    (
        Environment::UsCloud2Production,
        "us-cloud-2-production",
        Some("PROD"),
        "https://rest.zuora.com",
    ),
    (
        Environment::UsCloud2ApiSandbox,
        "us-cloud-2-api-sandbox",
        Some("SBX"),
        "https://rest.apisandbox.zuora.com",
    ),
    (
        Environment::UsCentralSandbox,
        "us-central-sandbox",
        Some("CSBX"),
        "https://rest.test.zuora.com",
    ),
    (
        Environment::EuProduction,
        "eu-production",
        Some("PROD_EU"),
        "https://rest.eu.zuora.com",
    ),
    (
        Environment::EuApiSandbox,
        "eu-api-sandbox",
        Some("SBX_EU"),
        "https://rest.sandbox.eu.zuora.com",
    ),
    (
        Environment::EuCentralSandbox,
        "eu-central-sandbox",
        Some("CSBX_EU"),
        "https://rest.test.eu.zuora.com",
    ),
    (
        Environment::ApacProduction,
        "apac-production",
        Some("PROD_AP"),
        "https://rest.ap.zuora.com",
    ),
    (
        Environment::ApacCentralSandbox,
        "apac-central-sandbox",
        Some("CSBX_AP"),
        "https://rest.test.ap.zuora.com",
    ),
    (
        Environment::UsPerformanceTest,
        "us-performance-test",
        None,
        "https://rest.pt1.zuora.com",
    ),
];

/// Other spellings people use for the same hosts.
const ALIASES: [(&str, Environment); 3] = [
    ("us-developer-sandbox", Environment::UsCentralSandbox),
    ("eu-developer-sandbox", Environment::EuCentralSandbox),
    ("apac-developer-sandbox", Environment::ApacCentralSandbox),
];

impl Environment {
    /// Every documented environment, in the order of the reference's table.
    pub fn documented() -> impl Iterator<Item = Environment> {
        NAMED.into_iter().map(|(env, ..)| env)
    }

    /// A custom base URL; see [`BaseUrl::parse`].
    pub fn custom(url: &str) -> Result<Self, InvalidInput> {
        BaseUrl::parse(url).map(Self::Custom)
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        match self {
            Self::Custom(url) => url.as_str(),
            named => NAMED
                .iter()
                .find(|(env, ..)| env == named)
                .map_or("", |(.., url)| url),
        }
    }

    /// The host of the base URL (`rest.zuora.com`, `127.0.0.1`, `[::1]`), for messages
    /// about failing to reach it.
    pub fn host(&self) -> Option<String> {
        let uri: http::Uri = self.base_url().parse().ok()?;
        uri.host().map(str::to_owned)
    }

    /// This project's name for a documented environment (`us-cloud-2-api-sandbox`), or
    /// `custom`.
    pub fn name(&self) -> &'static str {
        NAMED
            .iter()
            .find(|(env, ..)| env == self)
            .map_or("custom", |(_, name, ..)| name)
    }

    /// The `ZuoraEnvironment` name of Zuora's SDKs (`SBX`, `PROD_EU`, …), where one exists.
    pub fn sdk_name(&self) -> Option<&'static str> {
        NAMED
            .iter()
            .find(|(env, ..)| env == self)
            .and_then(|(_, _, sdk, _)| *sdk)
    }

    /// Whether the host is this machine (`localhost`, `127.0.0.0/8`, `[::1]`): a transport
    /// never sends such requests through a proxy (an environment's `HTTP_PROXY` would carry
    /// a plain-http request, its secret included, off the machine).
    pub fn is_loopback(&self) -> bool {
        self.host().is_some_and(|host| is_loopback_host(&host))
    }

    /// Whether requests go over plain `http://` (allowed only for loopback hosts unless the
    /// base URL was built with [`BaseUrl::parse_allowing_insecure_http`]).
    pub fn is_plain_http(&self) -> bool {
        self.base_url().starts_with("http://")
    }
}

impl core::str::FromStr for Environment {
    type Err = InvalidInput;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let value = value.trim();
        if value.contains("://") {
            return Self::custom(value);
        }
        let wanted = value.replace('_', "-");
        let named = NAMED.iter().find(|(_, name, sdk, _)| {
            name.eq_ignore_ascii_case(&wanted)
                || sdk.is_some_and(|sdk| sdk.eq_ignore_ascii_case(value))
        });
        if let Some((env, ..)) = named {
            return Ok(env.clone());
        }
        ALIASES
            .iter()
            .find(|(alias, _)| alias.eq_ignore_ascii_case(&wanted))
            .map(|(_, env)| env.clone())
            .ok_or_else(|| {
                InvalidInput::not_one_of(
                    "environment",
                    value,
                    "a documented environment (such as us-cloud-2-api-sandbox or SBX) or an https:// URL",
                )
            })
    }
}

impl core::fmt::Display for Environment {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Custom(url) => f.write_str(url.as_str()),
            named => f.write_str(named.name()),
        }
    }
}

/// A validated base URL: `https://host[:port][/prefix]`, or `http://` for loopback hosts.
///
/// No user info, query or fragment; a trailing slash is removed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BaseUrl(String);

impl BaseUrl {
    /// Parses a base URL. Plain `http://` is accepted only for loopback hosts
    /// (`localhost`, `127.0.0.0/8`, `[::1]`), so a client secret is never sent in clear text
    /// across a network by accident.
    pub fn parse(url: &str) -> Result<Self, InvalidInput> {
        Self::parse_with(url, false)
    }

    /// Parses a base URL and allows plain `http://` to any host. Use only behind a trusted
    /// TLS-terminating proxy.
    pub fn parse_allowing_insecure_http(url: &str) -> Result<Self, InvalidInput> {
        Self::parse_with(url, true)
    }

    /// The URL, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn parse_with(url: &str, allow_insecure_http: bool) -> Result<Self, InvalidInput> {
        const FIELD: &str = "base URL";
        let malformed = |reason: &str| InvalidInput::Malformed {
            field: FIELD,
            reason: reason.to_owned(),
        };
        let uri: http::Uri = url
            .parse()
            .map_err(|err: http::uri::InvalidUri| malformed(&err.to_string()))?;
        let scheme = uri
            .scheme_str()
            .ok_or_else(|| malformed("it needs a scheme, https:// or (for loopback) http://"))?
            .to_ascii_lowercase();
        let authority = uri
            .authority()
            .ok_or_else(|| malformed("it needs a host"))?;
        if authority.as_str().contains('@') {
            return Err(malformed("credentials do not belong in the URL"));
        }
        if uri.query().is_some() || url.contains('#') {
            return Err(malformed("a base URL has no query or fragment"));
        }
        // The http crate's parser is lenient about hosts and ports: check both here.
        let host = authority.host().to_ascii_lowercase();
        check_host(&host).map_err(malformed)?;
        let after_host = authority
            .as_str()
            .get(authority.host().len()..)
            .unwrap_or_default();
        let port = match after_host.strip_prefix(':') {
            None if after_host.is_empty() => String::new(),
            None => return Err(malformed("unexpected text after the host")),
            Some(digits) => match digits.parse::<u16>() {
                Ok(port) if port > 0 && digits.bytes().all(|b| b.is_ascii_digit()) => {
                    format!(":{port}")
                }
                _ => return Err(malformed("the port must be a number from 1 to 65535")),
            },
        };
        match scheme.as_str() {
            "https" => {}
            "http" if allow_insecure_http || is_loopback_host(&host) => {}
            "http" => {
                return Err(malformed(
                    "plain http:// is allowed only for loopback hosts (localhost, 127.0.0.1, [::1])",
                ));
            }
            _ => return Err(malformed("the scheme must be https:// or http://")),
        }
        let path = uri.path().trim_end_matches('/');
        Ok(Self(format!("{scheme}://{host}{port}{path}")))
    }
}

/// A host name (letters, digits, `-` and `.`), an IPv4 address, or an IPv6 address in
/// brackets.
fn check_host(host: &str) -> Result<(), &'static str> {
    if host.is_empty() {
        return Err("it needs a host");
    }
    if let Some(inner) = host.strip_prefix('[') {
        return match inner.strip_suffix(']').map(str::parse::<Ipv6Addr>) {
            Some(Ok(_)) => Ok(()),
            _ => Err("a bracketed host must be an IPv6 address"),
        };
    }
    let name_ok = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !host.starts_with(['.', '-'])
        && !host.contains("..");
    if name_ok {
        Ok(())
    } else {
        Err("the host may hold only letters, digits, '-' and '.'")
    }
}

fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare == "localhost"
        || bare.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
        || bare.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback())
}

impl core::str::FromStr for BaseUrl {
    type Err = InvalidInput;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::parse(value)
    }
}

impl core::fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}
