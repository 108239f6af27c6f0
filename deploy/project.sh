#!/usr/bin/env bash
# Step 1: enable the APIs and create the two service accounts (the functions' identity, the scheduler's).
# Safe to run again: it only creates what is missing.

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

step "Enabling the APIs in ${PROJECT_ID} (a minute the first time)"
gcloud services enable \
  cloudfunctions.googleapis.com run.googleapis.com cloudbuild.googleapis.com artifactregistry.googleapis.com \
  cloudscheduler.googleapis.com secretmanager.googleapis.com sheets.googleapis.com iamcredentials.googleapis.com

for sa in "${RUNTIME_SA_NAME}" "${SCHEDULER_SA_NAME}"; do
  if gcloud iam service-accounts describe "${sa}@${PROJECT_ID}.iam.gserviceaccount.com" >/dev/null 2>&1; then
    echo "service account ${sa} exists"
  else
    step "Creating the service account ${sa}"
    gcloud iam service-accounts create "${sa}" --display-name "Invoicing: ${sa}"
  fi
done

step "Logging from the functions"
gcloud projects add-iam-policy-binding "${PROJECT_ID}" --member "serviceAccount:${RUNTIME_SA}" \
  --role roles/logging.logWriter --condition None >/dev/null

cat <<MSG

Done. Now share the spreadsheet with the functions' service account, as an Editor:
  ${RUNTIME_SA}
(In the sheet: Share > add that address > Editor > untick "Notify people" > Share.)
MSG
