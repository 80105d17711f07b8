package dev.claudecage.host;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RandomNamesTest {

    @Test
    void givesTwoHexDigitsPerByte() {
        assertTrue(RandomNames.hex(6).matches("[0-9a-f]{12}"));
        assertTrue(RandomNames.hex(32).matches("[0-9a-f]{64}"));
    }

    @Test
    void namesDoNotRepeat() {
        Set<String> names = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            names.add(RandomNames.hex(6));
        }
        assertEquals(1000, names.size());
    }
}
