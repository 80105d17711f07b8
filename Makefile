# claude-cage: build, install, test and prove the sandbox.
PREFIX ?= /usr/local
ROOTFS ?= /var/cache/claude-cage/rootfs/bookworm-minbase
JAR := target/claude-cage.jar
COMPLETION := target/claude-cage-completion.bash
CAGE := bin/claude-cage
MVN := mvn -B -q

.PHONY: build install uninstall test unit-test verify-sandbox rootfs demo run-cli run-desktop \
        load-apparmor bench clean clean-all

build: $(JAR) $(COMPLETION)

$(JAR): pom.xml $(shell find src config security -type f 2>/dev/null)
	$(MVN) -DskipTests package

$(COMPLETION): $(JAR)
	java -cp $(JAR) picocli.AutoComplete --force -n claude-cage -o $(COMPLETION) dev.claudecage.cli.Main

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/claude-cage \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 0644 $(JAR) $(DESTDIR)$(PREFIX)/lib/claude-cage/claude-cage.jar
	install -m 0755 $(CAGE) $(DESTDIR)$(PREFIX)/bin/claude-cage
	install -m 0644 $(COMPLETION) $(DESTDIR)$(PREFIX)/share/bash-completion/completions/claude-cage

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/claude-cage $(DESTDIR)$(PREFIX)/share/bash-completion/completions/claude-cage
	rm -rf $(DESTDIR)$(PREFIX)/lib/claude-cage

# The minbase Debian rootfs that cages run on until the image builder lands (made once, reused).
rootfs:
	rootfs-builder/make-minbase-rootfs.sh $(ROOTFS)

unit-test:
	$(MVN) test

# Unit tests, then integration tests with real runc, mounts and namespaces (needs root).
test: rootfs
	$(MVN) verify

verify-sandbox: build rootfs
	$(CAGE) verify --rootfs $(ROOTFS) --network none

# Sets up this host and runs a command in a hardened cage on the default rootfs.
demo:
	scripts/install-deps.sh
	$(MAKE) build rootfs
	$(CAGE) run --rootfs $(ROOTFS) --network none -- sh -c 'echo "hello from $$(hostname), uid $$(id -u), in a cage:"; cat /proc/self/status | grep -E "^(Seccomp|NoNewPrivs|CapEff):"'

run-cli: build rootfs
	$(CAGE) run --rootfs $(ROOTFS) --network none --mount $(CURDIR):/workspace -- bash

run-desktop:
	@echo "run-desktop: desktop mode is not built yet" >&2; exit 2

load-apparmor:
	@if [ "$$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = "Y" ]; then \
	  apparmor_parser -r -W security/apparmor-profile && echo "loaded AppArmor profile claude-cage"; \
	else echo "load-apparmor: AppArmor is unavailable on this host (the kernel has no AppArmor)" >&2; exit 1; fi

bench:
	@echo "bench: benchmarks are not built yet" >&2; exit 2

clean:
	$(MVN) clean

clean-all: clean
	rm -rf $(ROOTFS) $(ROOTFS).partial
