# canbao: `make run` shows the product, `make test` proves it.
BIN      := bin/canbao
DATA     := $(CURDIR)/.data
GO       ?= go

.PHONY: build run stop test bench generate check-generated lint clean

build:
	$(GO) build -o $(BIN) ./cmd/canbao

# Starts (or reuses) a PostgreSQL cluster under ./.data unless DATABASE_URL is
# set, loads the demo, then serves until Ctrl-C.
run: build
	@url="$$DATABASE_URL"; \
	if [ -z "$$url" ]; then url=$$($(BIN) pg start --dir $(DATA)) || exit 1; fi; \
	export DATABASE_URL="$$url"; \
	$(BIN) demo && exec $(BIN) serve

stop: build
	$(BIN) pg stop --dir $(DATA)

# A throwaway cluster (fsync off) is created for the run and always removed.
test: build check-generated
	$(BIN) pg run --temp -- $(GO) test -count=1 ./...

# Micro-benchmarks of the pure packages, then the end-to-end ones (import,
# comparison, pages one at a time, pages under 20 and 100 concurrent users:
# BenchmarkPagesUnderLoad) once each on generated city-sized data.
bench: build
	$(GO) test -run '^$$' -bench . ./internal/idcard ./internal/names ./internal/sheet ./internal/source
	$(BIN) pg run --temp -- $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./internal/imports ./internal/compare ./internal/survey ./internal/server

generate:
	$(GO) tool templ generate

# Generated templ files are committed; fail when they drift from the .templ sources.
check-generated:
	@$(GO) tool templ generate >/dev/null 2>&1
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1 && ! git diff --quiet -- '*_templ.go'; then \
		echo "generated templ files are stale: run make generate and commit"; git diff --stat -- '*_templ.go'; exit 1; fi

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) tool errcheck -exclude .errcheck-excludes ./...

clean:
	rm -rf bin
