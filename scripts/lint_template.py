"""Transforms infra/template.yaml with the SAM translator, offline, and lints the result.

Plain cfn-lint only schema-checks AWS::Serverless::* resources and misses wrong runtimes and
dangling references; linting the transformed CloudFormation catches them.
Usage: python scripts/lint_template.py [template] (exit status: cfn-lint's)
"""

import json
import os
import subprocess
import sys
import tempfile

from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """The template names no AWS managed policy, so nothing needs fetching from IAM."""

    def load(self):
        return {}


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else "infra/template.yaml"
    with open(path, encoding="utf-8") as f:
        template = yaml_parse(f.read())
    # As `sam package` would: local code folders become S3 locations.
    for name, resource in template.get("Resources", {}).items():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and not str(props.get("CodeUri", "")).startswith("s3://"):
            props["CodeUri"] = f"s3://cassiopee-artifacts/{name}.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-3")
    parameters = {"AWS::Region": "eu-west-3", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}
    try:
        transformed = transform(template, parameters, NoManagedPolicies())
    except InvalidDocumentException as e:
        for cause in e.causes:
            print(f"{path}: SAM transform: {cause.message}", file=sys.stderr)
        return 2
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as out:
        json.dump(transformed, out, indent=1)
        out_path = out.name
    cfn_lint = os.path.join(os.path.dirname(sys.executable), "cfn-lint")
    result = subprocess.run([cfn_lint, "--regions", "eu-west-3", "--", out_path])
    if result.returncode == 0:
        print(f"{path}: transformed and linted, no findings")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
