package dev.claudecage.host;

/**
 * Text the cage controls (file names, file contents, commit messages, log lines) as it may be
 * shown on a terminal. A terminal obeys control sequences in what it prints: a carriage return and
 * ESC [2K rewrite the line just shown, OSC 52 sets the clipboard, and bidi overrides reorder what
 * the eye reads (Trojan Source). Line feeds and tabs stay; backslashes are not doubled, so text
 * that itself reads {@code \x1b} looks the same as an escaped ESC, which can only make harmless
 * text look suspicious, never hide anything.
 */
public final class UntrustedText {

    /** How much of a line from the cage, or a helper's error output, an error message quotes. */
    public static final int EXCERPT_CHARS = 200;

    private UntrustedText() {
    }

    /**
     * {@code text} with every control character and bidi control shown visibly: {@code \r}, C0
     * controls other than line feed and tab, and DEL as {@code \xNN}; C1 controls (U+0080 to
     * U+009F, which some terminals take as ESC sequences) and the bidi marks, embeddings,
     * overrides and isolates (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069) as
     * <code>&#92;uNNNN</code>.
     */
    public static String escape(String text) {
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            String shown = shown(c);
            if (shown != null && out == null) {
                out = new StringBuilder(text.length() + 16).append(text, 0, i);
            }
            if (out != null) {
                if (shown != null) {
                    out.append(shown);
                } else {
                    out.append(c);
                }
            }
        }
        return out == null ? text : out.toString();
    }

    /** The first {@value #EXCERPT_CHARS} characters of {@code text}, escaped, and "..." when there were more: for an error message. */
    public static String excerpt(String text) {
        return text.length() <= EXCERPT_CHARS ? escape(text) : escape(text.substring(0, EXCERPT_CHARS)) + "...";
    }

    /** {@link #excerpt}, with line feeds and tabs shown as {@code \n} and {@code \t} too: for one line of a report. */
    public static String excerptLine(String text) {
        return excerpt(text).replace("\n", "\\n").replace("\t", "\\t");
    }

    /** {@link #escape}, with line feeds and tabs shown as {@code \n} and {@code \t} too: for one line or a table's cell, whole. */
    public static String escapeLine(String text) {
        return escape(text).replace("\n", "\\n").replace("\t", "\\t");
    }

    /** How {@code c} is shown, or null when it is shown as itself. */
    private static String shown(char c) {
        if (c == '\n' || c == '\t') {
            return null;
        }
        if (c == '\r') {
            return "\\r";
        }
        if (c < 0x20 || c == 0x7f) {
            return String.format("\\x%02x", (int) c);
        }
        if ((c >= 0x80 && c <= 0x9f) || c == 0x061c || c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e)
                || (c >= 0x2066 && c <= 0x2069)) {
            return String.format("\\u%04x", (int) c);
        }
        return null;
    }
}
