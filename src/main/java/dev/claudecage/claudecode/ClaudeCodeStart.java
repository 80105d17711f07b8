package dev.claudecage.claudecode;

import dev.claudecage.CageException;
import dev.claudecage.host.Directories;
import dev.claudecage.host.Host;
import dev.claudecage.host.UntrustedDirectory;
import dev.claudecage.net.cage.CageNetworking;
import dev.claudecage.net.gateway.PlaceholderKey;
import dev.claudecage.oci.Spec;
import dev.claudecage.oci.SpecBuilder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * What Claude Code needs to start in a cage whose API key is the gateway's placeholder, done to
 * the cage's spec before it starts (docs/network-gateway-dns.md lists Claude Code's start-up calls):
 * <ul>
 *   <li>Its home holds {@link FirstRunSettings}. A persisted home (a bind mount of a host folder the
 *       cage can write) gets its {@code .claude.json} merged in place, through
 *       {@link UntrustedDirectory}: no link the cage left there is followed, the file is read with a
 *       size limit and replaced by a rename. A tmpfs home is empty at every start: the settings go
 *       into a seed folder of the host's, which the spec binds read-only at the home just before
 *       the tmpfs, whose {@code tmpcopyup} (runc and crun) copies it in as the tmpfs is mounted;
 *       the tmpfs then covers the seed.</li>
 *   <li>Its environment turns off the calls it would make to Anthropic directly, past
 *       {@code ANTHROPIC_BASE_URL} (telemetry, feature flags, the changelog, ...): with the gateway
 *       holding the key that route is closed, and they would only fill the audit log with
 *       refusals. A value the user set for either variable stands.</li>
 * </ul>
 */
public final class ClaudeCodeStart {

    static final String FILE = ".claude.json";
    /** A tmpfs home's seed, in the cage's network folder. */
    static final String SEED = "home-seed";
    /** Claude Code's own file of a few hundred kilobytes may grow with many projects; past this it is left alone. */
    static final int READ_LIMIT = 8 * 1024 * 1024;
    /** As Claude Code writes the file: it holds the account's details. */
    private static final int MODE = 0600;

    /** Claude Code's switches for the calls it makes to Anthropic past the gateway, and their values here. */
    static final List<String> NO_DIRECT_CALLS = List.of("DISABLE_TELEMETRY=1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1");

    private ClaudeCodeStart() {
    }

    /**
     * The spec ready for Claude Code's first interactive start: a tmpfs home gets its ~/.claude for the
     * user's setup ({@link UserClaudeSetup}), and the first-run settings when the cage holds a
     * placeholder key (a filtered network with a key or login on the host).
     *
     * @param networking   the cage's network services, or null when it has none
     * @param networkState the cage's private network folder on the host, which goes with the cage; a
     *                     tmpfs home's seed is made there
     * @param warn         takes what was left undone and why, for the user
     */
    public static Spec prepare(Spec spec, CageNetworking networking, Path networkState, Consumer<String> warn) {
        return prepare(spec, networking == null ? Optional.empty() : networking.placeholderInCage(), networkState, warn);
    }

    static Spec prepare(Spec given, Optional<PlaceholderKey> placeholder, Path networkState, Consumer<String> warn) {
        Spec.Mount home = homeMount(given);
        Spec spec = home.type().equals("tmpfs") ? UserClaudeSetup.withClaudeFolder(given, home) : given;
        if (placeholder.isEmpty()) {
            return spec;
        }
        String workingDirectory = spec.process().cwd();
        Spec quiet = withoutDirectCalls(spec);
        if (home.type().equals("bind")) {
            mergeInto(Path.of(home.source()), placeholder.get(), workingDirectory, warn);
            return quiet;
        }
        if (!home.type().equals("tmpfs")) {
            throw new IllegalStateException("the home of the cage is a " + home.type() + " mount, not a bind or a tmpfs");
        }
        Path seedDir = networkState.resolve(SEED);
        writeSeed(seedDir, placeholder.get(), workingDirectory, ownerOfCageUser(spec));
        return seeded(quiet, home, seedDir);
    }

