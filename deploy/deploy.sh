#!/usr/bin/env bash
# Everything, in order: project set-up, secrets, the three functions, the nightly refresh job.
# Each step can also be run on its own (see docs/google.md).

set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for script in project.sh secrets.sh functions.sh scheduler.sh; do
  bash "${here}/${script}"
done
