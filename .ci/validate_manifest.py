"""Validate manifest.yml against Slack's own app manifest JSON schema (path given as argv[1])."""

import json
import sys
from pathlib import Path

import jsonschema
import yaml

schema = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
manifest = yaml.safe_load(Path("manifest.yml").read_text(encoding="utf-8"))
validator = jsonschema.Draft7Validator(schema)
errors = sorted(validator.iter_errors(manifest), key=lambda e: list(e.path))
for error in errors:
    where = "/".join(str(p) for p in error.path) or "(top)"
    print(f"manifest.yml: {where}: {error.message}")
if errors:
    sys.exit(1)
print("manifest.yml is valid against Slack's manifest schema")
