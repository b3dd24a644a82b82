"""A full Run-a-report trip from Python through the C ABI (standard library only).

Python does the IO with urllib; the library builds every request and parses every answer:
token -> search -> run (idempotency key) -> poll -> export converted to CSV.
ZUORA_FFI_LIBRARY: path of libzuora.so; ZUORA_SIM_BINARY: path of zuora-sim.
"""
import ctypes
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

lib = ctypes.CDLL(os.environ["ZUORA_FFI_LIBRARY"])
P = ctypes.POINTER
u8p = P(ctypes.c_uint8)


class Header(ctypes.Structure):
    _fields_ = [("name", u8p), ("name_len", ctypes.c_size_t), ("value", u8p), ("value_len", ctypes.c_size_t)]


lib.zuora_parse_response.argtypes = [ctypes.c_int32, ctypes.c_uint16, P(Header), ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t, P(ctypes.c_void_p)]
lib.zuora_retry_decide.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_bool, ctypes.c_uint32, ctypes.c_uint64, ctypes.c_uint64,
                                   ctypes.c_bool, ctypes.c_int32, ctypes.c_uint64, ctypes.c_double, P(ctypes.c_int), P(ctypes.c_uint64)]
lib.zuora_export_decoder_feed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, P(u8p), P(ctypes.c_size_t)]
lib.zuora_export_decoder_finish.argtypes = [ctypes.c_void_p, P(u8p), P(ctypes.c_size_t)]
for name in ("zuora_request_method", "zuora_request_url", "zuora_request_body", "zuora_result_message", "zuora_result_request_id",
             "zuora_result_track_id", "zuora_result_report_run_id", "zuora_result_run_status", "zuora_result_access_token"):
    getattr(lib, name).argtypes = [ctypes.c_void_p, P(u8p), P(ctypes.c_size_t)]
lib.zuora_request_header.argtypes = [ctypes.c_void_p, ctypes.c_size_t, P(u8p), P(ctypes.c_size_t), P(u8p), P(ctypes.c_size_t)]
lib.zuora_result_report.argtypes = [ctypes.c_void_p, ctypes.c_size_t, P(u8p), P(ctypes.c_size_t), P(u8p), P(ctypes.c_size_t)]
lib.zuora_request_free.argtypes = [ctypes.c_void_p]
lib.zuora_result_free.argtypes = [ctypes.c_void_p]
lib.zuora_export_decoder_free.argtypes = [ctypes.c_void_p]

OK, OP_TOKEN, OP_RUN_REPORT, OP_GET_RUN, OP_SEARCH, OP_EXPORT = 0, 1, 2, 3, 4, 5
RETRY_AFTER, REFRESH_TOKEN = 1, 2


def arg(text):
    data = text.encode()
    return ctypes.cast(ctypes.c_char_p(data), u8p), len(data)


def check(code, what):
    if code != OK:
        ptr, length = u8p(), ctypes.c_size_t()
        lib.zuora_last_error(ctypes.byref(ptr), ctypes.byref(length))
        raise RuntimeError(f"{what}: code {code}: {ctypes.string_at(ptr, length.value).decode()}")


def borrowed(function, handle, *extra):
    ptr, length = u8p(), ctypes.c_size_t()
    check(function(handle, *extra, ctypes.byref(ptr), ctypes.byref(length)), function.__name__)
    return ctypes.string_at(ptr, length.value)


def build(function, *texts):
    """Calls a zuora_*_request_new with string arguments (None for an optional NULL)."""
    args = []
    keep = []
    for text in texts:
        if text is None:
            args += [None, 0]
        else:
            data = text.encode()
            keep.append(data)
            args += [ctypes.cast(ctypes.c_char_p(data), u8p), len(data)]
    # Every string is (const uint8_t *, size_t): declare it, or ctypes passes 32-bit ints.
    function.argtypes = [u8p, ctypes.c_size_t] * len(texts) + [P(ctypes.c_void_p)]
    handle = ctypes.c_void_p()
    check(function(*args, ctypes.byref(handle)), function.__name__)
    return handle


def send(handle, stream=False):
    """Sends a built request with urllib; returns (status, headers, body or response)."""
    method = borrowed(lib.zuora_request_method, handle).decode()
    url = borrowed(lib.zuora_request_url, handle).decode()
    body = borrowed(lib.zuora_request_body, handle)
    count = ctypes.c_size_t()
    check(lib.zuora_request_header_count(handle, ctypes.byref(count)), "header count")
    headers = {}
    for index in range(count.value):
        n, nl, v, vl = u8p(), ctypes.c_size_t(), u8p(), ctypes.c_size_t()
        check(lib.zuora_request_header(handle, index, ctypes.byref(n), ctypes.byref(nl), ctypes.byref(v), ctypes.byref(vl)), "header")
        headers[ctypes.string_at(n, nl.value).decode()] = ctypes.string_at(v, vl.value).decode()
    lib.zuora_request_free(handle)
    request = urllib.request.Request(url, data=body if method != "GET" else None, method=method, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=30)
    except urllib.error.HTTPError as error:
        return error.code, list(error.headers.items()), error.read()
    if stream:
        return response.status, list(response.headers.items()), response
    return response.status, list(response.headers.items()), response.read()


