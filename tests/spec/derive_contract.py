"""Derives the machine-readable contract checked into this repository from Zuora's OpenAPI file.

Usage: derive_contract.py SPEC.yaml OUT.json

Keeps what a validator needs (paths, methods, parameters and their schemas, request and
response schemas, servers, the document's title and version) and drops the prose
(descriptions, summaries, examples, vendor extensions, contact), so the repository carries
the contract without copying Zuora's documentation. The output is stable: keys sorted, two
spaces, a final newline, so `cargo xtask spec-derive --check` can compare it byte for byte.
"""
import json
import sys

import yaml

PROSE = {"description", "summary", "example", "examples", "externalDocs", "contact",
         "termsOfService", "license"}


def strip(node, parent_key=None):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            # Under `properties` every key is a field name (a field may be called
            # "description"), never prose.
            if parent_key != "properties" and (key in PROSE or str(key).startswith("x-")):
                continue
            out[key] = strip(value, key)
        if parent_key == "responses":
            # OpenAPI 3.0 requires a response's description; its text is prose.
            out = {code: {**response, "description": ""} for code, response in out.items()}
        return out
    if isinstance(node, list):
        return [strip(item, parent_key) for item in node]
    return node


def main():
    with open(sys.argv[1], encoding="utf-8") as file:
        spec = yaml.safe_load(file)
    contract = strip(spec)
    # Tags carry only prose besides their names.
    contract["tags"] = [{"name": tag["name"]} for tag in spec.get("tags", [])]
    text = json.dumps(contract, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"
    with open(sys.argv[2], "w", encoding="utf-8") as file:
        file.write(text)


main()
