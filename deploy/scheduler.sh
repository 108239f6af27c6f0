#!/usr/bin/env bash
# Step 4: the nightly refresh: a Cloud Scheduler job that POSTs {"period": "current"} to `refresh` with an
# OIDC ID token of the scheduler's service account (the function checks it like any other caller).

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ -n "$(function_url refresh)" ]] || die "the refresh function is not deployed yet; run deploy/functions.sh first."
# The cloudfunctions.net address, not the run.app one: it is the audience the function accepts
# (INVOICING_AUDIENCES, set by deploy/functions.sh).
url="https://${REGION}-${PROJECT_ID}.cloudfunctions.net/refresh"

# Cloud Scheduler's service agent mints the OIDC tokens, so it must be able to act as the scheduler account.
project_number="$(gcloud projects describe "${PROJECT_ID}" --format 'value(projectNumber)')"
gcloud iam service-accounts add-iam-policy-binding "${SCHEDULER_SA}" \
  --member "serviceAccount:service-${project_number}@gcp-sa-cloudscheduler.iam.gserviceaccount.com" \
  --role roles/iam.serviceAccountTokenCreator >/dev/null

job_flags=(
  --location "${REGION}" --schedule "${SCHEDULE}" --time-zone "${TIME_ZONE}"
  --uri "${url}" --http-method POST
  --message-body '{"period": "current"}'
  --oidc-service-account-email "${SCHEDULER_SA}" --oidc-token-audience "${url}"
  --attempt-deadline 540s --max-retry-attempts 3 --min-backoff 5m
)

if gcloud scheduler jobs describe "${SCHEDULER_JOB}" --location "${REGION}" >/dev/null 2>&1; then
  step "Updating the job ${SCHEDULER_JOB}"
  gcloud scheduler jobs update http "${SCHEDULER_JOB}" "${job_flags[@]}" \
    --update-headers "Content-Type=application/json" --quiet
else
  step "Creating the job ${SCHEDULER_JOB}"
  gcloud scheduler jobs create http "${SCHEDULER_JOB}" "${job_flags[@]}" \
    --headers "Content-Type=application/json" --quiet
fi

echo "Run it once now to check: gcloud scheduler jobs run ${SCHEDULER_JOB} --location ${REGION}"
