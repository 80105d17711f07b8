package dev.claudecage.image.build;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** COPY --parents: which leading part of a source the copy leaves out of the path it keeps. */
class CopyParentsTest {

    @Test
    void withoutAPivotTheWholePathBelowTheContextIsKept() {
        assertEquals("", ImageBuilder.parentsPivot("x/a.txt"));
        assertEquals("", ImageBuilder.parentsPivot("./x/a.txt"), "a leading ./ is the context itself");
        assertEquals("", ImageBuilder.parentsPivot("/x/*.txt"));
    }

    @Test
    void aSlashDotSlashMarksWhereTheKeptPathStarts() {
        assertEquals("tree", ImageBuilder.parentsPivot("tree/./a/"));
        assertEquals("src/app", ImageBuilder.parentsPivot("./src/app/./lib/*.py"));
        assertEquals("a", ImageBuilder.parentsPivot("a/./b/./c"), "the first marker counts");
        assertThrows(IllegalArgumentException.class, () -> ImageBuilder.parentsPivot("../x/./y"),
                "a pivot outside the context is refused like any source outside it");
    }
}
