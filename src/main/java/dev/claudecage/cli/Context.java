package dev.claudecage.cli;

import dev.claudecage.config.CageConfig;
import dev.claudecage.config.ConfigLoader;
import dev.claudecage.host.StateLayout;
import dev.claudecage.image.store.ImageStore;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.runtime.CagePlan;
import dev.claudecage.runtime.StatePaths;
import dev.claudecage.session.SessionRoots;
import dev.claudecage.session.SessionStore;
import dev.claudecage.session.Sessions;
import picocli.CommandLine.Command;

import java.time.Clock;
import java.util.function.Supplier;

/**
 * What the commands work with, made once per call by {@link Main} and handed to every command:
 * the one process runner, the configuration loader, the state layout, the image store and the
 * sessions. Each is made on first use, so that a command pays only for what it uses ({@code
 * images} needs no runtime folder, {@code version} nothing at all). A command declares
 * {@code @Mixin Context context}: picocli asks Main's factory for the mixin, and the factory hands
 * every command this one ({@code @Command} only makes it a mixin picocli takes: it adds no option).
 */
@Command
final class Context {

    private final ProcessRunner runner;
    private final Supplier<ConfigLoader> configLoader;
    private final Supplier<StateLayout> layout;
    private ConfigLoader loader;
    private StateLayout state;
    private ImageStore images;
    private Sessions sessions;

    Context(ProcessRunner runner, Supplier<ConfigLoader> configLoader, Supplier<StateLayout> layout) {
        this.runner = runner;
        this.configLoader = configLoader;
        this.layout = layout;
    }

    /** This host's: its configuration files, its state folders for this user, CLAUDE_CAGE_DEBUG. */
    static Context forThisHost() {
        return new Context(ProcessRunner.fromEnvironment(), ConfigLoader::forThisHost, StateLayout::current);
    }

    ProcessRunner runner() {
        return runner;
    }

    synchronized ConfigLoader configLoader() {
        if (loader == null) {
            loader = configLoader.get();
        }
        return loader;
    }

    synchronized StateLayout layout() {
        if (state == null) {
            state = layout.get();
        }
        return state;
    }

    StatePaths statePaths() {
        return StatePaths.of(layout());
    }

    synchronized ImageStore images() {
        if (images == null) {
            images = new ImageStore(layout().images());
        }
        return images;
    }

    /** Everything decided before a cage of {@code config} starts, on this host now. */
    CagePlan plan(CageConfig config) {
        return CagePlan.resolve(config, statePaths(), images(), runner);
    }

    synchronized Sessions sessions() {
        if (sessions == null) {
            // A one-shot launcher (run, verify) is this program: the janitor leaves alone what one may own.
            sessions = new Sessions(new SessionStore(SessionRoots.of(layout())), statePaths(), images(), runner,
                    Clock.systemUTC(), Main.class.getName());
        }
        return sessions;
    }
}
