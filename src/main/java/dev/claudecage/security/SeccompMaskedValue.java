package dev.claudecage.security;

import java.util.ArrayList;
import java.util.List;

/**
 * One SCMP_CMP_MASKED_EQ test: the argument matches when {@code (argument & mask) == value}.
 *
 * <p>"Anything but these values" cannot be written as a deny rule next to an allow rule, because
 * libseccomp 2.5 drops argument rules on a syscall that also has an unconditional rule, nor as
 * one allow rule with several != conditions, because runc 1.1 splits conditions on the same
 * argument into separate, OR-ed rules. It can be written as several allow rules, each fixing
 * some bits, whose union is exactly the values allowed; {@link #complement} finds them.
 */
record SeccompMaskedValue(long mask, long value) {

    /**
     * Tests whose union matches every argument whose bits under {@code mask} equal none of
     * {@code excluded}; bits outside the mask are ignored. Walks the mask's bits from the highest
     * down, emitting a test as soon as the fixed bits rule out every excluded value: one test per
     * bit for a single value, and few more for values that share their high bits.
     */
    static List<SeccompMaskedValue> complement(long mask, List<Long> excluded) {
        List<SeccompMaskedValue> tests = new ArrayList<>();
        split(mask, excluded, 0L, 0L, tests);
        return tests;
    }

    private static void split(long mask, List<Long> excluded, long fixedBits, long fixedValue,
                              List<SeccompMaskedValue> tests) {
        List<Long> stillPossible = excluded.stream()
                .filter(value -> (value & fixedBits) == fixedValue)
                .toList();
        if (stillPossible.isEmpty()) {
            tests.add(new SeccompMaskedValue(fixedBits, fixedValue));
            return;
        }
        long freeBits = mask & ~fixedBits;
        if (freeBits == 0) {
            return;
        }
        long bit = Long.highestOneBit(freeBits);
        split(mask, stillPossible, fixedBits | bit, fixedValue, tests);
        split(mask, stillPossible, fixedBits | bit, fixedValue | bit, tests);
    }
}
