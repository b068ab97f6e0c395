# Livehouse. `make run` starts a server with embedded defaults; `make test`
# installs what the tests need (ffmpeg, nginx, wrk, chromium, npm packages)
# and runs every test, the browser tests included.

GO ?= go
export CGO_ENABLED ?= 0

.PHONY: run build test deps vet fuzz bench browser-test

run:
	$(GO) run ./cmd/livehouse serve

build:
	$(GO) build -o livehouse ./cmd/livehouse

deps:
	./scripts/deps.sh

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l cmd internal web)" || (gofmt -l cmd internal web; echo "gofmt needed"; exit 1)

test: deps vet
	$(GO) test -count=1 -timeout 20m ./...
	CGO_ENABLED=1 $(GO) test -count=1 -race -timeout 10m ./internal/media/ ./internal/hls/ ./internal/live/ ./internal/transcode/ ./internal/ingest/rtmp/ ./internal/store/ ./internal/account/ ./internal/channel/ ./internal/realtime/ ./internal/bus/
	./scripts/browser-test.sh

# A short run of every fuzz target.
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseDirectives -fuzztime 30s ./internal/hls/
	$(GO) test -run '^$$' -fuzz FuzzParseLadder -fuzztime 30s ./internal/transcode/
	$(GO) test -run '^$$' -fuzz FuzzParseProgress -fuzztime 30s ./internal/transcode/
	$(GO) test -run '^$$' -fuzz FuzzValidateSlug -fuzztime 30s ./internal/store/
	$(GO) test -run '^$$' -fuzz FuzzParseVideoTag -fuzztime 30s ./internal/ingest/rtmp/
	$(GO) test -run '^$$' -fuzz FuzzParseAudioTag -fuzztime 30s ./internal/ingest/rtmp/
	$(GO) test -run '^$$' -fuzz FuzzParseMetadata -fuzztime 30s ./internal/ingest/rtmp/
	$(GO) test -run '^$$' -fuzz FuzzPublishSequence -fuzztime 30s ./internal/ingest/rtmp/
	$(GO) test -run '^$$' -fuzz FuzzCleanText -fuzztime 30s ./internal/realtime/
	$(GO) test -run '^$$' -fuzz FuzzCommandFrame -fuzztime 30s ./internal/realtime/
	$(GO) test -run '^$$' -fuzz '^FuzzClientFrame$$' -fuzztime 30s ./internal/realtime/
	$(GO) test -run '^$$' -fuzz '^FuzzBusPayload$$' -fuzztime 30s ./internal/realtime/
	$(GO) test -run '^$$' -fuzz FuzzParseSpliceInsert -fuzztime 30s ./internal/hls/
	$(GO) test -run '^$$' -fuzz FuzzOriginPath -fuzztime 30s ./internal/hls/
	$(GO) test -run '^$$' -fuzz FuzzParseRenditionFlag -fuzztime 30s ./internal/transcode/
	$(GO) test -run '^$$' -fuzz FuzzStreamKeyFromURL -fuzztime 30s ./internal/ingest/rtmp/
	$(GO) test -run '^$$' -fuzz FuzzRawReaderFrames -fuzztime 30s ./internal/bench/
	$(GO) test -run '^$$' -fuzz FuzzStripeSignature -fuzztime 30s ./internal/payment/

bench:
	$(GO) run ./cmd/livehouse bench startup
	$(GO) run ./cmd/livehouse bench latency
	$(GO) run ./cmd/livehouse bench transcode
	$(GO) run ./cmd/livehouse bench origin

# Browser end-to-end tests of the web UI: headless chromium (installed if
# missing), a real server on random ports and real ffmpeg; screenshots in
# test-artifacts/. `scripts/browser-test.sh bench` writes docs/bench/web.md.
browser-test:
	./scripts/browser-test.sh
