package dev.claudecage.host;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class UntrustedTextTest {

    @Test
    void attack5_aLineThatRewritesItselfOnATerminalShowsWhatItIs() {
        assertEquals("+evil()\\r\\x1b[2K+print(1)\n", UntrustedText.escape("+evil()\r\u001b[2K+print(1)\n"));
    }

    @Test
    void attack5_anOsc52ClipboardWriteIsShownNotSent() {
        assertEquals("\\x1b]52;c;Y3VybCBldmlsIHwgc2g=\\x07", UntrustedText.escape("\u001b]52;c;Y3VybCBldmlsIHwgc2g=\u0007"));
    }

    @Test
    void everyOtherControlCharacterAndBidiControlIsShownVisibly() {
        assertEquals("\\x00\\x08\\x7f\\u009b\\u0085\\u202e\\u2066\\u2069\\u200f\\u061c",
                UntrustedText.escape("\u0000\b\u007f\u009b\u0085\u202e\u2066\u2069\u200f\u061c"));
    }

    @Test
    void positiveControlOrdinaryTextStaysAsItIs() {
        String text = "diff --git a/résumé.md b/résumé.md\n+\tindented \\x1b stays, 日本語 and emoji 🙂\n";
        assertSame(text, UntrustedText.escape(text));
    }

    @Test
    void anExcerptForAnErrorMessageIsEscapedAndBounded() {
        assertEquals("GET /\\x1b[2J HTTP/1.1", UntrustedText.excerpt("GET /\u001b[2J HTTP/1.1"));
        String longLine = "x".repeat(UntrustedText.EXCERPT_CHARS) + "\u001b[2J";
        assertEquals("x".repeat(UntrustedText.EXCERPT_CHARS) + "...", UntrustedText.excerpt(longLine),
                "what is cut is not shown, escaped or not");
        assertEquals("short", UntrustedText.excerpt("short"));
    }

    @Test
    void aLineForATableCellIsEscapedWholeOnOneLine() {
        String longText = "x".repeat(300);
        assertEquals(longText, UntrustedText.escapeLine(longText), "not cut, unlike an excerpt");
        assertEquals("a\\nfake-row\\t\\x1b[2K", UntrustedText.escapeLine("a\nfake-row\t\u001b[2K"));
    }
}
