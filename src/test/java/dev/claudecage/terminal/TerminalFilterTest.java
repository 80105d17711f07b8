package dev.claudecage.terminal;

import dev.claudecage.terminal.TerminalFilter.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TerminalFilterTest {

    /** What the cage wrote, what the user's terminal receives, and what was counted. */
    private record Filtered(byte[] shown, DroppedControls dropped) {
        String text() {
            return new String(shown, StandardCharsets.UTF_8);
        }
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** Raw bytes, for those that are not UTF-8 (8-bit C1 controls, broken characters). */
    private static byte[] raw(int... values) {
        byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            bytes[i] = (byte) values[i];
        }
        return bytes;
    }

    private static Filtered filter(byte[]... writes) {
        ByteArrayOutputStream terminal = new ByteArrayOutputStream();
        TerminalFilter filter = new TerminalFilter(terminal);
        try {
            for (byte[] write : writes) {
                filter.write(write, 0, write.length);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Filtered(terminal.toByteArray(), filter.dropped());
    }

    /** The same input cut at every byte boundary into two writes, and written a byte at a time, gives the same screen and counts. */
    private static Filtered filterCutEverywhere(byte[] input) {
        Filtered whole = filter(input);
        for (int cut = 0; cut <= input.length; cut++) {
            Filtered split = filter(Arrays.copyOfRange(input, 0, cut), Arrays.copyOfRange(input, cut, input.length));
            assertArrayEquals(whole.shown(), split.shown(), "cut at byte " + cut + " of " + show(input));
            assertEquals(whole.dropped(), split.dropped(), "cut at byte " + cut + " of " + show(input));
        }
        byte[][] single = new byte[input.length][];
        for (int i = 0; i < input.length; i++) {
            single[i] = new byte[] {input[i]};
        }
        Filtered byteByByte = filter(single);
        assertArrayEquals(whole.shown(), byteByByte.shown(), "a byte at a time: " + show(input));
        assertEquals(whole.dropped(), byteByByte.dropped(), "a byte at a time: " + show(input));
        return whole;
    }

    private static String show(byte[] bytes) {
        StringBuilder shown = new StringBuilder();
        for (byte b : bytes) {
            int value = b & 0xff;
            shown.append(value >= 0x20 && value < 0x7f ? String.valueOf((char) value) : String.format("\\x%02x", value));
        }
        return shown.toString();
    }

    static Stream<Arguments> whatAFullScreenProgramDrawsWith() {
        return Stream.of(
                Arguments.of("text", "plain text, 42 + 1"),
                Arguments.of("UTF-8 in every length", "héllo ✓ 日本語 😀 ∑"),
                Arguments.of("line feed, carriage return, tab, backspace, bell, VT, FF", "a\r\n\tb\bc\u0007d\u000be\u000cf"),
                Arguments.of("SGR colours and attributes", "\u001b[0;1;3;4;38;5;208;48;2;10;20;30mcolour\u001b[m"),
                Arguments.of("SGR with colon sub-parameters (undercurl, RGB)", "\u001b[4:3m\u001b[38:2::255:0:0m"),
                Arguments.of("cursor position, movement", "\u001b[10;20H\u001b[A\u001b[3B\u001b[C\u001b[2D\u001b[5G\u001b[3d\u001b[E\u001b[F\u001b[H\u001b[2;4f"),
                Arguments.of("erase and insert/delete", "\u001b[2J\u001b[K\u001b[1K\u001b[3X\u001b[2@\u001b[P\u001b[L\u001b[M\u001b[?2J\u001b[?K"),
                Arguments.of("scroll region and scrolling", "\u001b[3;20r\u001b[2S\u001b[T\u001bM\u001bD\u001bE\u001b[r"),
                Arguments.of("save and restore the cursor", "\u001b7\u001b8\u001b[s\u001b[u"),
                Arguments.of("alternate screen", "\u001b[?1049h\u001b[?1049l\u001b[?47h\u001b[?1047l"),
                Arguments.of("cursor visibility, shape and blink", "\u001b[?25l\u001b[?25h\u001b[2 q\u001b[?12h"),
                Arguments.of("bracketed paste on and off", "\u001b[?2004h\u001b[?2004l"),
                Arguments.of("mouse reports", "\u001b[?1000h\u001b[?1002h\u001b[?1003h\u001b[?1006h\u001b[?1000;1006l\u001b[?1007h"),
                Arguments.of("focus events", "\u001b[?1004h\u001b[?1004l"),
                Arguments.of("synchronized output", "\u001b[?2026h\u001b[?2026l"),
                Arguments.of("colour scheme change reports", "\u001b[?2031h\u001b[?2031l"),
                Arguments.of("cursor keys, keypad, autowrap, origin", "\u001b[?1h\u001b=\u001b>\u001b[?7l\u001b[?7h\u001b[?6h\u001b[?6l"),
                Arguments.of("kitty keyboard protocol push, set, pop", "\u001b[>1u\u001b[=5;1u\u001b[<u\u001b[<2u"),
                Arguments.of("xterm modifyOtherKeys", "\u001b[>4;2m\u001b[>4m"),
                Arguments.of("line drawing characters", "\u001b(0qqq\u001b(B\u001b)0\u000eq\u000f"),
                Arguments.of("insert mode", "\u001b[4h\u001b[4l"),
                Arguments.of("tabs", "\u001bH\u001b[3g\u001b[2I\u001b[Z"),
                Arguments.of("soft and full reset", "\u001b[!p\u001bc"),
                Arguments.of("repeat, horizontal and vertical position", "x\u001b[5b\u001b[10`\u001b[2a\u001b[2e"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void whatAFullScreenProgramDrawsWith(String what, String output) {
        Filtered filtered = filterCutEverywhere(bytes(output));
        assertEquals(output, filtered.text(), what);
        assertEquals(0, filtered.dropped().total(), what);
    }

    static Stream<Arguments> attack_sequencesThatActOnTheTerminalAreDropped() {
        return Stream.of(
                Arguments.of("OSC 52 sets the clipboard (BEL)", "\u001b]52;c;Y3VybCBldmlsIHwgc2g=\u0007", Kind.CLIPBOARD),
                Arguments.of("OSC 52 sets the clipboard (ST)", "\u001b]52;p;Y3VybCBldmlsIHwgc2g=\u001b\\", Kind.CLIPBOARD),
                Arguments.of("OSC 52 reads the clipboard back", "\u001b]52;c;?\u0007", Kind.CLIPBOARD),
                Arguments.of("OSC 0 sets the title", "\u001b]0;rm -rf ~\u0007", Kind.TITLE),
                Arguments.of("OSC 2 sets the title", "\u001b]2;title\u001b\\", Kind.TITLE),
                Arguments.of("CSI 21 t reports the title as input", "\u001b[21t", Kind.REPORT),
                Arguments.of("CSI 20 t reports the icon label as input", "\u001b[20t", Kind.REPORT),
                Arguments.of("CSI 14 t reports the window size", "\u001b[14t", Kind.REPORT),
                Arguments.of("CSI 6 n reports the cursor position", "\u001b[6n", Kind.REPORT),
                Arguments.of("CSI 5 n device status", "\u001b[5n", Kind.REPORT),
                Arguments.of("CSI ? 6 n", "\u001b[?6n", Kind.REPORT),
                Arguments.of("CSI c primary device attributes", "\u001b[c", Kind.REPORT),
                Arguments.of("CSI 0 c", "\u001b[0c", Kind.REPORT),
                Arguments.of("CSI > c secondary device attributes", "\u001b[>c", Kind.REPORT),
                Arguments.of("CSI = c tertiary device attributes", "\u001b[=c", Kind.REPORT),
                Arguments.of("CSI > 0 q XTVERSION", "\u001b[>0q", Kind.REPORT),
                Arguments.of("DECRQM", "\u001b[?2026$p", Kind.REPORT),
                Arguments.of("DECRQM, ANSI mode", "\u001b[4$p", Kind.REPORT),
                Arguments.of("DECRQSS", "\u001bP$qm\u001b\\", Kind.REPORT),
                Arguments.of("XTGETTCAP", "\u001bP+q544e\u001b\\", Kind.REPORT),
                Arguments.of("kitty keyboard flags query", "\u001b[?u", Kind.REPORT),
                Arguments.of("OSC 4 palette query", "\u001b]4;1;?\u0007", Kind.REPORT),
                Arguments.of("OSC 10 foreground query", "\u001b]10;?\u0007", Kind.REPORT),
                Arguments.of("OSC 11 background query", "\u001b]11;?\u001b\\", Kind.REPORT),
                Arguments.of("OSC 12 cursor colour query", "\u001b]12;?\u0007", Kind.REPORT),
                Arguments.of("OSC 50 font query", "\u001b]50;?\u0007", Kind.REPORT),
                Arguments.of("ENQ answerback", "\u0005", Kind.REPORT),
                Arguments.of("DECID", "\u001bZ", Kind.REPORT),
                Arguments.of("OSC 8 hyperlink", "\u001b]8;;https://evil.example/\u001b\\", Kind.HYPERLINK),
                Arguments.of("OSC 4 sets the palette", "\u001b]4;1;rgb:ff/00/00\u0007", Kind.OTHER),
                Arguments.of("OSC 50 sets the font", "\u001b]50;-*-fixed-*\u0007", Kind.OTHER),
                Arguments.of("iTerm2 file download", "\u001b]1337;File=name=ZXZpbA==;inline=0:ZWNobyBldmls\u0007", Kind.OTHER),
                Arguments.of("notification", "\u001b]9;you have mail\u0007", Kind.OTHER),
                Arguments.of("kitty graphics", "\u001b_Gf=100,a=T;iVBORw0KGgo=\u001b\\", Kind.OTHER),
                Arguments.of("PM", "\u001b^private\u001b\\", Kind.OTHER),
                Arguments.of("SOS", "\u001bXstring\u001b\\", Kind.OTHER),
                Arguments.of("sixel", "\u001bPq#0;2;0;0;0#0~~\u001b\\", Kind.OTHER),
                Arguments.of("window resize", "\u001b[8;200;300t", Kind.WINDOW),
                Arguments.of("window iconify", "\u001b[2t", Kind.WINDOW),
                Arguments.of("title stack push", "\u001b[22;0t", Kind.WINDOW),
                Arguments.of("KAM locks the keyboard", "\u001b[2h", Kind.OTHER),
                Arguments.of("a mode change without a mode", "\u001b[h", Kind.OTHER),
                Arguments.of("a DEC mode not on the list", "\u001b[?3h", Kind.OTHER),
                Arguments.of("one unknown mode among known ones", "\u001b[?1049;9999h", Kind.OTHER),
                Arguments.of("S8C1T: replies in 8-bit controls", "\u001b G", Kind.OTHER),
                Arguments.of("leave UTF-8", "\u001b%@", Kind.OTHER),
                Arguments.of("DECALN", "\u001b#8", Kind.OTHER),
                Arguments.of("DECSCL", "\u001b[62;2\"p", Kind.OTHER),
                Arguments.of("highlight mouse tracking", "\u001b[1;1;1;1;1T", Kind.REPORT),
                Arguments.of("C1 CSI as a UTF-8 character", "\u009b6n", Kind.REPORT),
                Arguments.of("C1 CSI as a UTF-8 character, harmless otherwise", "\u009b31m", Kind.OTHER),
                Arguments.of("C1 OSC as a UTF-8 character", "\u009d52;c;eA==\u0007", Kind.CLIPBOARD),
                Arguments.of("C1 NEL as a UTF-8 character", "\u0085", Kind.OTHER));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void attack_sequencesThatActOnTheTerminalAreDropped(String what, String sequence, Kind kind) {
        Filtered filtered = filterCutEverywhere(bytes("before" + sequence + "after"));
        assertEquals("beforeafter", filtered.text(), what);
        assertEquals(Map.of(kind, 1), filtered.dropped().counts(), what);
    }

    @Test
    void attack_eightBitC1ControlsAsRawBytesAreDroppedWithWhatTheyIntroduce() {
        // 0x9b is CSI and 0x9d OSC for a terminal in 8-bit mode.
        Filtered csi = filterCutEverywhere(raw('a', 0x9b, '6', 'n', 'b'));
        assertEquals("ab", csi.text());
        assertEquals(Map.of(Kind.REPORT, 1), csi.dropped().counts());
        Filtered osc = filterCutEverywhere(raw('a', 0x9d, '5', '2', ';', 'c', ';', 'e', 'A', '=', '=', 0x07, 'b'));
        assertEquals("ab", osc.text());
        assertEquals(Map.of(Kind.CLIPBOARD, 1), osc.dropped().counts());
        Filtered dcs = filterCutEverywhere(raw('a', 0x90, '$', 'q', 'm', 0x1b, '\\', 'b'));
        assertEquals("ab", dcs.text());
        assertEquals(Map.of(Kind.REPORT, 1), dcs.dropped().counts());
    }

    @Test
    void attack_aHyperlinkLosesItsTargetAndKeepsItsText() {
        Filtered filtered = filterCutEverywhere(bytes("see \u001b]8;;https://evil.example/\u001b\\https://good.example/\u001b]8;;\u001b\\ now"));
        assertEquals("see https://good.example/ now", filtered.text());
        assertEquals(Map.of(Kind.HYPERLINK, 2), filtered.dropped().counts());
    }

    @Test
    void attack_tmuxPassthroughToTheOuterTerminalIsDropped() {
        Filtered filtered = filterCutEverywhere(bytes("a\u001bPtmux;\u001b\u001b]52;c;eA==\u0007\u001b\\b"));
        assertEquals("ab", filtered.text());
        assertEquals(2, filtered.dropped().total(), filtered.dropped().toString());
    }

    @Test
    void attack_aStringWithoutTerminatorHoldsNoMemoryAndHidesOnlyItself() throws IOException {
        ByteArrayOutputStream terminal = new ByteArrayOutputStream();
        TerminalFilter filter = new TerminalFilter(terminal);
        filter.write(bytes("shown\u001b]52;c;"));
        byte[] chunk = new byte[1 << 20];
        Arrays.fill(chunk, (byte) 'A');
        for (int i = 0; i < 256; i++) {
            filter.write(chunk);
            assertTrue(filter.heldBytes() <= TerminalFilter.MAX_SEQUENCE, "holds " + filter.heldBytes() + " bytes");
        }
        assertEquals("shown", terminal.toString(StandardCharsets.UTF_8));
        filter.write(bytes("\u0007after"));
        assertEquals("shownafter", terminal.toString(StandardCharsets.UTF_8));
        assertEquals(Map.of(Kind.CLIPBOARD, 1), filter.dropped().counts());
    }

    @Test
    void attack_anEndlessSequenceIsCutAtItsLimitAndDropped() throws IOException {
        ByteArrayOutputStream terminal = new ByteArrayOutputStream();
        TerminalFilter filter = new TerminalFilter(terminal);
        filter.write(bytes("\u001b["));
        byte[] chunk = new byte[1 << 20];
        Arrays.fill(chunk, (byte) '1');
        for (int i = 0; i < 16; i++) {
            filter.write(chunk);
            assertTrue(filter.heldBytes() <= TerminalFilter.MAX_SEQUENCE, "holds " + filter.heldBytes() + " bytes");
        }
        filter.write(bytes("mafter"));
        assertEquals("after", terminal.toString(StandardCharsets.UTF_8));
        assertEquals(Map.of(Kind.OTHER, 1), filter.dropped().counts());
        byte[] intermediates = new byte[1 << 20];
        Arrays.fill(intermediates, (byte) ' ');
        filter.write(bytes("\u001b"));
        filter.write(intermediates);
        filter.write(bytes("G!"));
        assertEquals("after!", terminal.toString(StandardCharsets.UTF_8));
    }

    @Test
    void positiveControl_aSequenceJustUnderTheLimitPasses() {
        String parameters = "1;".repeat((TerminalFilter.MAX_SEQUENCE - 1) / 2) + "1";
        String sgr = "\u001b[" + parameters.substring(0, TerminalFilter.MAX_SEQUENCE - 1) + "m";
        Filtered filtered = filter(bytes(sgr));
        assertEquals(sgr, filtered.text());
    }

    @Test
    void aControlCharacterInsideASequenceActsInPlaceAndTheSequenceStillPasses() {
        Filtered filtered = filterCutEverywhere(bytes("\u001b[1\n;31mx"));
        assertEquals("\n\u001b[1;31mx", filtered.text());
    }

    @Test
    void anEscapeInsideASequenceAbortsItAsInATerminal() {
        Filtered filtered = filterCutEverywhere(bytes("\u001b[31\u001b[32mx\u001b]0;t\u001b[1mx"));
        assertEquals("\u001b[32mx\u001b[1mx", filtered.text());
        assertEquals(Map.of(Kind.TITLE, 1), filtered.dropped().counts());
    }

    @Test
    void brokenUtf8IsShownAsTheReplacementCharacterAndNeverSwallowsWhatFollows() {
        assertEquals("a\ufffdb", filterCutEverywhere(raw('a', 0xff, 'b')).text());
        assertEquals("a\ufffdb", filterCutEverywhere(raw('a', 0xe2, 0x82, 'b')).text());
        assertEquals("\ufffd\u001b[1m", filterCutEverywhere(raw(0xe2, 0x1b, '[', '1', 'm')).text());
        // Overlong forms and surrogates are not characters.
        assertEquals("\ufffd\ufffd", filterCutEverywhere(raw(0xc0, 0xaf)).text());
        assertEquals("\ufffd\ufffd/", filterCutEverywhere(raw(0xe0, 0x80, 0xaf, '/')).text());
        assertEquals("\ufffd\ufffd\ufffd", filterCutEverywhere(raw(0xf5, 0xa0, 0xbf)).text());
    }

    @Test
    void restoreUndoesTheModesTheCageLeftSet() throws IOException {
        ByteArrayOutputStream terminal = new ByteArrayOutputStream();
        TerminalFilter filter = new TerminalFilter(terminal);
        filter.write(bytes("\u001b[?1049h\u001b[?25l\u001b[?1000;1006h\u001b[?2004h\u001b[1;31m\u001b[>1u\u001b[3;20r\u001b(0"
                + "\u001b[?1004h\u001b[?1004l"));
        terminal.reset();
        filter.restore();
        assertEquals("\u001b(B\u001b[0m\u001b7\u001b[r\u001b8\u001b[<1u\u001b[?25h\u001b[?1000l\u001b[?1006l\u001b[?1049l\u001b[?2004l",
                terminal.toString(StandardCharsets.UTF_8));
    }

    @Test
    void restoreWritesNothingWhenTheCageLeftTheTerminalAsItFoundIt() throws IOException {
        ByteArrayOutputStream terminal = new ByteArrayOutputStream();
        TerminalFilter filter = new TerminalFilter(terminal);
        filter.write(bytes("\u001b[?1049h\u001b[?25l\u001b[?25h\u001b[?1049l\u001b[?12h\u001b[<u text"));
        terminal.reset();
        filter.restore();
        assertEquals("", terminal.toString(StandardCharsets.UTF_8));
    }

    @Test
    void restoreCountsAStringCutOffByTheEndOfTheOutput() throws IOException {
        TerminalFilter filter = new TerminalFilter(new ByteArrayOutputStream());
        filter.write(bytes("\u001b]52;c;eA=="));
        filter.restore();
        assertEquals(Map.of(Kind.CLIPBOARD, 1), filter.dropped().counts());
    }

    @Test
    void theReportNamesWhatWasDroppedAndTheWayToLetItThrough() {
        Filtered filtered = filter(bytes("\u001b]0;a\u0007\u001b]0;b\u0007\u001b[6n\u001b]52;c;eA==\u0007"));
        assertEquals("claude-cage: dropped 4 terminal control sequence(s) from the cage's output that could act on your "
                + "terminal (1 clipboard, 1 report request, 2 window title); --raw-terminal passes them on",
                filtered.dropped().message().orElseThrow());
        assertTrue(filter(bytes("plain")).dropped().message().isEmpty());
    }
}
