"""Type hints for the Rust engine (`zuora_reporting._native`)."""

from typing import List, Optional, Sequence, Tuple

__version__: str

class ZuoraError(Exception):
    kind: str
    status: Optional[int]
    request_id: Optional[str]
    track_id: Optional[str]
    retryable: bool
    host: Optional[str]

class InvalidInputError(ZuoraError): ...
class AuthenticationError(ZuoraError): ...
class PermissionDeniedError(ZuoraError): ...
class NotFoundError(ZuoraError): ...
class ReportNotFoundError(NotFoundError): ...
class RunNotFoundError(NotFoundError): ...
class AmbiguousReportNameError(ZuoraError): ...
class RunNotCompletedError(ZuoraError): ...
class NoCompletedRunError(ZuoraError): ...
class WrongViewTypeError(ZuoraError): ...
class RateLimitedError(ZuoraError): ...
class RunEndedError(ZuoraError): ...
class TimedOutError(ZuoraError): ...
class OperationInterruptedError(ZuoraError): ...
class TransportError(ZuoraError): ...
class PagingStoppedError(ZuoraError): ...
class ExportBrokenError(ZuoraError): ...
class ApiError(ZuoraError): ...

class RunStarted:
    report_run_id: str
    request_id: Optional[str]
    track_id: Optional[str]

class ReportRun:
    id: str
    report_id: Optional[str]
    report_type: Optional[str]
    status: str
    started_on: Optional[float]
    updated_on: Optional[float]
    request_id: Optional[str]

class ReportSummary:
    id: str
    name: str
    number: Optional[str]
    datasource: Optional[str]
    description: Optional[str]

class ExportSummary:
    bytes_received: int
    bytes_written: int
    request_id: Optional[str]

class Task:
    """Any operation as the engine's task machine: read the step, do it, report back."""

    kind: str
    delay: float
    method: str
    url: str
    headers: List[Tuple[str, str]]
    body: bytes
    timeout: Optional[float]
    idle_timeout: Optional[float]
    rows: str
    def result(self) -> object: ...
    def on_head(self, status: int, headers: Sequence[Tuple[bytes, bytes]]) -> bool: ...
    def on_body(self, chunk: bytes) -> Tuple[bytes, bool]: ...
    def on_body_end(self) -> bytes: ...
    def on_failure(self, kind: str, sent: bool, message: str) -> None: ...
    def resume(self) -> None: ...
    def interrupt(self, cancel: bool) -> None: ...

class PartialFile:
    def __init__(self, path: str) -> None: ...
    def write(self, data: bytes) -> int: ...
    def commit(self) -> None: ...
    def discard(self) -> None: ...

class Engine:
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        base_url: Optional[str] = ...,
        environment: Optional[str] = ...,
        entity_ids: Optional[str] = ...,
        connect_timeout: Optional[float] = ...,
        attempt_timeout: Optional[float] = ...,
        overall_timeout: Optional[float] = ...,
        idle_timeout: Optional[float] = ...,
        max_attempts: Optional[int] = ...,
        user_agent: Optional[str] = ...,
        gzip_responses: bool = ...,
        seed: int = ...,
    ) -> None: ...
    base_url: str
    connect_timeout: float
    max_body: int
    def check_credentials(self) -> Task: ...
    def run_report(
        self,
        report_id: str,
        view_type: str,
        *,
        track_id: Optional[str] = ...,
        idempotency_key: Optional[str] = ...,
        filters: Optional[str] = ...,
    ) -> Task: ...
    def get_run(self, run_id: str) -> Task: ...
    def latest_run(self, report_id: str) -> Task: ...
    def cancel_run(self, run_id: str) -> Task: ...
    def search(self, query: str) -> Task: ...
    def find_report(self, name: str) -> Task: ...
    def rows(self, run_id: str, page_size: int) -> Task: ...
    def wait(
        self,
        run_id: str,
        *,
        timeout: Optional[float] = ...,
        cancel_on_timeout: bool = ...,
        poll_first: Optional[float] = ...,
        poll_max: Optional[float] = ...,
        observe: bool = ...,
    ) -> Task: ...
    def download(self, run_id: str, format: str) -> Task: ...
    def trip(
        self,
        report: str,
        *,
        view_type: str = ...,
        format: str = ...,
        track_id: Optional[str] = ...,
        timeout: Optional[float] = ...,
    ) -> Task: ...
