"""Validates requests built by zuora-core against Zuora's own OpenAPI description.

Input (argv[2]): a JSON array of {"name", "method", "url", "headers": {..}, "body"}; argv[1]: the
spec. An independent check: openapi-core reads the spec; nothing here comes from zuora-rs.
"""
import json
import sys
import urllib.parse

from openapi_core import OpenAPI
from openapi_core.testing import MockRequest

api = OpenAPI.from_file_path(sys.argv[1])
with open(sys.argv[2], encoding="utf-8") as file:
    requests = json.load(file)

passed = failed = 0
for request in requests:
    url = urllib.parse.urlsplit(request["url"])
    args = {name: values[0] for name, values in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
    headers = request["headers"]
    content_type = headers.get("content-type")
    body = request["body"].encode() if request["body"] else None
    mock = MockRequest(f"{url.scheme}://{url.netloc}", request["method"].lower(), url.path,
                       args=args, headers=headers, data=body, content_type=content_type)
    try:
        api.validate_request(mock)
        passed += 1
    except Exception as error:  # the validator's own exception types
        failed += 1
        print(f"INVALID {request['name']}: {type(error).__name__}: {error}")
        for cause in getattr(error, "schema_errors", None) or []:
            print(f"    {cause}")
print(f"spec conformance: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
