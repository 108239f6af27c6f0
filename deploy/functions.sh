#!/usr/bin/env bash
# Step 3: deploy refresh, preview and create_invoices as HTTP Cloud Functions (2nd gen, Python 3.11).
#
# Why --allow-unauthenticated: the menu's ID token (ScriptApp.getIdentityToken()) has the Apps Script
# project's OAuth client id as its audience, which Cloud Run's own IAM check rejects. So the platform lets
# requests through and every function verifies the Google-signed ID token itself (signature, audience,
# expiry, issuer) and the caller's email against INVOICING_ALLOWED_CALLERS before doing anything.
#
# Cost (docs/cost.md): --min-instances 0 (MIN_INSTANCES), so nothing is billed between runs; a run starts an
# instance in a few seconds, which the nightly job and the menu can wait for. --memory 512Mi (FUNCTION_MEMORY):
# the measured peak is 111 MB for the demo agency (25 clients) and 298 MB for a 250-client month (17,430
# entries, benchmarks/pipeline_scale.py), so 512Mi leaves headroom up to about 250 clients; above that set
# FUNCTION_MEMORY=1Gi. --cpu 1 (FUNCTION_CPU). `python main.py cost` prices these settings.
#
# Why create_invoices has --max-instances 1: all its requests then reach one instance, whose lock makes a
# second, overlapping run wait (HTTP 409) instead of running beside the first.

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STAGE="$(mktemp -d)"
ENV_VARS="$(mktemp)"
trap 'rm -rf "${STAGE}" "${ENV_VARS}"' EXIT

step "Staging the source (main.py, functions/, sheet_templates/, requirements.txt)"
cp "${REPO_ROOT}/main.py" "${REPO_ROOT}/requirements.txt" "${STAGE}/"
cp -R "${REPO_ROOT}/functions" "${REPO_ROOT}/sheet_templates" "${STAGE}/"
rm -rf "${STAGE}/sheet_templates/apps_script"
find "${STAGE}" -name '__pycache__' -type d -prune -exec rm -rf {} +

base_url="https://${REGION}-${PROJECT_ID}.cloudfunctions.net"
audiences="${base_url}/refresh ${base_url}/preview ${base_url}/create_invoices ${APPS_SCRIPT_CLIENT_ID}"
[[ -n "${APPS_SCRIPT_CLIENT_ID}" ]] || echo "note: APPS_SCRIPT_CLIENT_ID is empty, so the menu cannot call yet (docs/google.md, step 7)"

# An env-vars file, because the lists contain spaces and gcloud splits --set-env-vars on commas.
cat >"${ENV_VARS}" <<VARS
SHEET: "google"
GOOGLE_SHEET_ID: "${SHEET_ID}"
ACCOUNTING: "${ACCOUNTING}"
AI_ENABLED: "${AI_ENABLED}"
WORKDIR: "/tmp/invoicing"
FUNCTION_MEMORY: "${FUNCTION_MEMORY}"
GOOGLE_CLOUD_PROJECT: "${PROJECT_ID}"
INVOICING_ALLOWED_CALLERS: "${OPS_EMAILS} ${SCHEDULER_SA}"
INVOICING_AUDIENCES: "${audiences}"
QBO_CLIENT_ID: "${QBO_CLIENT_ID:-}"
QBO_ENVIRONMENT: "${QBO_ENVIRONMENT:-sandbox}"
QBO_REALM_ID: "${QBO_REALM_ID:-}"
QBO_TOKEN_STORE: "secretmanager:projects/${PROJECT_ID}/secrets/${SECRET_QBO_TOKENS}"
QBO_SHEET_URL: "https://docs.google.com/spreadsheets/d/${SHEET_ID}/edit"
TIME_SOURCE: "${TIME_SOURCE}"
HARVEST_ACCOUNT_ID: "${HARVEST_ACCOUNT_ID:-}"
HARVEST_USER_AGENT: "${HARVEST_USER_AGENT:-}"
TOGGL_WORKSPACE_ID: "${TOGGL_WORKSPACE_ID:-}"
VARS

secrets=()
if [[ "${ACCOUNTING}" == "quickbooks" ]] && secret_exists "${SECRET_QBO_CLIENT_SECRET}"; then
  secrets+=("QBO_CLIENT_SECRET=${SECRET_QBO_CLIENT_SECRET}:latest")
fi
if [[ "${TIME_SOURCE}" == "harvest" ]] && secret_exists "${SECRET_HARVEST}"; then
  secrets+=("HARVEST_TOKEN=${SECRET_HARVEST}:latest")
fi
if [[ "${TIME_SOURCE}" == "toggl" ]] && secret_exists "${SECRET_TOGGL}"; then
  secrets+=("TOGGL_API_TOKEN=${SECRET_TOGGL}:latest")
fi
if [[ "${AI_ENABLED}" == "true" ]] && secret_exists "${SECRET_ANTHROPIC}"; then
  secrets+=("ANTHROPIC_API_KEY=${SECRET_ANTHROPIC}:latest")
fi
secret_flags=()
if ((${#secrets[@]})); then
  secret_flags=(--set-secrets "$(IFS=,; echo "${secrets[*]}")")
fi

for fn in "${FUNCTIONS[@]}"; do
  limits=(--max-instances 3 --concurrency 1)
  timeout=540s
  if [[ "${fn}" == "create_invoices" ]]; then
    limits=(--max-instances 1 --concurrency 4)
  fi
  step "Deploying ${fn}"
  gcloud functions deploy "${fn}" --gen2 --region "${REGION}" --runtime python311 \
    --source "${STAGE}" --entry-point "${fn}" --trigger-http --allow-unauthenticated \
    --service-account "${RUNTIME_SA}" --memory "${FUNCTION_MEMORY}" --cpu "${FUNCTION_CPU}" \
    --min-instances "${MIN_INSTANCES}" --timeout "${timeout}" "${limits[@]}" \
    --env-vars-file "${ENV_VARS}" "${secret_flags[@]}" --quiet
done

step "Deployed"
for fn in "${FUNCTIONS[@]}"; do
  printf '  %-16s %s\n' "${fn}" "$(function_url "${fn}")"
done
echo "Set the Apps Script property INVOICING_FUNCTIONS_URL to ${base_url}"
