# claude-cage: build, install, test and prove the sandbox.
PREFIX ?= /usr/local
ROOTFS ?= /var/cache/claude-cage/rootfs/bookworm-minbase
JAR := target/claude-cage.jar
COMPLETIONS := target/completion/claude-cage target/completion/_claude-cage target/completion/claude-cage.fish
MAN_DIR := target/man
MAN_PAGES := $(MAN_DIR)/claude-cage.1
CDS_ARCHIVE := target/claude-cage.jsa
CAGE := bin/claude-cage
MVN := mvn -B -q

# zsh finds /usr's completions in vendor-completions, /usr/local's in site-functions (Debian's fpath).
ZSH_COMPLETIONS ?= $(PREFIX)/share/zsh/$(if $(filter /usr,$(PREFIX)),vendor-completions,site-functions)
# The Debian package's version: the project's, with a SNAPSHOT sorting before its release.
VERSION := $(shell sed -n '0,/<version>/s:.*<version>\(.*\)</version>.*:\1:p' pom.xml)
DEB_VERSION := $(subst -SNAPSHOT,~snapshot,$(VERSION))
DEB := claude-cage_$(DEB_VERSION)_all.deb

.PHONY: build install install-files deb uninstall test bench-compile unit-test verify-sandbox images rootfs demo run-cli run-desktop \
        load-apparmor bench soak cds screenshots clean clean-all

build: $(JAR) $(COMPLETIONS) $(MAN_PAGES) $(CDS_ARCHIVE)

$(JAR): pom.xml $(shell find src config security -type f 2>/dev/null)
	$(MVN) -DskipTests package

# Completion scripts for bash, zsh and fish, and the man pages, all made from the launcher's own command model
# (its commands are made with the context Main gives them).
target/completion/claude-cage: $(JAR)
	mkdir -p $(@D) && java -cp $(JAR) dev.claudecage.cli.Main completion bash > $@.tmp && mv $@.tmp $@
target/completion/_claude-cage: $(JAR)
	mkdir -p $(@D) && java -cp $(JAR) dev.claudecage.cli.Main completion zsh > $@.tmp && mv $@.tmp $@
target/completion/claude-cage.fish: $(JAR)
	mkdir -p $(@D) && java -cp $(JAR) dev.claudecage.cli.Main completion fish > $@.tmp && mv $@.tmp $@

$(MAN_PAGES): $(JAR)
	rm -rf $(MAN_DIR) && java -cp $(JAR) dev.claudecage.cli.ManPages $(MAN_DIR)

# The launcher's class-data sharing (AppCDS) archives, the full one and the light commands' (made
# together, from representative calls: bench/cds.sh; docs/performance.md). bin/claude-cage uses
# each only while it matches the jar and the JDK.
cds: $(CDS_ARCHIVE)

$(CDS_ARCHIVE): $(JAR) bench/cds.sh
	bench/cds.sh $(JAR) $(CAGE) $(ROOTFS)

install: build install-files
	@# Host ids of their own for root-mode cages (a system change: not for a DESTDIR staging copy).
	if [ -z "$(DESTDIR)" ]; then scripts/make-id-pool.sh; fi
	@# The archive names the jar by its path, so it is made for the installed one (not for a DESTDIR staging copy).
	if [ -z "$(DESTDIR)" ]; then bench/cds.sh $(PREFIX)/lib/claude-cage/claude-cage.jar $(PREFIX)/bin/claude-cage $(ROOTFS); fi

