package dev.claudecage.terminal;

import java.io.IOException;
import java.io.OutputStream;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The cage's terminal output on its way to the user's terminal. A terminal obeys what it prints:
 * OSC 52 sets or reads the clipboard, a title report or a device status request makes the
 * terminal type its answer into the cage's input, OSC 8 shows one link and opens another, and a
 * DCS, APC or OSC extension writes files or reprograms keys. The cage's program chooses those bytes.
 *
 * <p>This stream lets through what a full-screen program such as Claude Code draws with (text in
 * UTF-8, the usual C0 controls, cursor movement, erase, scroll regions, colours, and the modes
 * such programs set: alternate screen, cursor visibility, bracketed paste, mouse and focus
 * reports, synchronized output, keyboard protocols) and drops everything else whole: every OSC,
 * DCS, APC, PM and SOS string, every sequence that makes the terminal answer, 8-bit C1 controls,
 * and whatever it does not know. Dropping, not escaping, keeps the screen intact.
 *
 * <p>It is a parser after the DEC VT model (ECMA-48 syntax): the input may be cut anywhere
 * between two writes, and what it emits is only ever whole characters and whole sequences, so the
 * terminal is back in its ground state after every write. A string is dropped as it streams by and
 * a sequence is held to {@value #MAX_SEQUENCE} bytes, so memory stays bounded whatever the cage sends.
 * It counts what it dropped, and {@link #restore()} undoes the modes the cage left set.
 *
 * <p>One writer at a time, and {@link #restore()} from another thread (a shutdown hook) waits for its
 * write. {@link #close()} flushes and leaves the terminal's stream open.
 */
public final class TerminalFilter extends OutputStream {

    /** What a dropped sequence would have done, for the user's report. */
    public enum Kind {
        CLIPBOARD("clipboard"),
        REPORT("report request"),
        TITLE("window title"),
        HYPERLINK("hyperlink"),
        WINDOW("window operation"),
        OTHER("other");

        private final String words;

        Kind(String words) {
            this.words = words;
        }

        public String words() {
            return words;
        }
    }

    /** The longest escape or CSI sequence passed on; a longer one is dropped. */
    static final int MAX_SEQUENCE = 256;
    /** How much of a string is looked at to tell what it would have done. */
    private static final int STRING_HEAD = 32;
    private static final byte ESC = 0x1b;
    private static final byte[] REPLACEMENT = {(byte) 0xef, (byte) 0xbf, (byte) 0xbd};
    /** How much input is filtered before what it gave is written to the terminal. */
    private static final int SLICE = 32 * 1024;

    /**
     * DEC private modes (CSI ? N h/l) that full-screen programs set: they change how the terminal draws, or
     * which events it sends as input in a fixed form (keys, mouse, focus, a change of colour scheme);
     * none makes it send text that the program chose.
     */
    private static final Set<Integer> PRIVATE_MODES = Set.of(
            1, 5, 6, 7, 9, 12, 25, 47, 66, 69, 1000, 1002, 1003, 1004, 1005, 1006, 1007, 1015, 1016, 1036, 1039,
            1047, 1048, 1049, 2004, 2026, 2031);
    /** CSI finals without a private marker or intermediate: cursor movement, erase, insert and delete, scrolling, tabs, colours. */
    private static final String PLAIN_CSI_FINALS = "@ABCDEFGHIJKLMPSTXZ`abdefgmrsu";
    /** Report requests of xterm's window operations (CSI Ps t): sizes, positions, the icon label and the title. */
    private static final Set<Integer> WINDOW_REPORTS = Set.of(11, 13, 14, 15, 16, 18, 19, 20, 21);

    private enum State { GROUND, ESCAPE, CSI, CSI_IGNORE, STRING, STRING_ESCAPE }

    private enum StringType { OSC, DCS, OTHER }

    private final OutputStream terminal;
    private final Map<Kind, Integer> dropped = new EnumMap<>(Kind.class);
    private final TerminalModes modes = new TerminalModes();

    /** What the terminal gets from one slice of input: a replacement character (3 bytes) per byte at most, and a held sequence. */
    private final byte[] out = new byte[SLICE * REPLACEMENT.length + MAX_SEQUENCE + 16];
    private int outLength;

    private State state = State.GROUND;
    /** The current sequence after its introducer (ESC, or ESC [): intermediates, parameters, final. */
    private final byte[] sequence = new byte[MAX_SEQUENCE];
    private int sequenceLength;
    /** The current CSI was introduced by an 8-bit C1 control: dropped whatever it is. */
    private boolean eightBit;
    private StringType stringType;
    private final byte[] stringHead = new byte[STRING_HEAD];
    private int stringHeadLength;

    /** A UTF-8 character under way: its bytes so far, how many more, and the range of the next one. */
    private final byte[] character = new byte[4];
    private int characterLength;
    private int characterMissing;
    private int codePoint;
    private int nextLow = 0x80;
    private int nextHigh = 0xbf;

    public TerminalFilter(OutputStream terminal) {
        this.terminal = terminal;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] data, int offset, int length) throws IOException {
        // In slices, so that what is held for the terminal stays the same size whatever one write brings.
        for (int slice = offset; slice < offset + length; slice += SLICE) {
            filter(data, slice, Math.min(offset + length, slice + SLICE));
            if (outLength > 0) {
                terminal.write(out, 0, outLength);
                outLength = 0;
            }
        }
    }

    private void filter(byte[] data, int start, int end) {
        for (int i = start; i < end; i++) {
            byte b = data[i];
            if (state == State.GROUND && characterMissing == 0) {
                // Most of a screen is text: copy a run of it at once.
                int run = i;
                while (run < end && data[run] >= 0x20 && data[run] < 0x7f) {
                    run++;
                }
                if (run > i) {
                    System.arraycopy(data, i, out, outLength, run - i);
                    outLength += run - i;
                    i = run - 1;
                    continue;
                }
            }
            accept(b & 0xff);
        }
    }

    @Override
    public synchronized void flush() throws IOException {
        terminal.flush();
    }

    /** Flushes; the terminal's stream stays open (it is this process's stdout). */
    @Override
    public void close() throws IOException {
        flush();
    }

    /** How many bytes of the cage's output are held back, waiting for the rest of a sequence or character. */
    int heldBytes() {
        return sequenceLength + characterLength * (characterMissing > 0 ? 1 : 0) + stringHeadLength;
    }

    /** What was dropped so far. */
    public synchronized DroppedControls dropped() {
        return new DroppedControls(dropped);
    }

    /**
     * Writes what puts the terminal back as it was before the cage's output, for the modes the cage
     * left set: the alternate screen, hidden cursor, mouse and focus reports, bracketed paste,
     * keyboard protocols, colours, the scroll region, the line-drawing character set. A sequence
     * cut off by the end of the output is dropped.
     */
    public synchronized void restore() throws IOException {
        if (state == State.STRING || state == State.STRING_ESCAPE) {
            count(stringKind());
        }
        state = State.GROUND;
        characterMissing = 0;
        characterLength = 0;
        byte[] restore = modes.restore();
        if (restore.length > 0) {
            terminal.write(restore);
        }
        terminal.flush();
    }

    private void accept(int b) {
        switch (state) {
            case GROUND -> ground(b);
            case ESCAPE -> escape(b);
            case CSI -> csi(b);
            case CSI_IGNORE -> csiIgnore(b);
            case STRING -> string(b);
            case STRING_ESCAPE -> stringEscape(b);
            default -> throw new IllegalStateException(state.toString());
        }
    }

    private void ground(int b) {
        if (characterMissing > 0) {
            if (b >= nextLow && b <= nextHigh) {
                character[characterLength++] = (byte) b;
                codePoint = codePoint << 6 | (b & 0x3f);
                nextLow = 0x80;
                nextHigh = 0xbf;
                if (--characterMissing == 0) {
                    character(codePoint);
                }
                return;
            }
            // A character cut short: a terminal shows the replacement character, then reads on from this byte.
            characterMissing = 0;
            emit(REPLACEMENT);
        }
        if (b >= 0x20 && b < 0x7f) {
            emit(b);
        } else if (b < 0x20) {
            control(b);
        } else if (b == 0x7f) {
            // DEL: terminals ignore it.
            return;
        } else if (b < 0xa0) {
            c1(b);
        } else if (b >= 0xc2 && b <= 0xf4) {
            startCharacter(b);
        } else {
            emit(REPLACEMENT);
        }
    }

    private void startCharacter(int b) {
        character[0] = (byte) b;
        characterLength = 1;
        nextLow = 0x80;
        nextHigh = 0xbf;
        if (b < 0xe0) {
            characterMissing = 1;
            codePoint = b & 0x1f;
        } else if (b < 0xf0) {
            characterMissing = 2;
            codePoint = b & 0x0f;
            // No overlong forms, no surrogates.
            nextLow = b == 0xe0 ? 0xa0 : 0x80;
            nextHigh = b == 0xed ? 0x9f : 0xbf;
        } else {
            characterMissing = 3;
            codePoint = b & 0x07;
            // No overlong forms, nothing above U+10FFFF.
            nextLow = b == 0xf0 ? 0x90 : 0x80;
            nextHigh = b == 0xf4 ? 0x8f : 0xbf;
        }
    }

    private void character(int point) {
        if (point < 0xa0) {
            // U+0080 to U+009F: a terminal in UTF-8 mode may take these as C1 controls.
            c1(point);
            return;
        }
        emit(character, characterLength);
    }

    /** A C0 control in the ground state, or executed in the middle of a sequence as a terminal does. */
    private void control(int b) {
        switch (b) {
            // BEL, BS, HT, LF, VT, FF, CR, SO, SI: what text and full-screen programs use.
            case 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d -> emit(b);
            case 0x0e, 0x0f -> {
                modes.shift(b == 0x0e);
                emit(b);
            }
            case 0x1b -> enterEscape();
            // ENQ: the terminal answers with its answerback message.
            case 0x05 -> count(Kind.REPORT);
            // NUL, CAN, SUB and the rest: nothing a terminal shows.
            default -> {
            }
        }
    }

    /** An 8-bit C1 control, as a byte or as a UTF-8 character: the introducers start what they introduce, to be dropped. */
    private void c1(int b) {
        switch (b) {
            case 0x9b -> {
                enterCsi();
                eightBit = true;
            }
            case 0x9d -> enterString(StringType.OSC);
            case 0x90 -> enterString(StringType.DCS);
            case 0x98, 0x9e, 0x9f -> enterString(StringType.OTHER);
            // ST without a string: nothing to do.
            case 0x9c -> {
            }
            default -> count(Kind.OTHER);
        }
    }

    private void enterEscape() {
        state = State.ESCAPE;
        sequenceLength = 0;
    }

    private void enterCsi() {
        state = State.CSI;
        sequenceLength = 0;
        eightBit = false;
    }

    private void enterString(StringType type) {
        state = State.STRING;
        stringType = type;
        stringHeadLength = 0;
    }

    private void escape(int b) {
        if (b >= 0x20 && b <= 0x2f) {
            // Intermediates: ESC ( 0 and ESC ) B designate character sets.
            if (sequenceLength < 2) {
                sequence[sequenceLength] = (byte) b;
            }
            // Counted up to three: more than one intermediate is never passed on.
            sequenceLength = Math.min(sequenceLength + 1, 3);
            return;
        }
        if (b >= 0x30 && b <= 0x7e) {
            if (sequenceLength == 0) {
                switch (b) {
                    case '[' -> {
                        enterCsi();
                        return;
                    }
                    case ']' -> {
                        enterString(StringType.OSC);
                        return;
                    }
                    case 'P' -> {
                        enterString(StringType.DCS);
                        return;
                    }
                    case 'X', '^', '_' -> {
                        enterString(StringType.OTHER);
                        return;
                    }
                    default -> {
                    }
                }
            }
            state = State.GROUND;
            escapeDispatch(b);
            return;
        }
        if (!cancelOrExecute(b) && b >= 0x80) {
            // Not a sequence a terminal knows; the byte starts over as text.
            state = State.GROUND;
            count(Kind.OTHER);
            ground(b);
        }
    }

    private void escapeDispatch(int b) {
        if (sequenceLength == 0) {
            switch (b) {
                // DECSC, DECRC, keypad modes, RIS, IND, NEL, HTS, RI.
                case '7', '8', 'c', 'D', 'E', 'H', 'M' -> {
                    if (b == 'c') {
                        modes.reset();
                    }
                    emitEscape(b);
                }
                case '=', '>' -> {
                    modes.keypad(b == '=');
                    emitEscape(b);
                }
                // DECID: the terminal answers as to DA.
                case 'Z' -> count(Kind.REPORT);
                // ST without a string.
                case '\\' -> {
                }
                default -> count(Kind.OTHER);
            }
            return;
        }
        int intermediate = sequence[0];
        if (sequenceLength == 1 && (intermediate == '(' || intermediate == ')') && (b == '0' || b == 'A' || b == 'B')) {
            if (intermediate == '(') {
                modes.lineDrawing(false, b == '0');
            } else {
                modes.lineDrawing(true, b == '0');
            }
            emit(ESC);
            emit(intermediate);
            emit(b);
            return;
        }
        // ESC SP G (8-bit replies), ESC # 8, ESC % @ (leave UTF-8) and the like.
        count(Kind.OTHER);
    }

    private void emitEscape(int b) {
        emit(ESC);
        emit(b);
    }

    private void csi(int b) {
        if (b >= 0x20 && b <= 0x3f) {
            if (sequenceLength == MAX_SEQUENCE || !fitsCsi(b)) {
                state = State.CSI_IGNORE;
                return;
            }
            sequence[sequenceLength++] = (byte) b;
            return;
        }
        if (b >= 0x40 && b <= 0x7e) {
            state = State.GROUND;
            csiDispatch(b);
            return;
        }
        // The sequence has not acted yet, so a C0 control executed in its middle may go first.
        if (!cancelOrExecute(b) && b >= 0x80) {
            state = State.CSI_IGNORE;
        }
    }

    /** Whether {@code b} may come next in a CSI: a private marker first, then parameters, then intermediates. */
    private boolean fitsCsi(int b) {
        boolean sawIntermediate = sequenceLength > 0 && sequence[sequenceLength - 1] <= 0x2f;
        if (b <= 0x2f) {
            return true;
        }
        if (sawIntermediate) {
            return false;
        }
        return b <= 0x3b || sequenceLength == 0;
    }

    private void csiIgnore(int b) {
        if (b >= 0x40 && b <= 0x7e) {
            state = State.GROUND;
            count(Kind.OTHER);
        } else {
            cancelOrExecute(b);
        }
    }

    /**
     * Inside an escape sequence, as in a terminal: CAN and SUB cancel it, and any other C0 control is
     * executed in place. Whether {@code b} was one of those.
     */
    private boolean cancelOrExecute(int b) {
        if (b == 0x18 || b == 0x1a) {
            state = State.GROUND;
            return true;
        }
        if (b < 0x20) {
            control(b);
            return true;
        }
        return false;
    }

    private void csiDispatch(int b) {
        if (!eightBit && isPlainDrawing(b)) {
            // Most sequences on a screen (colours, cursor movement, erase): passed without parsing them into a record.
            modes.drawn(b, sequenceLength > 0);
            emitCsi(b);
            return;
        }
        Csi csi = Csi.parse(sequence, sequenceLength, b);
        Kind kind = csi.dropKind();
        if (kind == null && eightBit) {
            kind = Kind.OTHER;
        }
        if (kind != null) {
            count(kind);
            return;
        }
        modes.apply(csi);
        emitCsi(b);
    }

    /** A CSI without private marker or intermediates, whose final always passes (whatever its parameters). */
    private boolean isPlainDrawing(int b) {
        if (b == 'h' || b == 'l' || b == 'T' || PLAIN_CSI_FINALS.indexOf(b) < 0) {
            return false;
        }
        for (int i = 0; i < sequenceLength; i++) {
            if (sequence[i] < 0x30 || sequence[i] > 0x3b) {
                return false;
            }
        }
        return true;
    }

    private void emitCsi(int b) {
        emit(ESC);
        emit('[');
        emit(sequence, sequenceLength);
        emit(b);
    }

    private void string(int b) {
        switch (b) {
            case 0x1b -> state = State.STRING_ESCAPE;
            // BEL ends an OSC (and, in some terminals, the others); CAN and SUB cancel.
            case 0x07, 0x18, 0x1a -> endString();
            default -> {
                if (stringHeadLength < STRING_HEAD) {
                    stringHead[stringHeadLength++] = (byte) b;
                }
            }
        }
    }

    private void stringEscape(int b) {
        endString();
        if (b != '\\') {
            // ESC ends the string and starts a sequence of its own.
            enterEscape();
            escape(b);
        }
    }

    private void endString() {
        state = State.GROUND;
        count(stringKind());
    }

    private Kind stringKind() {
        String head = new String(stringHead, 0, stringHeadLength, java.nio.charset.StandardCharsets.ISO_8859_1);
        if (stringType == StringType.DCS) {
            // DECRQSS (DCS $ q) and XTGETTCAP (DCS + q) ask the terminal for its settings.
            return head.startsWith("$q") || head.startsWith("+q") ? Kind.REPORT : Kind.OTHER;
        }
        if (stringType != StringType.OSC) {
            return Kind.OTHER;
        }
        int semicolon = head.indexOf(';');
        String number = semicolon < 0 ? head : head.substring(0, semicolon);
        switch (number) {
            case "0", "1", "2" -> {
                return Kind.TITLE;
            }
            case "8" -> {
                return Kind.HYPERLINK;
            }
            case "52" -> {
                return Kind.CLIPBOARD;
            }
            default -> {
                // Colour, font and other queries have "?" where a value would be: the terminal answers.
                return semicolon >= 0 && head.indexOf('?', semicolon) >= 0 ? Kind.REPORT : Kind.OTHER;
            }
        }
    }

    private void count(Kind kind) {
        dropped.merge(kind, 1, Integer::sum);
    }

    private void emit(int b) {
        out[outLength++] = (byte) b;
    }

    private void emit(byte[] bytes) {
        emit(bytes, bytes.length);
    }

    private void emit(byte[] bytes, int length) {
        System.arraycopy(bytes, 0, out, outLength, length);
        outLength += length;
    }

    /** A whole CSI sequence: private marker (or 0), parameters, intermediates and final. */
    record Csi(char marker, String parameters, String intermediates, char finalByte) {

        static Csi parse(byte[] body, int length, int finalByte) {
            int i = 0;
            char marker = 0;
            if (length > 0 && body[0] >= 0x3c && body[0] <= 0x3f) {
                marker = (char) body[0];
                i = 1;
            }
            int parametersStart = i;
            while (i < length && body[i] >= 0x30) {
                i++;
            }
            String parameters = new String(body, parametersStart, i - parametersStart, java.nio.charset.StandardCharsets.US_ASCII);
            String intermediates = new String(body, i, length - i, java.nio.charset.StandardCharsets.US_ASCII);
            return new Csi(marker, parameters, intermediates, (char) finalByte);
        }

        /** The parameters as numbers, an empty one as 0, sub-parameters (after ':') left out; null for a private marker among them. */
        int[] numbers() {
            if (parameters.isEmpty()) {
                return new int[0];
            }
            String[] fields = parameters.split(";", -1);
            int[] numbers = new int[fields.length];
            for (int i = 0; i < fields.length; i++) {
                String field = fields[i];
                int colon = field.indexOf(':');
                String value = colon < 0 ? field : field.substring(0, colon);
                if (value.length() > 6) {
                    numbers[i] = Integer.MAX_VALUE;
                } else {
                    numbers[i] = value.isEmpty() ? 0 : Integer.parseInt(value);
                }
            }
            return numbers;
        }

        /** Why this sequence is dropped, or null when it passes. */
        Kind dropKind() {
            if (intermediates.isEmpty()) {
                return switch (marker) {
                    case 0 -> plain();
                    case '?' -> decPrivate();
                    case '>' -> switch (finalByte) {
                        // Kitty keyboard protocol: push flags. XTMODKEYS: modifyOtherKeys and the like.
                        case 'u', 'm' -> null;
                        // DA2, XTVERSION.
                        case 'c', 'q' -> Kind.REPORT;
                        default -> Kind.OTHER;
                    };
                    // Kitty keyboard protocol: pop, set.
                    case '<' -> finalByte == 'u' ? null : Kind.OTHER;
                    case '=' -> finalByte == 'u' ? null : finalByte == 'c' ? Kind.REPORT : Kind.OTHER;
                    default -> Kind.OTHER;
                };
            }
            if (marker == 0 && intermediates.equals(" ") && finalByte == 'q') {
                // DECSCUSR: the cursor's shape.
                return null;
            }
            if (marker == 0 && intermediates.equals("!") && finalByte == 'p') {
                // DECSTR: soft reset.
                return null;
            }
            if (intermediates.equals("$") && (finalByte == 'p' || finalByte == 'w')) {
                // DECRQM, DECRQPSR.
                return Kind.REPORT;
            }
            return Kind.OTHER;
        }

        private Kind plain() {
            if (finalByte == 'n' || finalByte == 'c' || finalByte == 'x') {
                // DSR (CSI 6n: the cursor position is typed back), DA, DECREQTPARM.
                return Kind.REPORT;
            }
            if (finalByte == 't') {
                int[] numbers = numbers();
                return numbers.length > 0 && WINDOW_REPORTS.contains(numbers[0]) ? Kind.REPORT : Kind.WINDOW;
            }
            if (finalByte == 'h' || finalByte == 'l') {
                // Only IRM (insert mode); KAM would lock the keyboard.
                int[] modes = numbers();
                for (int mode : modes) {
                    if (mode != 4) {
                        return Kind.OTHER;
                    }
                }
                return modes.length == 0 ? Kind.OTHER : null;
            }
            if (finalByte == 'T' && parameters.contains(";")) {
                // With five parameters, xterm's highlight mouse tracking, which reports back.
                return Kind.REPORT;
            }
            return PLAIN_CSI_FINALS.indexOf(finalByte) >= 0 ? null : Kind.OTHER;
        }

        private Kind decPrivate() {
            switch (finalByte) {
                case 'h', 'l' -> {
                    int[] numbers = numbers();
                    if (numbers.length == 0) {
                        return Kind.OTHER;
                    }
                    for (int mode : numbers) {
                        if (!PRIVATE_MODES.contains(mode)) {
                            return Kind.OTHER;
                        }
                    }
                    return null;
                }
                // DECSED, DECSEL: selective erase.
                case 'J', 'K' -> {
                    return null;
                }
                // DECDSR, the kitty keyboard flags, XTQMODKEYS, XTSMGRAPHICS.
                case 'n', 'u', 'm', 'S' -> {
                    return Kind.REPORT;
                }
                default -> {
                    return Kind.OTHER;
                }
            }
        }
    }

    /**
     * The modes the cage's output set on the terminal, as far as they differ from a terminal's
     * defaults, so that they end with the cage's output and do not stay with the user's shell.
     */
    static final class TerminalModes {
        private static final Set<Integer> ON_BY_DEFAULT = Set.of(7, 25);
        /** Cursor blink and the meta key follow the user's own settings; 1048 saves and restores the cursor, an act, not a mode. */
        private static final Set<Integer> NOT_RESTORED = Set.of(12, 1036, 1039, 1048);

        private final Map<Integer, Boolean> privateModes = new TreeMap<>();
        private final Set<Integer> keyModifiers = new java.util.TreeSet<>();
        private int keyboardPushes;
        private boolean keyboardSet;
        private boolean colours;
        private boolean scrollRegion;
        private boolean insert;
        private boolean cursorShape;
        private boolean keypad;
        private boolean g0LineDrawing;
        private boolean g1LineDrawing;
        private boolean shiftedOut;

        void reset() {
            privateModes.clear();
            keyModifiers.clear();
            keyboardPushes = 0;
            keyboardSet = false;
            colours = false;
            scrollRegion = false;
            insert = false;
            cursorShape = false;
            keypad = false;
            g0LineDrawing = false;
            g1LineDrawing = false;
            shiftedOut = false;
        }

        void shift(boolean out) {
            shiftedOut = out;
        }

        void keypad(boolean application) {
            keypad = application;
        }

        void lineDrawing(boolean g1, boolean on) {
            if (g1) {
                g1LineDrawing = on;
            } else {
                g0LineDrawing = on;
            }
        }

        void apply(Csi csi) {
            int[] numbers = csi.numbers();
            if (!csi.intermediates().isEmpty()) {
                if (csi.finalByte() == 'q') {
                    cursorShape = numbers.length > 0 && numbers[0] != 0;
                } else {
                    // DECSTR.
                    insert = false;
                    keypad = false;
                    privateModes.remove(6);
                    privateModes.remove(7);
                    privateModes.remove(25);
                }
                return;
            }
            switch (csi.marker()) {
                case '?' -> {
                    if (csi.finalByte() == 'h' || csi.finalByte() == 'l') {
                        for (int mode : numbers) {
                            if (!NOT_RESTORED.contains(mode)) {
                                privateModes.put(mode, csi.finalByte() == 'h');
                            }
                        }
                    }
                }
                case '>' -> {
                    if (csi.finalByte() == 'u') {
                        keyboardPushes++;
                    } else if (numbers.length > 0) {
                        keyModifiers.add(numbers[0]);
                    }
                }
                case '<' -> keyboardPushes = Math.max(0, keyboardPushes - Math.max(1, numbers.length > 0 ? numbers[0] : 1));
                case '=' -> keyboardSet = true;
                default -> {
                    if (csi.finalByte() == 'h' || csi.finalByte() == 'l') {
                        insert = csi.finalByte() == 'h';
                    } else {
                        drawn(csi.finalByte(), !csi.parameters().isEmpty());
                    }
                }
            }
        }

        /** A CSI without marker or intermediates that passed: colours and the scroll region stay set. */
        void drawn(int finalByte, boolean parameters) {
            if (finalByte == 'm') {
                colours = true;
            } else if (finalByte == 'r') {
                scrollRegion = parameters;
            }
        }

        byte[] restore() {
            StringBuilder restore = new StringBuilder();
            appendIf(restore, shiftedOut, "\u000f");
            appendIf(restore, g0LineDrawing, "\u001b(B");
            appendIf(restore, g1LineDrawing, "\u001b)B");
            appendIf(restore, colours, "\u001b[0m");
            appendIf(restore, insert, "\u001b[4l");
            // DECSTBM homes the cursor: saved and restored around it.
            appendIf(restore, scrollRegion, "\u001b7\u001b[r\u001b8");
            appendIf(restore, cursorShape, "\u001b[0 q");
            appendIf(restore, keypad, "\u001b>");
            if (keyboardPushes > 0) {
                restore.append("\u001b[<").append(keyboardPushes).append('u');
            }
            if (keyboardSet) {
                restore.append("\u001b[=0u");
            }
            for (int resource : keyModifiers) {
                restore.append("\u001b[>").append(resource).append('m');
            }
            privateModes.forEach((mode, on) -> {
                boolean byDefault = ON_BY_DEFAULT.contains(mode);
                if (on != byDefault) {
                    restore.append("\u001b[?").append(mode).append(byDefault ? 'h' : 'l');
                }
            });
            reset();
            return restore.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        }

        private static void appendIf(StringBuilder restore, boolean set, String sequence) {
            if (set) {
                restore.append(sequence);
            }
        }
    }
}
