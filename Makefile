# scelle: build, test, collect, release.
#
#   make            build bin/scelle (static, reproducible)
#   make collect    build, then collect this machine into ./evidence
#   make test       the whole test suite (vet, gofmt, race, fuzz seeds, CLI scripts)
#   make bench      seal two 1 GiB corpora (and, as root, to a 100 MB/s medium), compare with tar|zstd + sha256sum
#   make fuzz       run every fuzz target for FUZZTIME each
#   make release    cross-compile every target into dist/
#   make man        rewrite the man pages in docs/man from the commands

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.revision=$(REVISION)
BUILD    := CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=false -ldflags "$(LDFLAGS)"
FUZZTIME ?= 60s
# Collection defaults for `make collect`; override on the command line.
OUT      ?= ./evidence
CASE     ?= triage
EXAMINER ?= $(shell id -un 2>/dev/null)
TARGETS  := linux/amd64 linux/arm64 windows/amd64 darwin/arm64

.PHONY: all build collect deps deps-versitygw test test-windows vet bench fuzz release man clean

all: build

build:
	$(BUILD) -o bin/scelle ./cmd/scelle

# Exit code 3 (sealed, but some items failed) is a normal outcome on a
# live host: the bag is evidence of what it holds, and make succeeds.
collect: build
	@./bin/scelle collect --out "$(OUT)" --case "$(CASE)" --examiner "$(EXAMINER)"; code=$$?; \
	case $$code in \
	0) ;; \
	3) echo "make collect: the bag is sealed; some items failed or nothing was collected (see the summary above and record.json): this is a normal outcome, not an error";; \
	*) exit $$code;; \
	esac