    /** {@link #NO_DIRECT_CALLS} added to the environment, each unless the environment names it already. */
    static Spec withoutDirectCalls(Spec spec) {
        List<String> env = new ArrayList<>(spec.process().env());
        for (String setting : NO_DIRECT_CALLS) {
            String name = setting.substring(0, setting.indexOf('=') + 1);
            if (env.stream().noneMatch(entry -> entry.startsWith(name))) {
                env.add(setting);
            }
        }
        return spec.withProcess(spec.process().withEnv(env));
    }

    private static Spec.Mount homeMount(Spec spec) {
        Spec.Mount home = null;
        for (Spec.Mount mount : spec.mounts()) {
            if (mount.destination().equals(SpecBuilder.CAGE_HOME)) {
                home = mount;
            }
        }
        if (home == null) {
            throw new IllegalStateException("the spec mounts nothing at " + SpecBuilder.CAGE_HOME);
        }
        return home;
    }

    /**
     * Merges into the persisted home's file as its owner would have it. A file that cannot be read
     * safely or parsed is kept as it is: Claude Code then starts the way it would without us.
     */
    static void mergeInto(Path homeDir, PlaceholderKey placeholder, String workingDirectory, Consumer<String> warn) {
        String where = homeDir.resolve(FILE).toString();
        try (UntrustedDirectory home = UntrustedDirectory.open(homeDir)) {
            byte[] existing = home.stat(FILE).isPresent() ? home.readFile(FILE, READ_LIMIT) : null;
            FirstRunSettings.Outcome outcome = FirstRunSettings.merge(existing, placeholder.value(), workingDirectory);
            if (outcome.refusal() != null) {
                warn.accept(where + " is left as it is (" + outcome.refusal() + "): Claude Code may ask its first-run "
                        + "questions, and its onboarding cannot reach Anthropic from the cage; fix or remove the file");
                return;
            }
            if (outcome.writes()) {
                Object uid = Files.getAttribute(homeDir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
                Object gid = Files.getAttribute(homeDir, "unix:gid", LinkOption.NOFOLLOW_LINKS);
                home.replaceFile(FILE, outcome.content(), MODE, (Integer) uid, (Integer) gid);
            }
        } catch (IOException e) {
            warn.accept(where + " is left as it is (" + e.getMessage() + "): Claude Code may ask its first-run questions, "
                    + "and its onboarding cannot reach Anthropic from the cage");
        }
    }

    private static void writeSeed(Path seedDir, PlaceholderKey placeholder, String workingDirectory, int[] owner) {
        FirstRunSettings.Outcome outcome = FirstRunSettings.merge(null, placeholder.value(), workingDirectory);
        try {
            Directories.createPrivate(seedDir);
            Path file = seedDir.resolve(FILE);
            Directories.writePrivateFile(file, new String(outcome.content(), StandardCharsets.UTF_8));
            Files.setAttribute(file, "unix:gid", owner[1], LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(file, "unix:uid", owner[0], LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new CageException("cannot write the first-run settings of the cage's home in " + seedDir + ": "
                    + e.getMessage());
        }
    }

    /**
     * Who the cage's user is on the host: itself as root; rootless, the cage's user is the invoking
     * user, mapped in its user namespace.
     */
    private static int[] ownerOfCageUser(Spec spec) {
        return Host.effectiveUid() == 0
                ? new int[] {spec.process().user().uid(), spec.process().user().gid()}
                : new int[] {Host.effectiveUid(), Host.effectiveGid()};
    }

    /**
     * The seed bound read-only at the home, then the home's tmpfs over it, copying it up. The runtime
     * copies it as the cage's root, so a cage with ids of its own sees it idmapped, its file as the
     * cage user's.
     */
    static Spec seeded(Spec spec, Spec.Mount home, Path seedDir) {
        List<Spec.Mount> mounts = new ArrayList<>();
        for (Spec.Mount mount : spec.mounts()) {
            if (mount == home) {
                mounts.add(new Spec.Mount(SpecBuilder.CAGE_HOME, "bind", seedDir.toString(),
                        List.of("bind", "ro", "nosuid", "nodev", "noexec", SpecBuilder.IDMAP)));
                List<String> options = new ArrayList<>(home.options());
                options.add("tmpcopyup");
                mounts.add(new Spec.Mount(home.destination(), home.type(), home.source(), options));
            } else {
                mounts.add(mount);
            }
        }
        return spec.withMounts(mounts);
    }
}
