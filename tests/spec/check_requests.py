"""Validates requests built by zuora-core against Zuora's own OpenAPI description.

Input (argv[2]): a JSON array of {"name", "method", "url", "headers": {..}, "body"}; argv[1]: the
contract (tests/spec/reporting-contract.json, derived from Zuora's OpenAPI file). An independent check: openapi-core reads the spec; nothing here comes from zuora-rs.
"""
import json
import sys
import urllib.parse

from openapi_core import OpenAPI
from openapi_core.testing import MockRequest

api = OpenAPI.from_file_path(sys.argv[1])
with open(sys.argv[2], encoding="utf-8") as file:
    requests = json.load(file)



def mock(request):
    url = urllib.parse.urlsplit(request["url"])
    args = {name: values[0] for name, values in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
    headers = request["headers"]
    body = request["body"].encode() if request["body"] else None
    return MockRequest(f"{url.scheme}://{url.netloc}", request["method"].lower(), url.path,
                       args=args, headers=headers, data=body, content_type=headers.get("content-type"))


passed = failed = 0
for request in requests:
    try:
        api.validate_request(mock(request))
        passed += 1
    except Exception as error:  # the validator's own exception types
        failed += 1
        print(f"INVALID {request['name']}: {type(error).__name__}: {error}")
        for cause in getattr(error, "schema_errors", None) or []:
            print(f"    {cause}")
print(f"spec conformance: {passed} passed, {failed} failed")

# The validator must also refuse what the contract forbids, or a pass above proves nothing.
built = {request["name"]: request for request in requests}
run = built["run report, saved filters"]
no_view_type = dict(run, url=run["url"].split("?")[0])
long_track_id = dict(run, headers={**run["headers"], "zuora-track-id": "a" * 70})
refused = 0
for name, request in [("no viewType", no_view_type), ("70-character track id", long_track_id)]:
    try:
        api.validate_request(mock(request))
        print(f"NOT REFUSED {name}: the validator let a request the contract forbids through")
    except Exception:  # refused, as it must be
        refused += 1
print(f"spec self-check: {refused} of 2 forbidden requests refused")
sys.exit(1 if failed or refused != 2 else 0)
