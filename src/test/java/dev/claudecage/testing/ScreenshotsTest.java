package dev.claudecage.testing;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScreenshotsTest {

    /** A probe's detail can quote the cage: in the picture's page it is text, never markup that runs. */
    @Test
    void theTerminalsTextIsEscapedInItsPage() {
        String page = Screenshots.terminalPage("probe  <script>alert(1)</script> & <img src=x onerror=y>\nnext line");
        assertFalse(page.contains("<script>alert"), page);
        assertFalse(page.contains("<img"), page);
        assertTrue(page.contains("probe  &lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img src=x onerror=y&gt;\nnext line"), page);
    }
}
