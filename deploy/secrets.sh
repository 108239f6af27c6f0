#!/usr/bin/env bash
# Step 2: store the secrets in Secret Manager and let the functions' service account read them.
# Each value is read from the terminal without echo (or from stdin when piped); it never lands in a file,
# the shell history or a log. Run it again to add a new version of a secret (for example a rotated key).

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

store_secret() {
  local name="$1" prompt="$2" value=""
  if [[ -t 0 ]]; then
    read -r -s -p "${prompt} (blank to skip): " value
    echo
  else
    IFS= read -r value || true
  fi
  if [[ -z "${value}" ]]; then
    echo "skipped ${name}"
    return 0
  fi
  secret_exists "${name}" || gcloud secrets create "${name}" --replication-policy automatic >/dev/null
  local version
  version="$(printf '%s' "${value}" | gcloud secrets versions add "${name}" --data-file=- --format 'value(name)')"
  version="${version##*/}"
  [[ "$(gcloud secrets versions access "${version}" --secret "${name}")" == "${value}" ]] ||
    die "version ${version} of ${name} reads back differently; older versions were kept."
  retire_old_versions "${name}" "${version}"
  gcloud secrets add-iam-policy-binding "${name}" --member "serviceAccount:${RUNTIME_SA}" \
    --role roles/secretmanager.secretAccessor >/dev/null
  echo "stored a new version of ${name}"
}

# Disable the ENABLED versions older than $2 (just stored and read back); destroy the DISABLED versions
# superseded by a version created more than 7 days ago.
retire_old_versions() {
  local name="$1" keep="$2" v superseding
  for v in $(gcloud secrets versions list "${name}" --filter 'state:ENABLED' --format 'value(name)'); do
    v="${v##*/}"
    if ((v < keep)); then
      gcloud secrets versions disable "${v}" --secret "${name}" --quiet >/dev/null
      echo "disabled version ${v} of ${name}"
    fi
  done
  superseding="$(gcloud secrets versions list "${name}" --filter 'state:(ENABLED DISABLED) AND createTime<-P7D' \
    --sort-by '~createTime' --limit 1 --format 'value(name)')"
  superseding="${superseding##*/}"
  [[ -n "${superseding}" ]] || return 0
  for v in $(gcloud secrets versions list "${name}" --filter 'state:DISABLED' --format 'value(name)'); do
    v="${v##*/}"
    if ((v < superseding && v < keep)); then
      gcloud secrets versions destroy "${v}" --secret "${name}" --quiet >/dev/null
      echo "destroyed version ${v} of ${name} (disabled, superseded more than 7 days ago)"
    fi
  done
}

if [[ "${ACCOUNTING}" == "quickbooks" ]]; then
  step "QuickBooks Online app secret (developer.intuit.com > your app > Keys & credentials)"
  store_secret "${SECRET_QBO_CLIENT_SECRET}" "QBO client secret"

  step "QuickBooks tokens: the functions read and rotate them in the secret ${SECRET_QBO_TOKENS}"
  secret_exists "${SECRET_QBO_TOKENS}" || gcloud secrets create "${SECRET_QBO_TOKENS}" --replication-policy automatic >/dev/null
  # refresh tokens rotate: the functions add versions, then disable and destroy the old ones
  for role in roles/secretmanager.secretAccessor roles/secretmanager.secretVersionManager; do
    gcloud secrets add-iam-policy-binding "${SECRET_QBO_TOKENS}" --member "serviceAccount:${RUNTIME_SA}" \
      --role "${role}" >/dev/null
  done
  echo "Connect QuickBooks once from your machine with QBO_TOKEN_STORE=secretmanager:projects/${PROJECT_ID}/secrets/${SECRET_QBO_TOKENS}"
  echo "  python main.py connect quickbooks   (see docs/quickbooks.md)"
fi

if [[ "${TIME_SOURCE}" == "harvest" ]]; then
  step "Harvest personal access token (id.getharvest.com/developers)"
  store_secret "${SECRET_HARVEST}" "Harvest token"
elif [[ "${TIME_SOURCE}" == "toggl" ]]; then
  step "Toggl Track API token (track.toggl.com > Profile settings > API Token)"
  store_secret "${SECRET_TOGGL}" "Toggl API token"
fi

if [[ "${AI_ENABLED}" == "true" ]]; then
  step "Anthropic API key for the Claude categorizer (console.anthropic.com > API keys)"
  store_secret "${SECRET_ANTHROPIC}" "Anthropic API key"
fi
