#!/usr/bin/env bash
# Call lists at scale on PostgreSQL (a benchmark, not a test): fills a fresh store with N open leads (default 1,000,000),
# then measures, against `leadengine serve` on this machine,
#   1. call lists of K (default 50) back to back beside feedback clients sending events back to back (1, then 4: this machine's
#      two cores saturated): list and feedback p50/p95/p99,
#   2. the same feedback clients alone (the baseline the lists are compared with),
#   3. 12 lists asked for at once from 3 hosts on the same store: every listed lead on one list only.
# Usage: scripts/call-list-bench.sh [OPEN_LEADS] [K] [POLICY]      (POLICY: greedy by default, or thompson)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
open_leads="${1:-1000000}"; k="${2:-50}"; policy="${3:-greedy}"; seconds=20
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; scripts/postgres.sh stop; rm -rf "$work"; }
trap cleanup EXIT

dotnet build src/Cli -c Release --nologo -v quiet >/dev/null
leadengine() { dotnet src/Cli/bin/Release/net10.0/leadengine.dll "$@"; }
pg="$(scripts/postgres.sh | tail -1)"
psql_run() { psql -h "$(sed 's/.*Host=\([^;]*\);.*/\1/' <<<"$pg")" -p 54329 -U postgres -d postgres -v ON_ERROR_STOP=1 -q "$@"; }

serve() { # port: a host on the shared store; waits until /healthz answers
  dotnet src/Cli/bin/Release/net10.0/leadengine.dll serve --db "$pg" --port "$1" --policy "$policy" >"$work/serve-$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 600); do curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return 0; sleep 0.2; done
  echo "serve on port $1 did not start:" >&2; cat "$work/serve-$1.log" >&2; exit 1
}
serve 18431

# One lead scored through the service gives real columns and the serving model's version; the open leads are copies of it
# with their own ids, probabilities and sampling places (INSERT … SELECT: minutes faster than a million score requests).
curl -sf -X POST http://127.0.0.1:18431/v1/score -H 'Content-Type: application/json' \
  -d '{"lead_id": "template", "created_at": "2025-01-02T10:00:00Z", "channel": "referral", "prior_customer": 1, "budget_band": "high",
  "model_interest": "ev", "age": 40, "current_stage": "telemarketing", "dialogue": "Asked about financing and a test drive."}' >/dev/null
echo "filling the store with $open_leads open leads"
psql_run -c "INSERT INTO leads (lead_id, fields, first_seen, last_scored, model_version, probability, ranking_score, score, grade, sample_key)
  SELECT 'open-' || g, t.fields, now(), now(), t.model_version, random(), 0, 50, 'C', random()
  FROM leads t, generate_series(1, $open_leads) g WHERE t.lead_id = 'template'; ANALYZE leads;"

echo "## $open_leads open leads, policy $policy, lists of $k"
for clients in 1 4; do
  echo "### 1. lists back to back beside $clients feedback client(s)"
  leadengine load-test --url http://127.0.0.1:18431 --clients "$clients" --feedback-share 1 --seconds "$seconds" --call-list-clients 1 --call-list-k "$k"
  echo "### 2. $clients feedback client(s) alone"
  leadengine load-test --url http://127.0.0.1:18431 --clients "$clients" --feedback-share 1 --seconds "$seconds" --call-list-k "$k"
done

echo "### 3. 12 lists at once from 3 hosts"
serve 18432; serve 18433
lists=()
for i in $(seq 0 11); do
  curl -sf "http://127.0.0.1:$((18431 + i % 3))/v1/call-list?k=$k" >"$work/list-$i.json" &
  lists+=($!)
done
wait "${lists[@]}"
listed=$(cat "$work"/list-*.json | jq -r '.leads[].lead_id' | wc -l)
distinct=$(cat "$work"/list-*.json | jq -r '.leads[].lead_id' | sort -u | wc -l)
echo "listed $listed leads on 12 lists, $distinct distinct"
[ "$listed" = $((12 * k)) ] && [ "$listed" = "$distinct" ]