# Everything but the class-data archive, which is made where the jar is installed (install, the package's postinst).
install-files: $(JAR) $(COMPLETIONS) $(MAN_PAGES)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/claude-cage \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(ZSH_COMPLETIONS) \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0644 $(JAR) $(DESTDIR)$(PREFIX)/lib/claude-cage/claude-cage.jar
	install -m 0755 $(CAGE) $(DESTDIR)$(PREFIX)/bin/claude-cage
	install -m 0644 target/completion/claude-cage $(DESTDIR)$(PREFIX)/share/bash-completion/completions/claude-cage
	install -m 0644 target/completion/_claude-cage $(DESTDIR)$(ZSH_COMPLETIONS)/_claude-cage
	install -m 0644 target/completion/claude-cage.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/claude-cage.fish
	install -m 0644 $(MAN_DIR)/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	@# The shipped Dockerfiles and the rootfs builder, which `claude-cage build` finds next to the jar.
	install -d $(DESTDIR)$(PREFIX)/lib/claude-cage/docker/cli $(DESTDIR)$(PREFIX)/lib/claude-cage/docker/desktop \
	  $(DESTDIR)$(PREFIX)/lib/claude-cage/docker/gateway $(DESTDIR)$(PREFIX)/lib/claude-cage/rootfs-builder
	install -m 0644 docker/cli/Dockerfile docker/cli/.dockerignore $(DESTDIR)$(PREFIX)/lib/claude-cage/docker/cli/
	install -m 0644 docker/desktop/Dockerfile docker/desktop/.dockerignore docker/desktop/openbox-rc.xml \
	  $(DESTDIR)$(PREFIX)/lib/claude-cage/docker/desktop/
	install -m 0755 docker/desktop/entrypoint-desktop.sh $(DESTDIR)$(PREFIX)/lib/claude-cage/docker/desktop/
	install -m 0644 docker/gateway/Dockerfile docker/gateway/.dockerignore $(DESTDIR)$(PREFIX)/lib/claude-cage/docker/gateway/
	install -m 0755 rootfs-builder/make-minbase-rootfs.sh $(DESTDIR)$(PREFIX)/lib/claude-cage/rootfs-builder/
	@# The docs, where `claude-cage` with no arguments points (PREFIX/share/doc/claude-cage/README.md).
	install -d $(DESTDIR)$(PREFIX)/share/doc/claude-cage/docs/images
	install -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/claude-cage/
	install -m 0644 docs/*.md $(DESTDIR)$(PREFIX)/share/doc/claude-cage/docs/
	install -m 0644 docs/images/*.png $(DESTDIR)$(PREFIX)/share/doc/claude-cage/docs/images/

# The Debian package: everything install-files puts in /usr, the AppArmor profile, and the class-data archive
# made by its postinst (packaging/deb/build-deb.sh; `apt-get install ./$(DEB)` installs it with its dependencies).
deb: $(DEB)

$(DEB): $(JAR) $(COMPLETIONS) $(MAN_PAGES) $(CAGE) bench/cds.sh security/apparmor-profile \
        $(shell find docker rootfs-builder packaging/deb -type f 2>/dev/null)
	packaging/deb/build-deb.sh $(DEB_VERSION) $@

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/claude-cage $(DESTDIR)$(PREFIX)/share/bash-completion/completions/claude-cage \
	  $(DESTDIR)$(ZSH_COMPLETIONS)/_claude-cage $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/claude-cage.fish
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/share/man/man1/,$(notdir $(wildcard $(MAN_DIR)/*.1)))
	rm -rf $(DESTDIR)$(PREFIX)/lib/claude-cage $(DESTDIR)$(PREFIX)/share/doc/claude-cage

# The minbase Debian rootfs that cages run on until the image builder lands (made once, reused).
rootfs:
	rootfs-builder/make-minbase-rootfs.sh $(ROOTFS)

unit-test:
	$(MVN) test

# Unit tests, then integration tests with real runc, mounts and namespaces (needs root); then the
# benchmark harness is compiled against the jar, so that an API change cannot break `make bench` unseen.
test: rootfs
	$(MVN) verify
	$(MAKE) bench-compile

bench-compile:
	rm -rf target/bench-classes && mkdir -p target/bench-classes
	javac -nowarn -d target/bench-classes -cp $(JAR) bench/src/dev/claudecage/bench/*.java

# Every probe, with its positive control, on the CLI image in both network modes that wall it in.
verify-sandbox: build
	$(CAGE) build cli
	$(CAGE) verify --network none
	$(CAGE) verify --network filtered
	@if command -v runsc >/dev/null 2>&1; then \
		echo "$(CAGE) verify --runtime runsc"; $(CAGE) verify --runtime runsc; \
	else \
		echo "verify-sandbox: runsc (gVisor) is not installed here, so its walls are not checked (scripts/install-deps.sh installs it)"; \
	fi

# The shipped images, built without Docker.
images: build
	$(CAGE) build all

# Sets up this host, builds the CLI image and runs the real Claude Code in a hardened cage.
demo:
	scripts/install-deps.sh
	$(MAKE) build
	$(CAGE) build cli
	$(CAGE) run --network none -- sh -c 'claude --version; echo "uid $$(id -u) in $$(hostname)"; grep -E "^(Seccomp|NoNewPrivs|CapEff):" /proc/self/status'

# Claude Code in a filtered cage on this directory (the key from $ANTHROPIC_API_KEY stays outside).
run-cli: build
	$(CAGE) build cli
	$(CAGE) run --mount $(CURDIR):/workspace -- claude

# The desktop in the browser: Claude Code in a terminal on this directory, filtered, published on
# 127.0.0.1:6080 (DESKTOP_PORT=...); start prints the address and the session's VNC password.
DESKTOP_PORT ?= 6080
run-desktop: build
	$(CAGE) build desktop
	$(CAGE) start --mode desktop --detach --mount $(CURDIR):/workspace --port 127.0.0.1:$(DESKTOP_PORT):6080

load-apparmor:
	@if [ "$$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = "Y" ]; then \
	  apparmor_parser -r -W security/apparmor-profile && echo "loaded AppArmor profile claude-cage"; \
	else echo "load-apparmor: AppArmor is unavailable on this host (the kernel has no AppArmor)" >&2; exit 1; fi

# claude-cage against docker run and raw runc run, side by side; results in bench/results/ (needs root).
bench: build rootfs
	bench/bench.sh

# Many filtered sessions streaming through their gateways and tunnels for a bounded time (SOAK_SESSIONS=20,
# SOAK_SECONDS=300), their supervisors measured at the start, middle and end; results in bench/results/soak-*.json
# (needs root, and no other sessions or integration tests running meanwhile: they would share the CPUs).
soak: build rootfs
	$(MVN) test-compile
	$(MVN) dependency:build-classpath -Dmdep.outputFile=target/soak-classpath.txt -Dmdep.includeScope=test
	java -cp target/test-classes:target/classes:$$(cat target/soak-classpath.txt) dev.claudecage.soak.Soak

# The pictures in the docs, from real runs on this host (needs root and Chromium: scripts/install-deps.sh
# --tests): the desktop session as headless Chromium shows it, and the table verify prints. The tests that
# drive them write them into docs/images once their checks pass.
SCREENSHOT_TESTS := DesktopSessionIT\#desktopInTheBrowserWithThePasswordAndRefusedWithoutIt,VerifyIT\#everyProbeIsBlockedAndEveryControlShowsTheHole,EvidenceTrailIT\#theReportPageShowsTheChainTheTimelineAndTheEndingInABrowser
screenshots: rootfs
	$(MVN) verify -Dtest=NoSuchTest -Dsurefire.failIfNoSpecifiedTests=false -Dit.test='$(SCREENSHOT_TESTS)' \
	  -Dclaudecage.screenshots=$(CURDIR)/docs/images

clean:
	$(MVN) clean

clean-all: clean
	rm -rf $(ROOTFS) $(ROOTFS).partial
