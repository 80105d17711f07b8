package dev.claudecage.cli;

import dev.claudecage.host.StateLayout;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.session.ProcessIdentity;
import dev.claudecage.session.SessionName;
import dev.claudecage.session.SessionRecord;
import dev.claudecage.session.SessionRoots;
import dev.claudecage.session.SessionStatus;
import dev.claudecage.session.SessionStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A plain list or status answered without picocli prints what picocli's path prints, byte for byte, and fails as it does. */
class PlainViewsTest {

    private static final Instant NOW = Instant.parse("2026-12-08T02:00:00Z");

    @TempDir
    Path dir;

    private String ownerBefore;
    private Context context;

    /** A store in the test's folder: a rootless user's layout there, as a call re-run in that user's namespace finds it. */
    @BeforeEach
    void store() throws Exception {
        ownerBefore = System.getProperty(StateLayout.NAMESPACE_OWNER_PROPERTY);
        System.setProperty(StateLayout.NAMESPACE_OWNER_PROPERTY, "4711");
        StateLayout layout = StateLayout.forUser(4711, Map.of("HOME", "/nonexistent", "XDG_DATA_HOME",
                dir.resolve("data").toString(), "XDG_RUNTIME_DIR", dir.resolve("run").toString()));
        SessionStore store = new SessionStore(SessionRoots.of(layout));
        store.ensureRoots();
        SessionRecord created = SessionRecord.create(SessionName.of("brisk-otter"), Map.of("network", "none"),
                List.of("sh", "-c", "x\u001b]0;owned\u0007\nfake-row  running"), false, true, NOW);
        // A record that claims a supervisor long gone: the views correct it.
        SessionRecord crashed = SessionRecord.create(SessionName.of("calm-heron"), Map.of("network", "filtered"),
                List.of("claude"), false, false, NOW).starting("s-calm-heron-1", new ProcessIdentity(999_999_999, 1),
                "boot", NOW, 40, 120).supervisedBy(new ProcessIdentity(999_999_998, 2)).withStatus(SessionStatus.RUNNING);
        SessionRecord exited = SessionRecord.create(SessionName.of("done-1"), Map.of("network", "none"), List.of("true"), false, true,
                NOW).ended(SessionStatus.EXITED, 3, "it said \"no\"\u001b[2K", NOW);
        for (SessionRecord record : List.of(created, crashed, exited)) {
            store.createFolders(store.paths(record), false, 1000, 1000);
            store.write(record);
        }
        // A record that cannot be read: list reports it on stderr.
        SessionName broken = SessionName.of("broken");
        store.createFolders(store.paths(broken, false), false, 1000, 1000);
        Files.writeString(store.paths(broken, false).stateFile(), "{\"version\": 1, \"name\": \"broken\u001b[2J\"");
        context = new Context(new ProcessRunner(false), () -> {
            throw new AssertionError("list and status load no configuration");
        }, () -> layout);
    }

    @AfterEach
    void restore() {
        if (ownerBefore == null) {
            System.clearProperty(StateLayout.NAMESPACE_OWNER_PROPERTY);
        } else {
            System.setProperty(StateLayout.NAMESPACE_OWNER_PROPERTY, ownerBefore);
        }
    }

    private record Printed(int exitCode, String out, String err) {
    }

    private Printed plain(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = PlainViews.answer(context, args, new PrintWriter(out), new PrintWriter(err));
        return new Printed(code, out.toString(), err.toString());
    }

    private Printed throughPicocli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.commandLine(context, args)
                .setExecutionExceptionHandler(new ErrorHandler())
                .setParameterExceptionHandler(ErrorHandler::onBadArguments)
                .setOut(new PrintWriter(out))
                .setErr(new PrintWriter(err))
                .execute(args);
        return new Printed(code, out.toString(), err.toString());
    }

    @Test
    void listAndStatusPrintWhatPicocliSPathPrints() {
        for (String[] args : List.of(new String[] {"list"}, new String[] {"ps"}, new String[] {"status", "brisk-otter"},
                new String[] {"status", "calm-heron"}, new String[] {"status", "done-1"})) {
            assertTrue(PlainViews.answers(args), List.of(args).toString());
            Printed plain = plain(args);
            assertEquals(throughPicocli(args), plain, List.of(args).toString());
            assertEquals(0, plain.exitCode());
            assertFalse(plain.out().contains("\u001b") || plain.err().contains("\u001b"), plain.toString());
        }
        Printed list = plain("list");
        assertEquals(4, list.out().lines().count(), "a header and three sessions: " + list.out());
        assertTrue(list.err().startsWith("claude-cage: "), list.err());
        assertTrue(plain("status", "calm-heron").out().contains("name:           calm-heron"));
    }

    @Test
    void aSessionThatIsNotThereFailsAsThroughPicocli() {
        Printed plain = plain("status", "no-such");
        assertEquals(throughPicocli("status", "no-such"), plain);
        assertEquals(ErrorHandler.BAD_INPUT, plain.exitCode());
        assertTrue(plain.err().startsWith("claude-cage: "), plain.err());
        assertEquals("", plain.out());
    }

    @Test
    void onlyTheBareCallsAreAnsweredWithoutPicocli() {
        for (String[] args : List.of(new String[] {"list", "-q"}, new String[] {"list", "--json"},
                new String[] {"list", "--help"}, new String[] {"ps", "list"}, new String[] {"status"},
                new String[] {"status", "--json"}, new String[] {"status", "-h"}, new String[] {"status", "@names"},
                new String[] {"status", "Not_A_Name"}, new String[] {"status", "a", "--json"}, new String[] {"lis"},
                new String[] {"--version"}, new String[] {}, new String[] {"run", "list"})) {
            assertFalse(PlainViews.answers(args), List.of(args).toString());
        }
    }
}
