package dev.claudecage.net.proxy;

import dev.claudecage.net.EgressPolicy;
import dev.claudecage.net.HostRule;
import dev.claudecage.net.NameResolver;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 24: with {@code *.example.com} allowed, the proxy looked up whatever name under it the cage asked for,
 * which carries the name's labels to the zone's name servers (a DNS channel out). A fake resolver records every
 * lookup: a refused name must never reach it.
 */
class WildcardBudgetTest {

    private static final InetAddress PUBLIC = InetAddress.getLoopbackAddress();
    private final AtomicLong now = new AtomicLong(1_000);
    private final List<String> lookedUp = new CopyOnWriteArrayList<>();
    private final EgressPolicy policy = new EgressPolicy(List.of(HostRule.parse("*.example.com"),
            HostRule.parse("listed.example.com"), HostRule.parse("*.pinned.test")),
            Map.of("x.pinned.test", List.of(PUBLIC)), 1 << 20, 8, Set.of(), 3);
    private final Gatekeeper gatekeeper = new Gatekeeper(policy, new NameResolver(policy, name -> {
        lookedUp.add(name);
        return List.of(InetAddress.getByName("1.2.3.4"));
    }), new WildcardBudget(policy.wildcardNamesPerMinute(), now::get));

    @Test
    void aLongNameUnderAWildcardIsRefusedWithoutALookup() {
        String data = "a".repeat(63) + ".bb";
        String reason = assertInstanceOf(Gatekeeper.Denied.class, gatekeeper.decide(data + ".example.com", 443)).reason();

        assertTrue(reason.endsWith("has 66 characters under *.example.com, more than 64: a name that long under a "
                + "wildcard entry is refused without a lookup"), reason);
        assertEquals(List.of(), lookedUp);
        String control = "a".repeat(40) + ".b";
        assertInstanceOf(Gatekeeper.Allowed.class, gatekeeper.decide(control + ".example.com", 443));
        assertEquals(List.of(control + ".example.com"), lookedUp, "positive control: a short name is looked up");
    }

    @Test
    void moreThanTheBudgetOfNewNamesAMinuteIsRefusedWithoutALookupAndKnownNamesStillWork() {
        for (int i = 0; i < 3; i++) {
            assertInstanceOf(Gatekeeper.Allowed.class, gatekeeper.decide("n" + i + ".example.com", 443));
        }
        String reason = assertInstanceOf(Gatekeeper.Denied.class, gatekeeper.decide("n3.example.com", 443)).reason();

        assertTrue(reason.contains("more than 3 new names under wildcard entries within a minute"), reason);
        assertEquals(List.of("n0.example.com", "n1.example.com", "n2.example.com"), lookedUp);
        assertInstanceOf(Gatekeeper.Allowed.class, gatekeeper.decide("n1.example.com", 443));

        now.addAndGet(TimeUnit.SECONDS.toNanos(61));
        assertInstanceOf(Gatekeeper.Allowed.class, gatekeeper.decide("n3.example.com", 443));
        assertEquals("n3.example.com", lookedUp.get(lookedUp.size() - 1), "a minute later the budget is back");
    }

    @Test
    void exactEntriesAndPinnedNamesAreOutsideTheBudget() {
        String longPin = "x.pinned.test";
        for (int i = 0; i < 3; i++) {
            gatekeeper.decide("n" + i + ".example.com", 443);
        }

        assertInstanceOf(Gatekeeper.Allowed.class, gatekeeper.decide("listed.example.com", 443));
        assertInstanceOf(Gatekeeper.Allowed.class, gatekeeper.decide(longPin, 443));
        assertEquals(List.of("n0.example.com", "n1.example.com", "n2.example.com", "listed.example.com"), lookedUp);
    }

    @Test
    void rememberedNamesAreBoundedAndTheOldestIsForgottenFirst() {
        WildcardBudget budget = new WildcardBudget(1, now::get);
        HostRule wildcard = HostRule.parse("*.example.com");
        for (int i = 0; i <= WildcardBudget.REMEMBERED_NAMES; i++) {
            now.addAndGet(TimeUnit.SECONDS.toNanos(61));
            assertTrue(budget.refusal("n" + i + ".example.com", wildcard).isEmpty());
        }

        assertTrue(budget.refusal("n1.example.com", wildcard).isEmpty(), "still remembered: free");
        assertTrue(budget.refusal("n0.example.com", wildcard).isPresent(), "forgotten: new again, over this minute's budget");
    }
}
