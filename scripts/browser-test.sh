#!/usr/bin/env bash
# Browser end-to-end tests of the web UI (web/e2e) in headless Debian
# chromium driven by playwright-core, against a real `livehouse serve` on
# random loopback ports with a temporary data directory, fed by real ffmpeg.
# Screenshots go to test-artifacts/. Everything started here is stopped on exit.
#
#   scripts/browser-test.sh          run the browser tests
#   scripts/browser-test.sh bench    measure first paint, first video frame and
#                                    bundle size; write docs/bench/web.md
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mode=${1:-test}

need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)
command -v ffmpeg >/dev/null || need_apt+=(ffmpeg)
# Reactions and gifts are emoji; without a colour emoji font they render as
# empty boxes in the screenshots.
dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || need_apt+=(fonts-noto-color-emoji)
if ((${#need_apt[@]})); then
	echo "installing ${need_apt[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
command -v node >/dev/null || { echo "node is required (Node.js 20.19+ with npm)" >&2; exit 1; }
[ -d web/node_modules ] || (cd web && npm ci --no-audit --no-fund)

if [ "$mode" = test ]; then
	# The UI's type check and unit tests, then a rebuild: the binary embeds the
	# committed web/dist, so a dist that does not match web/src fails here
	# rather than letting the browser tests run an older UI.
	(cd web && npm run --silent typecheck && npx vitest run --reporter=dot)
	(cd web && npm run --silent build >/dev/null)
	if git rev-parse --git-dir >/dev/null 2>&1 && [ -n "$(git status --porcelain -- web/dist)" ]; then
		git status --short -- web/dist | head -20 >&2
		echo "web/dist does not match web/src: run 'cd web && npm run build' and commit web/dist" >&2
		exit 1
	fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/livehouse-browser.XXXXXX")
server_pid=""
cleanup() {
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$server_pid" 2>/dev/null || true
	fi
	# ffmpeg publishers are children of node, which stops them; catch strays by parent.
	[ -n "${node_pid:-}" ] && pkill -KILL -P "$node_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

go build -o "$work/livehouse" ./cmd/livehouse
http_port=$(free_port)
rtmp_port=$(free_port)
mkdir -p "$work/data" test-artifacts
"$work/livehouse" serve --http-addr "127.0.0.1:$http_port" --rtmp-addr "127.0.0.1:$rtmp_port" \
	--data "$work/data" --log-level info >"$work/serve.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$http_port"
for _ in $(seq 100); do
	curl -fsS "$base/healthz" >/dev/null 2>&1 && break
	kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log"; echo "livehouse serve exited" >&2; exit 1; }
	sleep 0.1
done
curl -fsS "$base/healthz" >/dev/null || { cat "$work/serve.log"; echo "livehouse serve did not come up" >&2; exit 1; }

export LIVEHOUSE_URL=$base LIVEHOUSE_RTMP="rtmp://127.0.0.1:$rtmp_port/live" ARTIFACTS="$root/test-artifacts/"
export LIVEHOUSE_BIN="$work/livehouse" LIVEHOUSE_DATA="$work/data"
status=0
case "$mode" in
test)
	(cd web && exec node e2e/run.mjs) &
	node_pid=$!
	wait "$node_pid" || status=$?
	;;
bench)
	slug=bench-$RANDOM
	key=$("$work/livehouse" channel create "$slug" --data "$work/data" --rtmp-addr "127.0.0.1:$rtmp_port" | awk '/Stream key:/{print $3}')
	[ -n "$key" ] || { echo "could not create the bench channel" >&2; exit 1; }
	(cd web && SLUG=$slug STREAM_KEY=$key OUT="$root/docs/bench/web.md" exec node e2e/bench.mjs) &
	node_pid=$!
	wait "$node_pid" || status=$?
	;;
*)
	echo "usage: $0 [test|bench]" >&2
	exit 2
	;;
esac
if [ "$status" -ne 0 ]; then
	echo "--- server log (last 40 lines) ---"
	tail -n 40 "$work/serve.log"
fi
exit "$status"
