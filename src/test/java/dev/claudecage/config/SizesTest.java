package dev.claudecage.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SizesTest {

    @ParameterizedTest(name = "{0} is {1} bytes")
    @CsvSource({
            "1024, 1024",
            "1b, 1",
            "1k, 1024",
            "512m, 536870912",
            "4g, 4294967296",
            "4G, 4294967296",
            "4gb, 4294967296",
            "4GB, 4294967296",
            "2t, 2199023255552",
            "' 16m ', 16777216"})
    void parsesWholeNumbersWithBinaryUnits(String text, long bytes) {
        assertEquals(OptionalLong.of(bytes), Sizes.parse(text));
    }

    @ParameterizedTest(name = "''{0}'' is not a size")
    @ValueSource(strings = {"4q", "", "g", "-1g", "1.5g", "4 g", "4bb", "0x10", "99999999999t"})
    void refusesAnythingElse(String text) {
        assertEquals(OptionalLong.empty(), Sizes.parse(text));
    }

    @ParameterizedTest(name = "{0} bytes print as {1}")
    @CsvSource({"4294967296, 4g", "1048576, 1m", "1536, 1536b", "1572864, 1536k", "0, 0b", "1099511627776, 1t"})
    void formatsWithTheLargestExactUnit(long bytes, String text) {
        assertEquals(text, Sizes.format(bytes));
    }

    @Test
    void formattedSizesParseBackToTheSameBytes() {
        for (long bytes : new long[] {1, 1023, 1024, 16L << 20, 3L << 30, (5L << 40) + 1, 7L << 50}) {
            assertEquals(OptionalLong.of(bytes), Sizes.parse(Sizes.format(bytes)), Sizes.format(bytes));
        }
    }
}
