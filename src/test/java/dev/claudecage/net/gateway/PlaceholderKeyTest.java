package dev.claudecage.net.gateway;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlaceholderKeyTest {

    @Test
    void generatesThePrefixAnd32UrlSafeCharacters() {
        PlaceholderKey key = PlaceholderKey.generate();

        assertTrue(key.value().matches("sk-ant-cage-[A-Za-z0-9_-]{32}"), key.value());
        assertEquals(key.value(), key.toString());
        assertEquals(key, new PlaceholderKey(key.value()));
    }

    @Test
    void generatesADifferentKeyEachTime() {
        Set<String> keys = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            keys.add(PlaceholderKey.generate().value());
        }
        assertEquals(1000, keys.size());
    }

    @ParameterizedTest(name = "''{0}'' is not a placeholder")
    @ValueSource(strings = {"", "sk-ant-cage-", "sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "sk-ant-cage-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "sk-ant-cage-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "sk-ant-cage-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "sk-ant-cage-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"})
    void refusesAnythingElse(String value) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new PlaceholderKey(value));
        assertTrue(e.getMessage().contains("sk-ant-cage-"), e.getMessage());
    }
}
