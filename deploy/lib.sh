#!/usr/bin/env bash
# shellcheck disable=SC2034  # a sourced library: the variables are used by the scripts that source it
# Shared by the deploy scripts: loads deploy/env, checks the tools, and names what the scripts create.
# Sourced, not run.

set -euo pipefail

DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${DEPLOY_DIR}/.." && pwd)"
ENV_FILE="${INVOICING_DEPLOY_ENV:-${DEPLOY_DIR}/env}"

die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

step() {
  printf '\n==> %s\n' "$*"
}

[[ -f "${ENV_FILE}" ]] || die "${ENV_FILE} does not exist; copy deploy/env.example to deploy/env and fill it in."
# shellcheck source-path=SCRIPTDIR source=env.example
source "${ENV_FILE}"

for name in PROJECT_ID REGION SHEET_ID OPS_EMAILS SCHEDULE TIME_ZONE RUNTIME_SA_NAME SCHEDULER_SA_NAME SCHEDULER_JOB; do
  [[ -n "${!name:-}" ]] || die "${name} is empty in ${ENV_FILE}."
done
command -v gcloud >/dev/null 2>&1 || die "gcloud is not installed: https://cloud.google.com/sdk/docs/install"

ACCOUNTING="${ACCOUNTING:-quickbooks}"
AI_ENABLED="${AI_ENABLED:-true}"
TIME_SOURCE="${TIME_SOURCE:-harvest}"
APPS_SCRIPT_CLIENT_ID="${APPS_SCRIPT_CLIENT_ID:-}"
# The functions' size (docs/cost.md; functions/cost.py DEPLOY_DEFAULTS has the same defaults).
FUNCTION_MEMORY="${FUNCTION_MEMORY:-512Mi}"
FUNCTION_CPU="${FUNCTION_CPU:-1}"
MIN_INSTANCES="${MIN_INSTANCES:-0}"
RUNTIME_SA="${RUNTIME_SA_NAME}@${PROJECT_ID}.iam.gserviceaccount.com"
SCHEDULER_SA="${SCHEDULER_SA_NAME}@${PROJECT_ID}.iam.gserviceaccount.com"
FUNCTIONS=(refresh preview create_invoices)
SECRET_QBO_CLIENT_SECRET=qbo-client-secret
SECRET_QBO_TOKENS=qbo-tokens
SECRET_ANTHROPIC=anthropic-api-key
SECRET_HARVEST=harvest-token
SECRET_TOGGL=toggl-api-token

export CLOUDSDK_CORE_PROJECT="${PROJECT_ID}"

function_url() {
  gcloud functions describe "$1" --gen2 --region "${REGION}" --format 'value(serviceConfig.uri)'
}

secret_exists() {
  gcloud secrets describe "$1" >/dev/null 2>&1
}
