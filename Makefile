# claude-cage: build, install, test and prove the sandbox.
PREFIX ?= /usr/local
ROOTFS ?= /var/cache/claude-cage/rootfs/bookworm-minbase
JAR := target/claude-cage.jar
COMPLETION := target/claude-cage-completion.bash
CDS_ARCHIVE := target/claude-cage.jsa
CAGE := bin/claude-cage
MVN := mvn -B -q

.PHONY: build install uninstall test bench-compile unit-test verify-sandbox images rootfs demo run-cli run-desktop \
        load-apparmor bench cds clean clean-all

build: $(JAR) $(COMPLETION) $(CDS_ARCHIVE)

$(JAR): pom.xml $(shell find src config security -type f 2>/dev/null)
	$(MVN) -DskipTests package

# Through the launcher's own command model: its commands are made with the context Main gives them.
$(COMPLETION): $(JAR)
	java -cp $(JAR) dev.claudecage.cli.Main generate-completion > $(COMPLETION)

# The launcher's class-data sharing (AppCDS) archive, made from representative calls (bench/cds.sh;
# docs/performance.md). bin/claude-cage uses it only while it matches the jar and the JDK.
cds: $(CDS_ARCHIVE)

$(CDS_ARCHIVE): $(JAR) bench/cds.sh
	bench/cds.sh $(JAR) $(CAGE) $(ROOTFS)

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/claude-cage \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 0644 $(JAR) $(DESTDIR)$(PREFIX)/lib/claude-cage/claude-cage.jar
	install -m 0755 $(CAGE) $(DESTDIR)$(PREFIX)/bin/claude-cage
	install -m 0644 $(COMPLETION) $(DESTDIR)$(PREFIX)/share/bash-completion/completions/claude-cage
	@# The shipped Dockerfiles and the rootfs builder, which `claude-cage build` finds next to the jar.
	install -d $(DESTDIR)$(PREFIX)/lib/claude-cage/docker/cli $(DESTDIR)$(PREFIX)/lib/claude-cage/docker/desktop \
	  $(DESTDIR)$(PREFIX)/lib/claude-cage/rootfs-builder
	install -m 0644 docker/cli/Dockerfile docker/cli/.dockerignore $(DESTDIR)$(PREFIX)/lib/claude-cage/docker/cli/
	install -m 0644 docker/desktop/Dockerfile docker/desktop/.dockerignore docker/desktop/openbox-rc.xml \
	  $(DESTDIR)$(PREFIX)/lib/claude-cage/docker/desktop/
	install -m 0755 docker/desktop/entrypoint-desktop.sh $(DESTDIR)$(PREFIX)/lib/claude-cage/docker/desktop/
	install -m 0755 rootfs-builder/make-minbase-rootfs.sh $(DESTDIR)$(PREFIX)/lib/claude-cage/rootfs-builder/
	@# Host ids of their own for root-mode cages (a system change: not for a DESTDIR staging copy).
	if [ -z "$(DESTDIR)" ]; then scripts/make-id-pool.sh; fi
	@# The archive names the jar by its path, so it is made for the installed one (not for a DESTDIR staging copy).
	if [ -z "$(DESTDIR)" ]; then bench/cds.sh $(PREFIX)/lib/claude-cage/claude-cage.jar $(PREFIX)/bin/claude-cage $(ROOTFS); fi

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/claude-cage $(DESTDIR)$(PREFIX)/share/bash-completion/completions/claude-cage
	rm -rf $(DESTDIR)$(PREFIX)/lib/claude-cage

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

clean:
	$(MVN) clean

clean-all: clean
	rm -rf $(ROOTFS) $(ROOTFS).partial
