# Scenario node-startup: how long node (and node + tsx, as the daemon may be
# run from source) takes to start in this VM. Numbers for the daemon tests.
set -euo pipefail
. "$E2E_GUEST_DIR/lib.sh"

step "node -e 0"
t=$(now_ms); node -e 0; measure nodeStartMs $(( $(now_ms) - t ))
t=$(now_ms); node -e 0; measure nodeStartWarmMs $(( $(now_ms) - t ))
step "node --import tsx in the repository"
cd "$E2E_REPO"
t=$(now_ms); node --import tsx -e 0; measure nodeTsxStartMs $(( $(now_ms) - t ))
measure nodeVersion "\"$(node --version)\""
