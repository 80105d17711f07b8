package dev.claudecage.session;

import dev.claudecage.UserInputException;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SessionNameTest {

    @Test
    void acceptsLowercaseLettersDigitsAndDashes() {
        for (String good : new String[] {"a", "0", "my-project", "brisk-otter-2", "a".repeat(32), "9lives"}) {
            assertEquals(good, SessionName.of(good).value());
        }
    }

    @Test
    void refusesPathTricksOptionsAndOddCharacters() {
        for (String bad : new String[] {"", ".", "..", "../etc", "a/b", "/abs", "-rf", "--help", "A", "a b", "a.b",
                "a_b", "a\0b", "a\nb", "é", "a".repeat(33), "x/../y"}) {
            UserInputException error = assertThrows(UserInputException.class, () -> SessionName.of(bad), bad);
            assertTrue(error.getMessage().contains("lowercase letters"), error.getMessage());
            assertFalse(SessionName.isValid(bad), bad);
        }
        assertFalse(SessionName.isValid(null));
    }

    @Test
    void generatedNamesAreReadableValidAndFree() {
        Random random = new Random(42);
        Set<String> taken = new HashSet<>();
        for (int i = 0; i < 300; i++) {
            SessionName name = SessionName.generate(taken, random);
            assertTrue(name.value().matches("[a-z]+-[a-z]+(-\\d+)?"), name.value());
            assertTrue(taken.add(name.value()), "generated a taken name: " + name);
        }
    }
}