vet:
	@test -z "$$(gofmt -l cmd collect seal chain internal)" || { gofmt -l cmd collect seal chain internal; echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...

# Tools the tests drive for real; installed from Debian's packages when
# missing and run as root (CI does the same in .ci/run).
TEST_TOOLS := zstd:zstd openssl:openssl swtpm:swtpm swtpm_setup:swtpm-tools pdftotext:poppler-utils \
	zbarimg:zbar-tools mactime:sleuthkit age:age hashdeep:hashdeep strace:strace
# Issue 11: the QEMU memory test (internal/qemutest) boots Debian's kernel,
# fetched once into $(HOME)/.cache/scelle-qemu by its kernel.sh.
TEST_TOOLS += qemu-system-x86_64:qemu-system-x86 busybox:busybox-static cpio:cpio debugfs:e2fsprogs

# NTFS images and what reads them (issue 12)
TEST_TOOLS += mkntfs:ntfs-3g sfdisk:fdisk sgdisk:gdisk regfinfo:libregf-utils fsntfsinfo:libfsntfs-utils

# The Windows tests run under wine (issue 13); FAT32 output is refused at start.
TEST_TOOLS += /usr/lib/wine/wine64:wine64 x86_64-w64-mingw32-dlltool:binutils-mingw-w64-x86-64 mkfs.vfat:dosfstools
deps:
	@missing=; for tp in $(TEST_TOOLS); do command -v $${tp%%:*} >/dev/null || missing="$$missing $${tp#*:}"; done; \
	/usr/bin/python3 -c 'import rdflib' 2>/dev/null || missing="$$missing python3-rdflib"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing test tools:$$missing"; \
			DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		else echo "warning: missing test tools:$$missing (tests that drive them will skip; run as root to install)"; fi; \
	fi
	@sh internal/qemutest/testdata/kernel.sh >/dev/null || echo "warning: no kernel for the QEMU memory test (it will skip, or fail as root)"

# issue 14: versitygw, the S3 Object Lock server the vault tests start on
# loopback; built once with go install, cached outside the repository.
# awscli: a second S3 client in the vault tests and benchmark.
TEST_TOOLS += aws:awscli
VERSITYGW_VERSION ?= v1.8.0
TOOLS_BIN ?= $(HOME)/.cache/scelle-tools
deps: deps-versitygw
deps-versitygw:
	@test -x "$(TOOLS_BIN)/versitygw" || { echo "installing versitygw $(VERSITYGW_VERSION) into $(TOOLS_BIN) (a few minutes)"; \
		GOBIN="$(TOOLS_BIN)" GOFLAGS=-buildvcs=false $(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION); }

test: deps vet build
	@# Test files live under .testtmp, not /tmp: the live triage test
	@# collects this machine's /tmp and must not sweep up the suite's own.
	mkdir -p .testtmp
	TMPDIR=$(CURDIR)/.testtmp SCELLE_BIN=$(CURDIR)/bin/scelle $(GO) test -race -count=1 -timeout 25m ./...
	@# The memory bounds skip under -race (its shadow memory is no measure):
	@# they run here again without it.
	TMPDIR=$(CURDIR)/.testtmp $(GO) test -count=1 -run 'Memory' ./seal ./collect/files
	rm -rf .testtmp
	$(MAKE) --no-print-directory test-windows
	@for os_arch in $(TARGETS); do \
		echo "cross-build $$os_arch"; \
		GOOS=$${os_arch%/*} GOARCH=$${os_arch#*/} CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/scelle || exit 1; \
	done

# The portable tests built for Windows and run under wine (issue 13), in
# the prefix internal/winetest/setup.sh makes once ($$HOME/.cache, outside
# the repository and /tmp). Packages with no Windows test are left out by
# go list; two more by name: cmd/scelle, whose scripts and end-to-end
# tests drive Unix programs (sh, touch, tar, sha256sum) and links, and is
# tested on Windows by TestWindowsCollect (scelle.exe under wine, its bag
# verified on Linux); internal/layers, which reads every OS's import graph
# with the go command from Linux already. Pending (packages that fail
# under wine, to be fixed, not hidden): none. Single cases that cannot run
# there skip themselves on Windows and say so (Linux symbolic links in
# collect/netstat and collect/users; seal's million-line manifest).
WINDOWS_SKIP := github.com/scelle/scelle/cmd/scelle github.com/scelle/scelle/internal/layers
WINDOWS_PENDING :=
test-windows:
	@prefix=$$(sh internal/winetest/setup.sh) || exit 1; \
	pkgs=$$(GOOS=windows $(GO) list -e -f '{{if and (not .Error) (or .TestGoFiles .XTestGoFiles)}}{{.ImportPath}}{{end}}' ./... | \
		grep -v -x $(addprefix -e ,$(WINDOWS_SKIP) $(WINDOWS_PENDING))); \
	echo "windows tests under wine: $$(echo $$pkgs | wc -w) packages"; \
	GOOS=windows $(GO) test -count=1 -short -timeout 10m -overlay "$$prefix/go-overlay.json" \
		-exec "$(CURDIR)/internal/winetest/exec.sh" $$pkgs

# The corpus (1 GiB, generated once) is kept out of /tmp, which a triage
# collects.
BENCH_CORPUS ?= $(HOME)/.cache/scelle-bench
bench: build
	$(GO) run ./internal/bench -scelle ./bin/scelle -corpus "$(BENCH_CORPUS)"

fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for t in $$($(GO) test -list 'Fuzz.*' $$pkg | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$t"; \
			$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

release:
	@for os_arch in $(TARGETS); do \
		os=$${os_arch%/*}; arch=$${os_arch#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		echo "dist/scelle-$$os-$$arch$$ext"; \
		GOOS=$$os GOARCH=$$arch $(BUILD) -o dist/scelle-$$os-$$arch$$ext ./cmd/scelle || exit 1; \
	done
	cd dist && sha256sum scelle-* > SHA256SUMS

# The pages are written by the hidden command scelle __man from the
# commands' help; a test fails when docs/man differs from what it writes.
man:
	rm -f docs/man/*.1
	$(GO) run ./cmd/scelle __man docs/man

clean:
	rm -rf bin dist
