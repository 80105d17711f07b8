package dev.claudecage.config;

import dev.claudecage.UserInputException;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DurationsTest {

    @Test
    void parsesUnitsAndCombinations() {
        assertEquals(Duration.ofSeconds(90), Durations.parse("90s", "--since"));
        assertEquals(Duration.ofMinutes(10), Durations.parse("10m", "--since"));
        assertEquals(Duration.ofMinutes(90), Durations.parse("1h30m", "--since"));
        assertEquals(Duration.ofDays(2), Durations.parse("2d", "--since"));
    }

    @Test
    void refusesWhatIsNotADuration() {
        for (String bad : new String[] {"", "10", "m", "1.5h", "-1m", "10 m", "1y"}) {
            UserInputException error = assertThrows(UserInputException.class, () -> Durations.parse(bad, "--since"));
            assertTrue(error.getMessage().startsWith("--since: '" + bad + "' is not a duration"), error.getMessage());
        }
    }

    @Test
    void formatsTheTwoLargestUnits() {
        assertEquals("12s", Durations.format(Duration.ofSeconds(12)));
        assertEquals("4m10s", Durations.format(Duration.ofSeconds(250)));
        assertEquals("2h5m", Durations.format(Duration.ofMinutes(125)));
        assertEquals("3d4h", Durations.format(Duration.ofHours(76)));
    }
}
