package dev.claudecage.net.proxy;

import dev.claudecage.net.EgressPolicy;
import dev.claudecage.net.HostRule;
import dev.claudecage.net.NameResolver;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** Each denial names the first rule the destination broke, in the order the proxy checks them. */
class GatekeeperTest {

    private static final InetAddress PUBLIC = address("1.2.3.10");

    private final EgressPolicy policy = new EgressPolicy(
            List.of(HostRule.parse("api.example.com"), HostRule.parse("*.cdn.test:8443"), HostRule.parse("*.cdn.test:443"),
                    HostRule.parse("rebind.test"), HostRule.parse("gone.test"), HostRule.parse("mirror.test")),
            Map.of("mirror.test", List.of(InetAddress.getLoopbackAddress())), 1 << 20, 8);
    private final Gatekeeper gatekeeper = new Gatekeeper(policy, new NameResolver(policy, name -> switch (name) {
        case "api.example.com", "a.cdn.test" -> List.of(PUBLIC);
        case "rebind.test" -> List.of(PUBLIC, address("10.1.2.3"));
        default -> throw new UnknownHostException("no such name");
    }), new WildcardBudget(60, System::nanoTime));

    @Test
    void anAllowedNameWithPublicAddressesIsAllowed() {
        assertEquals(List.of(PUBLIC), allowed("api.example.com", 443).addresses());
        assertEquals(List.of(PUBLIC), allowed("A.CDN.test.", 8443).addresses());
    }

    @Test
    void aPinnedNameMayResolveToLoopback() {
        assertEquals(List.of(InetAddress.getLoopbackAddress()), allowed("mirror.test", 443).addresses());
    }

    @Test
    void eachDenialSaysWhy() {
        assertEquals("evil.test is not in allowed_hosts", denied("evil.test", 443));
        assertEquals("cdn.test is not in allowed_hosts", denied("cdn.test", 443));
        assertEquals("a.cdn.test is in allowed_hosts for port 443, 8443 only, not 80", denied("a.cdn.test", 80));
        assertEquals("1.2.3.4 is an IP address; only host names from allowed_hosts can be reached", denied("1.2.3.4", 443));
        assertEquals("'bad_name!.test' is not a valid host name", denied("bad_name!.test", 443));
        assertEquals("rebind.test resolves to 10.1.2.3, a private (RFC 1918) address; "
                + "only names pinned with resolve may reach such addresses", denied("rebind.test", 443));
    }

    /** Attack 7: allowed, pinned, on any port, in any spelling: a name the API gateway holds the key for is refused. */
    @Test
    void attack7AnApiHostIsRefusedWhateverTheAllowlistAndThePinsSay() {
        EgressPolicy reserving = new EgressPolicy(List.of(HostRule.parse("api.example.com"),
                HostRule.parse("api.example.com:80"), HostRule.parse("*.example.com:8443")),
                Map.of("api.example.com", List.of(PUBLIC)), 1 << 20, 8, Set.of("API.example.com."));
        Gatekeeper strict = new Gatekeeper(reserving, NameResolver.pinnedOnly(reserving), new WildcardBudget(60,
                System::nanoTime));
        for (String host : List.of("api.example.com", "API.Example.Com", "api.example.com.")) {
            for (int port : new int[] {443, 80, 8443, 22}) {
                Gatekeeper.Denied denied = assertInstanceOf(Gatekeeper.Denied.class, strict.decide(host, port));
                assertEquals("the API gateway holds your key: api.example.com only through it", denied.reason());
            }
        }
        assertEquals(List.of(PUBLIC), assertInstanceOf(Gatekeeper.Allowed.class, gatekeeper.decide("api.example.com", 443))
                .addresses(), "control: without the reservation the same name is allowed");
    }

    @Test
    void anAllowedNameWithoutAddressesIsUnresolvableNotDenied() {
        Gatekeeper.Unresolvable verdict = assertInstanceOf(Gatekeeper.Unresolvable.class, gatekeeper.decide("gone.test", 443));
        assertEquals("cannot resolve gone.test: no such name", verdict.reason());
    }

    private Gatekeeper.Allowed allowed(String host, int port) {
        return assertInstanceOf(Gatekeeper.Allowed.class, gatekeeper.decide(host, port));
    }

    private String denied(String host, int port) {
        return assertInstanceOf(Gatekeeper.Denied.class, gatekeeper.decide(host, port)).reason();
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
