"""Zuora's Reporting API: run a report, wait for it, download its results.

The engine is zuora-rs (Rust): validation, requests, retries with one idempotency key per
run, token caching, waiting, paging and export conversion. HTTP is httpx. `Client` is
synchronous, `AsyncClient` is for asyncio; both take the same keyword arguments, or the
``ZUORA_*`` environment variables the ``zuora-report`` CLI reads.
"""

from ._client import AsyncClient, Client
from ._native import (
    AmbiguousReportNameError,
    ApiError,
    AttemptTimedOutError,
    AuthenticationError,
    ExportBrokenError,
    ExportSummary,
    OperationInterruptedError,
    InvalidInputError,
    NoCompletedRunError,
    NotFoundError,
    PagingStoppedError,
    PermissionDeniedError,
    RateLimitedError,
    ReportNotFoundError,
    ReportRun,
    ReportSummary,
    RunEndedError,
    RunNotCompletedError,
    RunNotFoundError,
    RunStarted,
    Table,
    TableValueError,
    TimedOutError,
    TransportError,
    WrongViewTypeError,
    ZuoraError,
    __version__,
)

__all__ = [
    "Client",
    "AsyncClient",
    "RunStarted",
    "ReportRun",
    "ReportSummary",
    "ExportSummary",
    "Table",
    "TableValueError",
    "ZuoraError",
    "InvalidInputError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ReportNotFoundError",
    "RunNotFoundError",
    "AmbiguousReportNameError",
    "RunNotCompletedError",
    "NoCompletedRunError",
    "WrongViewTypeError",
    "RateLimitedError",
    "RunEndedError",
    "TimedOutError",
    "AttemptTimedOutError",
    "OperationInterruptedError",
    "TransportError",
    "PagingStoppedError",
    "ExportBrokenError",
    "ApiError",
    "__version__",
]
