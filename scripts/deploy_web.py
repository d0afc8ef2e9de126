"""Publishes the web front (web/public) to the stack's bucket behind CloudFront.

Reads the stack's outputs (WebBucketName, WebDistributionId, WebConfig), uploads every file
with its content type and caching (the vendored DSFR, whose folder is versioned, is immutable;
everything else is revalidated on each load), writes config.json for AWS (Cognito sign-in, the
HTTP API's address), and invalidates what is not immutable.
Usage: python scripts/deploy_web.py STACK_NAME   (AWS credentials and region from the
environment, as for `sam deploy`). Needs boto3 (in .venv after scripts/aws-tools.sh).
"""

import json
import mimetypes
import pathlib
import sys
import time

import boto3

ROOT = pathlib.Path(__file__).resolve().parent.parent / "web" / "public"
IMMUTABLE = "assets/vendor/"
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
    ".webmanifest": "application/manifest+json",
}


def outputs(stack: str) -> dict:
    cfn = boto3.client("cloudformation")
    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def content_type(path: pathlib.Path) -> str:
    return TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def cache_control(key: str) -> str:
    return "public, max-age=31536000, immutable" if key.startswith(IMMUTABLE) else "no-cache"


def upload(s3, bucket: str, config: str) -> list[str]:
    """Uploads the site; returns the keys that CloudFront must forget."""
    changed = []
    for path in sorted(p for p in ROOT.rglob("*") if p.is_file()):
        key = path.relative_to(ROOT).as_posix()
        body = config.encode() if key == "config.json" else path.read_bytes()
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType=content_type(path),
            CacheControl=cache_control(key),
        )
        if not key.startswith(IMMUTABLE):
            changed.append(f"/{key}")
    return changed


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = outputs(sys.argv[1])
    config = json.dumps(json.loads(out["WebConfig"]), ensure_ascii=False, indent=2)
    changed = upload(boto3.client("s3"), out["WebBucketName"], config)
    # The front's own pages are served as index.html by the distribution's error responses.
    boto3.client("cloudfront").create_invalidation(
        DistributionId=out["WebDistributionId"],
        InvalidationBatch={
            "Paths": {"Quantity": len(changed) + 1, "Items": changed + ["/"]},
            "CallerReference": f"cassiopee-web-{int(time.time())}",
        },
    )
    print(f"{len(changed)} files revalidated; the front is at {out['WebUrl']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
