//! A report run's status: a value, read in any letter case.

/// A run's status (reference §4.2). Read in any letter case: Zuora's examples write
/// `COMPLETED`, its OpenAPI schema `completed`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RunStatus {
    /// Started; the query is not yet submitted.
    Started,
    /// The query is submitted; no results yet.
    QueryData,
    /// Results received, being processed.
    ProcessingData,
    /// Results are ready to download.
    Completed,
    /// Cancelled by a user.
    Cancelled,
    /// The definition or its data is invalid.
    Invalid,
    /// Finished with an error.
    Error,
    /// A status Zuora does not document, kept as sent.
    Other(String),
}

impl RunStatus {
    /// Reads a status in any letter case.
    pub fn parse(text: &str) -> Self {
        match text.to_ascii_uppercase().as_str() {
            "STARTED" => Self::Started,
            "QUERYDATA" => Self::QueryData,
            "PROCESSINGDATA" => Self::ProcessingData,
            "COMPLETED" => Self::Completed,
            "CANCELLED" | "CANCELED" => Self::Cancelled,
            "INVALID" => Self::Invalid,
            "ERROR" => Self::Error,
            _ => Self::Other(text.to_owned()),
        }
    }

    /// The documented spelling (`COMPLETED`, …).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Started => "STARTED",
            Self::QueryData => "QUERYDATA",
            Self::ProcessingData => "PROCESSINGDATA",
            Self::Completed => "COMPLETED",
            Self::Cancelled => "CANCELLED",
            Self::Invalid => "INVALID",
            Self::Error => "ERROR",
            Self::Other(text) => text,
        }
    }

    /// Whether the run can still change (an undocumented status counts as in progress).
    pub fn in_progress(&self) -> bool {
        matches!(
            self,
            Self::Started | Self::QueryData | Self::ProcessingData | Self::Other(_)
        )
    }
}

impl core::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}
