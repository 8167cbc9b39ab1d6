# The two commands a newcomer needs: `make dev` and `make test`.
GO ?= go
BIN := bin/shardgate

.PHONY: all build deps dev test unit integration vet fmt-check

all: build

build:
	$(GO) build -o $(BIN) ./cmd/shardgate

# Installs what is missing on Debian (PostgreSQL 15, MariaDB); idempotent.
deps:
	bash scripts/deps.sh

# Starts a local PostgreSQL + MariaDB shard cluster (2 shards, a streaming
# replica each) and prints how to connect; Ctrl-C stops everything.
dev: deps build
	./$(BIN) dev

# Everything CI runs: static checks, unit and integration tests against
# real servers started by the tests themselves.
test: deps vet fmt-check
	$(GO) test -race -count=1 -timeout 20m ./...

# Pure-logic tests only (no servers).
unit:
	$(GO) test -short -count=1 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
