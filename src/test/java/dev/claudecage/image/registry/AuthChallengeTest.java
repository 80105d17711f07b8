package dev.claudecage.image.registry;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class AuthChallengeTest {

    @Test
    void readsDockerHubsBearerChallenge() {
        List<AuthChallenge> challenges = AuthChallenge.parse(List.of("Bearer realm=\"https://auth.docker.io/token\","
                + "service=\"registry.docker.io\",scope=\"repository:library/debian:pull\""));
        assertEquals(List.of(new AuthChallenge("bearer", Map.of("realm", "https://auth.docker.io/token",
                "service", "registry.docker.io", "scope", "repository:library/debian:pull"))), challenges);
    }

    @Test
    void readsUnquotedValuesSpacesEscapesAndTheErrorParameter() {
        List<AuthChallenge> challenges = AuthChallenge.parse(List.of("bearer  Realm = http://127.0.0.1:5001/token , "
                + "service=\"it \\\"registry\\\"\", error=\"insufficient_scope\""));
        assertEquals(List.of(new AuthChallenge("bearer", Map.of("realm", "http://127.0.0.1:5001/token",
                "service", "it \"registry\"", "error", "insufficient_scope"))), challenges);
    }

    @Test
    void findsEachChallengeInOneHeaderOrSeveral() {
        List<AuthChallenge> challenges = AuthChallenge.parse(List.of("Basic realm=\"Registry Realm\", Bearer "
                + "realm=\"https://auth.example/token\",service=\"example\"", "Negotiate"));
        assertEquals(List.of("basic", "bearer", "negotiate"), challenges.stream().map(AuthChallenge::scheme).toList());
        assertEquals("Registry Realm", challenges.get(0).parameter("realm").orElseThrow());
        assertEquals("https://auth.example/token",
                AuthChallenge.find(challenges, "bearer").orElseThrow().parameter("realm").orElseThrow());
        assertEquals(Map.of(), challenges.get(2).parameters());
    }

    @Test
    void nothingUsableGivesNoChallenge() {
        assertEquals(List.of(), AuthChallenge.parse(List.of("", "  ,  ")));
        assertEquals(List.of(), AuthChallenge.parse(List.of()));
    }
}
