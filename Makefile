# Sportello: `make run` to try it, `make test` before every push.
GO      ?= go
# Go 1.27.3 carries the standard library's security fixes that 1.26.8 lacks
# (govulncheck below); the go command fetches it from the module proxy once.
export GOTOOLCHAIN := go1.27.3
BIN     := bin
PLUGINS := $(patsubst plugins/%/main.go,%,$(wildcard plugins/*/main.go))
VENDOR  := web/static/vendor/.stamp

.PHONY: all build run test vet vendor bench-portal bench-backoffice bench-booking bench-helpdesk bench-consultation bench-import bench-analytics bench-scale bench-mixed vulncheck fuzz chaos clean

all: build

# Bootstrap Italia and Leaflet come from their npm packages, pinned in web/package-lock.json.
$(VENDOR): web/package.json web/package-lock.json web/vendor.sh
	web/vendor.sh
	@touch $@

vendor: $(VENDOR)

build: $(VENDOR)
	$(GO) build -o $(BIN)/sportello ./cmd/sportello
	@mkdir -p $(BIN)/plugins
	@for p in $(PLUGINS); do echo "$(GO) build -o $(BIN)/plugins/$$p ./plugins/$$p"; $(GO) build -o $(BIN)/plugins/$$p ./plugins/$$p || exit 1; done

# Starts (and on Ctrl-C stops) the project's own PostgreSQL under .data/.
run: build
	$(BIN)/sportello serve --demo

vet:
	$(GO) vet ./...

# Every test, against throwaway PostgreSQL servers the tests start. The
# browser tests leave their screenshots in test-artifacts/.
test: $(VENDOR) vet vulncheck fuzz
	SPORTELLO_ARTIFACTS=$(CURDIR)/test-artifacts $(GO) test -race -timeout 40m ./...

# Each parser of outside input fuzzed briefly (one target per run, as go
# test -fuzz takes): plugin and tenant manifests, procedures, stored
# manifests, form schemas and submissions, Open311 reports, the ISTAT and
# identity-card CSV files. FUZZTIME=5m for a longer hunt.
FUZZTIME ?= 10s
FUZZ := core/forms:FuzzDecode core/forms:FuzzParse plugins/sdk:FuzzParseManifest plugins/procedure:FuzzLoad \
	core/tenancy:FuzzParseManifest core/catalog:FuzzManifestRecord core/server:FuzzOpen311Report \
	core/notify:FuzzParseIDCards cmd/sportello:FuzzReadTownRows

fuzz: $(VENDOR)
	@for t in $(FUZZ); do \
		echo "$(GO) test -run '^$$' -fuzz '^$${t#*:}$$' -fuzztime $(FUZZTIME) ./$${t%%:*}"; \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) ./$${t%%:*} || exit 1; \
	done

# The chaos tests alone (make test runs them too), printing what they
# measured: a plugin, then the host killed with SIGKILL under load, and
# PostgreSQL restarted under the running app.
chaos: build
	@$(GO) test -run '^TestChaos$$' -count=1 -v ./cmd/sportello > $(BIN)/chaos.log 2>&1; rc=$$?; \
		grep -E '^(--- |\s+chaos_test.go:[0-9]+: chaos:|ok|FAIL)' $(BIN)/chaos.log; exit $$rc

# govulncheck against the Go vulnerability database of the pinned
# golang.org/x/vulndb module: vuln.go.dev is out of reach at build time, so
# the database is indexed here from the module's OSV files.
VULNDB := golang.org/x/vulndb@v0.0.0-20261105234957-e22db6528018

$(BIN)/vulndb/index/db.json:
	@mkdir -p $(BIN)
	$(GO) run golang.org/x/vulndb/cmd/indexdb@$(lastword $(subst @, ,$(VULNDB))) \
		-vulns "$$($(GO) mod download -json $(VULNDB) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p')/data/osv" -out $(BIN)/vulndb

vulncheck: $(BIN)/vulndb/index/db.json
	$(GO) run golang.org/x/vuln/cmd/govulncheck@v1.9.0 -db file://$(CURDIR)/$(BIN)/vulndb ./...

bench-portal: $(VENDOR)
	$(GO) run ./bench/portal

bench-plugin: build
	$(GO) run ./bench/plugin

# 10,000 simultaneous reservations of 100 slots, next to pgbench TPC-B.
bench-booking:
	$(GO) run ./bench/booking

bench-backoffice:
	$(GO) run ./bench/backoffice

# 64 Open311 clients filing helpdesk reports, next to the same PostgreSQL's raw insert rate.
bench-helpdesk:
	$(GO) run ./bench/helpdesk

# Live consultation: take-to-media latency and relayed sessions per core, next to direct pion peers.
bench-consultation:
	$(GO) run ./bench/consultation

# All 7,904 Italian municipalities onboarded with `tenant import`, twice, next to bare inserts of the rows.
bench-import:
	$(GO) run ./bench/import

# A tenant admin's analytics page over 1,000,000 dossiers, next to the same figures from the raw rows.
bench-analytics:
	$(GO) run ./bench/analytics

# Every Italian municipality on one node, five services each: start-up, memory, a town's page p99 next to 3 towns.
bench-scale: build
	$(GO) run ./bench/scale

# Mixed traffic over every town by population: pages, back office, bookings, Open311; next to a static fiber response.
bench-mixed: build
	$(GO) run ./bench/mixed

clean:
	rm -rf $(BIN) web/static/vendor
