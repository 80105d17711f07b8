package dev.claudecage.security;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SeccompMaskedValueTest {

    @Test
    void complementMatchesExactlyTheValuesNotExcludedUnderTheMask() {
        long mask = 0xFF;
        List<Long> excluded = List.of(0x12L, 0x1CL);
        List<SeccompMaskedValue> tests = SeccompMaskedValue.complement(mask, excluded);

        for (long argument = 0; argument < 0x400; argument++) {
            assertEquals(!excluded.contains(argument & mask), matchesAny(tests, argument), "argument " + argument);
        }
    }

    @Test
    void complementIgnoresBitsOutsideTheMask() {
        long mask = 0xFFFF_FFFFL;
        List<Long> excluded = List.of(0x5412L);
        List<SeccompMaskedValue> tests = SeccompMaskedValue.complement(mask, excluded);
        Random random = new Random(7);

        for (int i = 0; i < 10_000; i++) {
            long argument = random.nextLong();
            assertEquals((argument & mask) != 0x5412L, matchesAny(tests, argument), Long.toHexString(argument));
            long sameLowBits = (argument & ~mask) | 0x5412L;
            assertFalse(matchesAny(tests, sameLowBits), Long.toHexString(sameLowBits));
        }
    }

    @Test
    void complementOfOneValueNeedsOneTestPerMaskBit() {
        List<SeccompMaskedValue> tests = SeccompMaskedValue.complement(0xFFFF_FFFFL, List.of(0x5412L));

        assertEquals(32, tests.size());
        assertTrue(tests.stream().allMatch(test -> Long.bitCount(test.mask()) <= 32 && (test.mask() >>> 32) == 0));
    }

    @Test
    void complementOfNothingExcludedIsTheWholeRange() {
        assertEquals(List.of(new SeccompMaskedValue(0, 0)), SeccompMaskedValue.complement(0xFF, List.of()));
    }

    private static boolean matchesAny(List<SeccompMaskedValue> tests, long argument) {
        return tests.stream().anyMatch(test -> (argument & test.mask()) == test.value());
    }
}
