#!/usr/bin/env bash
# Publish the admin page (site/) to a deployed church's stack: upload the files to the private site bucket,
# write the config.json that points the page at this stack's API and Cognito sign-in, and invalidate
# CloudFront so admins get the new files at once.
#
#   scripts/publish_site.sh <church>        # <church> = a samconfig.toml environment, e.g. example-church
#   STACK_NAME=pco-sync-foo scripts/publish_site.sh
#
# Needs the AWS CLI v2 and credentials for the church's account (the usual AWS_PROFILE / AWS_REGION).
# The local config.json (auth mode "local") is never uploaded: the generated one replaces it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
env_name="${1:-${ENV:-}}"
stack="${STACK_NAME:-}"
if [[ -z "$stack" ]]; then
  if [[ -z "$env_name" ]]; then
    echo "usage: $0 <samconfig environment>   (or set STACK_NAME)" >&2
    exit 2
  fi
  # The environment's stack_name from samconfig.toml (python3 >= 3.11 reads TOML itself).
  stack="$(python3 - "$here/samconfig.toml" "$env_name" <<'PY'
import sys, tomllib
config = tomllib.load(open(sys.argv[1], "rb"))
env = config.get(sys.argv[2])
if env is None:
    sys.exit(f"no [{sys.argv[2]}] environment in samconfig.toml")
print(env.get("deploy", {}).get("parameters", {}).get("stack_name")
      or env.get("global", {}).get("parameters", {}).get("stack_name")
      or sys.exit(f"[{sys.argv[2]}] has no stack_name"))
PY
)"
fi

output() {
  aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}

bucket="$(output SiteBucketName)"
distribution="$(output SiteDistributionId)"
page_url="$(output AdminPageUrl)"
api_url="$(output AdminApiUrl)"
auth_domain="$(output UserPoolDomainUrl)"
client_id="$(output UserPoolClientId)"
for value in "$bucket" "$distribution" "$page_url" "$api_url" "$auth_domain" "$client_id"; do
  if [[ -z "$value" || "$value" == "None" ]]; then
    echo "stack $stack lacks an output this script needs; deploy the current template first" >&2
    exit 1
  fi
done

config="$(mktemp)"
trap 'rm -f "$config"' EXIT
python3 - "$config" "$api_url" "$auth_domain" "$client_id" "$page_url" <<'PY'
import json, sys
path, api, domain, client, page = sys.argv[1:]
json.dump(
    {
        "apiBaseUrl": api,
        "auth": {
            "mode": "cognito",
            "domain": domain,
            "clientId": client,
            "redirectUri": page,
            "logoutUri": page,
        },
    },
    open(path, "w"),
    indent=2,
)
PY

echo "publishing site/ to s3://$bucket (stack $stack)"
# no-cache: browsers and CloudFront revalidate, so a new page is live after the invalidation.
aws s3 sync "$here/site/" "s3://$bucket/" --delete --exclude config.json --cache-control "no-cache"
aws s3 cp "$config" "s3://$bucket/config.json" --content-type application/json --cache-control "no-cache"
aws cloudfront create-invalidation --distribution-id "$distribution" --paths "/*" >/dev/null
echo "admin page: $page_url"