def parse(operation, status, headers, body):
    keep = []
    array = (Header * len(headers))()
    for index, (name, value) in enumerate(headers):
        n, v = name.encode(), value.encode()
        keep += [n, v]
        array[index] = Header(ctypes.cast(ctypes.c_char_p(n), u8p), len(n), ctypes.cast(ctypes.c_char_p(v), u8p), len(v))
    result = ctypes.c_void_p()
    check(lib.zuora_parse_response(operation, status, array, len(headers), body, len(body), ctypes.byref(result)), "parse")
    outcome = ctypes.c_int()
    check(lib.zuora_result_outcome(result, ctypes.byref(outcome)), "outcome")
    return result, outcome.value


def text_of(function, result):
    return borrowed(function, result).decode()


def call(operation, make_request, safety, deadline_ms=60_000):
    """One operation with the library's retry decisions; returns the successful result."""
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        status, headers, body = send(make_request())
        result, outcome = parse(operation, status, headers, body)
        if outcome == OK:
            return result
        decision, delay = ctypes.c_int(), ctypes.c_uint64()
        elapsed = int((time.monotonic() - started) * 1000)
        check(lib.zuora_retry_decide(result, 0, True, attempt, elapsed, deadline_ms, False, safety,
                                     int(time.time() * 1000), ctypes.c_double(0.5), ctypes.byref(decision), ctypes.byref(delay)), "decide")
        message = text_of(lib.zuora_result_message, result)
        lib.zuora_result_free(result)
        if decision.value != RETRY_AFTER:
            raise RuntimeError(f"Zuora refused (HTTP {status}): {message}")
        time.sleep(delay.value / 1000)


def main():
    sim = subprocess.Popen([os.environ["ZUORA_SIM_BINARY"], "--port", "0", "--run-seconds", "0.2"],
                           stdout=subprocess.PIPE, text=True)
    try:
        values = {}
        while len(values) < 3:
            line = sim.stdout.readline()
            if not line:
                raise RuntimeError("the simulator stopped")
            for key in ("base URL:", "client id:", "client secret:"):
                if line.startswith(key):
                    values[key] = line.split()[-1]
        base, client_id, secret = values["base URL:"], values["client id:"], values["client secret:"]

        token_result = call(OP_TOKEN, lambda: build(lib.zuora_token_request_new, base, client_id, secret), 0)
        token = text_of(lib.zuora_result_access_token, token_result)
        lib.zuora_result_free(token_result)

        search = call(OP_SEARCH, lambda: build(lib.zuora_search_request_new, base, token, "Invoice Detail"), 0)
        count = ctypes.c_size_t()
        check(lib.zuora_result_report_count(search, ctypes.byref(count)), "count")
        report_id = None
        for index in range(count.value):
            i, il, n, nl = u8p(), ctypes.c_size_t(), u8p(), ctypes.c_size_t()
            check(lib.zuora_result_report(search, index, ctypes.byref(i), ctypes.byref(il), ctypes.byref(n), ctypes.byref(nl)), "report")
            if ctypes.string_at(n, nl.value).decode() == "Invoice Detail":
                report_id = ctypes.string_at(i, il.value).decode()
        lib.zuora_result_free(search)
        assert report_id, "no report named exactly Invoice Detail"

        key = str(uuid.uuid4())
        started = call(OP_RUN_REPORT, lambda: build(lib.zuora_run_report_request_new, base, token, report_id, "Detail", key, "python-trip"), 1)
        run_id = text_of(lib.zuora_result_report_run_id, started)
        assert text_of(lib.zuora_result_track_id, started) == "python-trip"
        lib.zuora_result_free(started)

        statuses = []
        while True:
            seen = call(OP_GET_RUN, lambda: build(lib.zuora_get_run_request_new, base, token, run_id), 0)
            status = text_of(lib.zuora_result_run_status, seen)
            answered = text_of(lib.zuora_result_report_run_id, seen)
            lib.zuora_result_free(seen)
            if answered != run_id:
                raise RuntimeError(f"asked about run {run_id}, the answer is about {answered}")
            if not statuses or statuses[-1] != status:
                statuses.append(status)
            if status == "COMPLETED":
                break
            if status in ("ERROR", "INVALID", "CANCELLED"):
                raise RuntimeError(f"the run ended {status}")
            time.sleep(0.1)

        status, headers, response = send(build(lib.zuora_export_request_new, base, token, run_id), stream=True)
        assert status == 200, status
        gzipped = any(name.lower() == "content-encoding" and "gzip" in value for name, value in headers)
        decoder = ctypes.c_void_p()
        check(lib.zuora_export_decoder_new(0, gzipped, ctypes.byref(decoder)), "decoder")
        csv = bytearray()
        while True:
            chunk = response.read(64 * 1024)
            if not chunk:
                break
            csv += borrowed(lib.zuora_export_decoder_feed, decoder, chunk, len(chunk))
        csv += borrowed(lib.zuora_export_decoder_finish, decoder)
        lib.zuora_export_decoder_free(decoder)
        text = csv.decode("utf-8")
        assert text.startswith("Invoice: Invoice Number,Invoice: Created Date,Account: Name"), text[:80]
        rows = text.count("\r\nINV")
        assert rows == 250, rows
        print(f"Python trip through the C ABI: statuses {' -> '.join(statuses)}, {rows} rows, {len(csv)} CSV bytes")
    finally:
        sim.terminate()
        sim.wait(timeout=10)


main()
