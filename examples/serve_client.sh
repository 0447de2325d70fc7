#!/bin/sh
# A whole task lifecycle against `valueroute serve`, with curl only.
#
#   sh examples/serve_client.sh http://127.0.0.1:8080 ADMIN_TOKEN HOST_TOKEN AGENT_TOKEN
#
# The agent token must be bound to agent "ann" (see docs/service.md). Each
# step prints the HTTP status and the JSON the service answered; any status
# outside 2xx stops the script (curl --fail-with-body) with exit code 22.
set -eu

url=${1:?usage: serve_client.sh URL ADMIN_TOKEN HOST_TOKEN AGENT_TOKEN}
admin=${2:?admin token}
host=${3:?host token}
agent=${4:?agent token}

call() { # call TOKEN METHOD PATH [JSON]
    token=$1 method=$2 path=$3 body=${4:-}
    printf '%s %s -> ' "$method" "$path"
    curl -sS --fail-with-body -X "$method" "$url$path" \
        -H "Authorization: Bearer $token" \
        -H 'Content-Type: application/json' \
        ${body:+--data "$body"} \
        -w ' (%{http_code})\n'
}

call "$admin" POST /v1/agents '{"id": "ann", "skills": {"billing": 2}}'
call "$agent" PUT /v1/agents/ann/state '{"state": "ready"}'
call "$host" POST /v1/tasks '{"id": "sh-1", "type": "claim", "priority": 5, "skills": {"billing": 1}}'
call "$agent" GET /v1/agents/ann/offers
call "$agent" POST /v1/offers/sh-1/accept '{"agent": "ann"}'
call "$agent" POST /v1/tasks/sh-1/complete '{}'
call "$host" GET /v1/tasks/sh-1
