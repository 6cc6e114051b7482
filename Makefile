# Developer entry points. `make test` checks its prerequisites (tests/prereqs.sh names what is
# missing and how to install it), sets up the Python venv (the SDKs for tests/sdk_python.rs,
# schemathesis for tests/openapi.rs; pinned in tests/sdk/requirements.txt), then runs
# every test target. FEATURES passes cargo feature flags: CI runs the suite twice, once with the
# default features (SQLite compiled in) and once with PKG_FEATURES, the packages' build.
PYTHON ?= python3
VENV   := .venv
REQS   := tests/sdk/requirements.txt
STAMP  := $(VENV)/.requirements.stamp
FEATURES ?=
# The .deb/.rpm link the system libsqlite3 (Cargo.toml, feature system-sqlite).
PKG_FEATURES := --no-default-features --features system-sqlite

.PHONY: prereqs venv test fmt lint

prereqs:
	@PYTHON=$(PYTHON) sh tests/prereqs.sh $(FEATURES)

venv: prereqs
	@set -e; \
	if $(VENV)/bin/python -c "import openai, anthropic, pytest, schemathesis" 2>/dev/null && cmp -s $(REQS) $(STAMP); then \
		echo "$(VENV) is up to date"; \
	else \
		[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv $(VENV); \
		$(VENV)/bin/pip install -q -r $(REQS); \
		cp $(REQS) $(STAMP); \
	fi

test: prereqs venv
	cargo test --all-targets $(FEATURES)

fmt:
	cargo fmt --all

lint:
	cargo clippy --all-targets -- -D warnings

# --- Packages ---------------------------------------------------------------------------------
# `make deb` / `make rpm` build the release binary (feature system-sqlite), generate the man
# page, completions and changelog into target/assets/ (not committed), and package with
# cargo-deb (`cargo install cargo-deb --locked`; metadata in Cargo.toml) and rpmbuild (Debian's
# package rpm; rpm/tappass.spec). The packages land in
# <cargo target dir>/debian/tappass_<version>_amd64.deb and
# <cargo target dir>/rpm/tappass-<version>-1.x86_64.rpm; the target dir honours
# CARGO_TARGET_DIR. PKG_VERSION=X.Y.Z overrides the version (e.g. an upgrade test) without
# editing Cargo.toml. `make lint-packages` runs lintian and rpmlint on them and prints sizes.
CARGO   ?= cargo
ASSETS  := target/assets
CRATE_VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml | head -n 1)
PKG_VERSION   ?= $(CRATE_VERSION)
# Evaluated once, on first use: where cargo puts build output (CARGO_TARGET_DIR, .cargo/config).
TARGET_DIR = $(eval TARGET_DIR := $$(shell $(CARGO) metadata --no-deps --format-version 1 | \
	sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p'))$(TARGET_DIR)
# Reproducible packages: file times and the man page date are those of the last commit.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)
WITH_SDE = $(if $(SOURCE_DATE_EPOCH),SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH))
BIN  = $(TARGET_DIR)/release/tappass
DEB  = $(TARGET_DIR)/debian/tappass_$(PKG_VERSION)_amd64.deb
RPM  = $(TARGET_DIR)/rpm/tappass-$(PKG_VERSION)-1.x86_64.rpm

# What the binary links, as Cargo.toml's package dependencies declare it (checked below).
EXPECTED_LIBS  := ld-linux-x86-64.so.2 libc.so.6 libgcc_s.so.1 libm.so.6 libsqlite3.so.0
EXPECTED_GLIBC := GLIBC_2.34

.PHONY: release package-assets deb rpm lint-packages e2e-packages

release:
	$(CARGO) build --release --locked --bin tappass $(PKG_FEATURES)

# The stripped binary, tappass(1), completions, the Debian changelog (with an entry for
# PKG_VERSION when it differs from the crate's version), all generated from the built binary.
package-assets: release
	rm -rf $(ASSETS)
	mkdir -p $(ASSETS)/completions
	strip --strip-all --remove-section=.comment --remove-section=.note \
		-o $(ASSETS)/tappass $(BIN)
	@needed="$$(objdump -p $(ASSETS)/tappass | awk '/NEEDED/ { print $$2 }' | sort | tr '\n' ' ')"; \
	glibc="$$(objdump -T $(ASSETS)/tappass | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1)"; \
	echo "links: $$needed(newest symbol $$glibc)"; \
	if [ "$$needed$$glibc" != "$(EXPECTED_LIBS) $(EXPECTED_GLIBC)" ]; then \
		echo "the shared libraries changed: update depends (deb) and requires (rpm) in Cargo.toml, then EXPECTED_LIBS/EXPECTED_GLIBC here" >&2; \
		exit 1; \
	fi
	$(ASSETS)/tappass config check packaging/tappass.toml
	$(WITH_SDE) $(ASSETS)/tappass manpage > $(ASSETS)/tappass.1
	gzip -9n < $(ASSETS)/tappass.1 > $(ASSETS)/tappass.1.gz
	$(ASSETS)/tappass completions bash > $(ASSETS)/completions/tappass.bash
	$(ASSETS)/tappass completions zsh > $(ASSETS)/completions/_tappass
	$(ASSETS)/tappass completions fish > $(ASSETS)/completions/tappass.fish
	@set -e; \
	if [ "$(PKG_VERSION)" != "$(CRATE_VERSION)" ]; then \
		printf '%s\n\n%s\n\n%s\n\n' \
			"tappass ($(PKG_VERSION)) unstable; urgency=medium" \
			"  * Build of $(CRATE_VERSION) with the version set to $(PKG_VERSION) (PKG_VERSION)." \
			" -- TapPass <team@tappass.invalid>  $$(date -R)" > $(ASSETS)/changelog; \
	else : > $(ASSETS)/changelog; fi; \
	cat debian/changelog >> $(ASSETS)/changelog; \
	gzip -9n < $(ASSETS)/changelog > $(ASSETS)/changelog.gz

# cargo-deb deletes every other version of the package from <target dir>/debian; the upgrade
# test needs two side by side, so they are set aside while it runs.
deb: package-assets
	@set -e; mkdir -p $(dir $(DEB)); \
	for f in $(dir $(DEB))tappass_*_amd64.deb; do \
		if [ -f "$$f" ] && [ "$$f" != "$(DEB)" ]; then mv "$$f" "$$f.keep"; fi; \
	done; \
	rc=0; $(WITH_SDE) $(CARGO) deb --no-build --no-strip --deb-version $(PKG_VERSION) \
		--output $(DEB) || rc=$$?; \
	for k in $(dir $(DEB))tappass_*_amd64.deb.keep; do \
		if [ -f "$$k" ]; then mv "$$k" "$${k%.keep}"; fi; \
	done; \
	[ $$rc = 0 ]; ls -l $(DEB)

# rpmbuild works in a throwaway top directory; the date of the spec's %changelog entry and the
# file times come from SOURCE_DATE_EPOCH (reproducible), the build host is a fixed name, the
# payload is zstd level 19 as Fedora compresses its own packages.
rpm: package-assets
	@set -e; top=$(TARGET_DIR)/rpmbuild; rm -rf $$top; mkdir -p $$top $(dir $(RPM)); \
	sde=$(or $(SOURCE_DATE_EPOCH),$$(date +%s)); \
	SOURCE_DATE_EPOCH=$$sde rpmbuild -bb --quiet \
		--define "_topdir $$top" \
		--define "_rpmdir $$top/out" \
		--define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
		--define "_buildhost tappass-build" \
		--define "_binary_payload w19.zstdio" \
		--define "use_source_date_epoch_as_buildtime 1" \
		--define "clamp_mtime_to_source_date_epoch 1" \
		--define "pkg_version $(PKG_VERSION)" \
		--define "srcdir $(CURDIR)" \
		--define "assets $(CURDIR)/$(ASSETS)" \
		--define "changelog_date $$(LC_ALL=C date -u -d @$$sde '+%a %b %d %Y')" \
		rpm/tappass.spec; \
	mv $$top/out/$(notdir $(RPM)) $(RPM); rm -rf $$top
	@ls -l $(RPM)

# Run after `make deb rpm` (same PKG_VERSION). Prints the whole lintian (with info and pedantic
# tags) and rpmlint output; fails on any lintian error or warning, and on any rpmlint error or
# warning except the ones listed below, each caused by the environment, not by the package:
#   no-signature        the package is unsigned: signing needs the release key, a secret CI does
#                       not have (rpmsign --addsign with it, on the release machine);
#   invalid-license     Debian's rpmlint ships an empty ValidLicenses list (Apache-2.0 is a valid
#                       SPDX identifier; Fedora's rpmlint configuration accepts it);
#   manpage-not-compressed  Debian's rpmlint defaults to openSUSE's .bz2; Fedora uses gzip;
#   no-manual-page-for-binary   an rpmlint 2.4 bug: it records man page sections instead of
#                       names, so every binary lacks a page (tappass.1.gz is there);
#   only-non-binary-in-usr-lib  units and the preset are text files in /usr/lib/systemd, which
#                       the default UsrLibBinaryException of Debian's rpmlint does not list.
RPMLINT_EXPECTED := no-signature|invalid-license|manpage-not-compressed|no-manual-page-for-binary|only-non-binary-in-usr-lib
lint-packages:
	@set -e; \
	for f in $(DEB) $(RPM); do [ -f "$$f" ] || { echo "$$f missing: run make deb rpm first" >&2; exit 1; }; done; \
	echo "=== lintian $(DEB)"; \
	lintian --fail-on error,warning --display-info --pedantic $(DEB); \
	echo "lintian: no errors, no warnings"; \
	echo "=== rpmlint $(RPM)"; \
	out=$$(rpmlint $(RPM) 2>&1) || :; \
	echo "$$out"; \
	bad=$$(echo "$$out" | grep -E ': [EW]: ' | grep -vE ': [EW]: ($(RPMLINT_EXPECTED))( |$$)' || :); \
	if [ -n "$$bad" ]; then echo "rpmlint: unexpected findings:" >&2; echo "$$bad" >&2; exit 1; fi; \
	echo "rpmlint: only the expected tags ($(RPMLINT_EXPECTED))"; \
	echo "=== package sizes"; \
	ls -l $(DEB) $(RPM); \
	du -h $(DEB) $(RPM); \
	echo "installed size (.deb): $$(dpkg-deb -f $(DEB) Installed-Size) KiB"; \
	echo "installed size (.rpm): $$(rpm -qp --queryformat '%{SIZE}' $(RPM) 2>/dev/null) bytes"; \
	rpm -qip $(RPM) 2>/dev/null | grep -E '^(Name|Version|Release|Size) ' || :

# The packages on a booted systemd (tests/e2e_packages.rs, as root): apt install / upgrade to a
# newer build (PKG_VERSION_NEXT) / purge of the .deb, rpm -i / enable / erase of the .rpm; the
# health monitor against six injected faults (tests/e2e_health.rs); `tappass upgrade` from a local
# signed repository, rolling back a broken version (tests/e2e_upgrade.rs).
PKG_VERSION_NEXT ?= $(PKG_VERSION)+e2e1
e2e-packages:
	$(MAKE) deb PKG_VERSION=$(PKG_VERSION_NEXT)
	$(MAKE) deb rpm
	TAPPASS_E2E_DEB=$(DEB) \
	TAPPASS_E2E_DEB_NEXT=$(TARGET_DIR)/debian/tappass_$(PKG_VERSION_NEXT)_amd64.deb \
	TAPPASS_E2E_RPM=$(RPM) \
	$(CARGO) test --locked --test e2e_packages --test e2e_health --test e2e_upgrade -- --nocapture --test-threads=1
