package dev.claudecage.net.cage;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.CageException;
import dev.claudecage.Teardown;
import dev.claudecage.host.FileLock;
import dev.claudecage.json.Json;
import dev.claudecage.config.EgressSettings;
import dev.claudecage.process.CommandResult;
import dev.claudecage.process.ProcessRunner;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Puts a filtered cage's network in place and takes it down: a named network namespace, the
 * veth pair with its addresses and routes, and both firewall tables, applied atomically with
 * {@code nft -f}. The plan (addresses, rules) is pure data from {@link CageLink} and
 * {@link Firewall}; this class only carries it out, through the one process runner.
 */
public final class CageNetwork implements AutoCloseable {

    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration LOCK_TIMEOUT = Duration.ofSeconds(60);
    private static final Pattern HOST_SIDE = Pattern.compile("^\\d+: " + CageLink.NAME_PREFIX + "h(\\d+)[@:]");

    private final CageLink link;
    private final Teardown teardown;

    private CageNetwork(CageLink link, Teardown teardown) {
        this.link = link;
        this.teardown = teardown;
    }

    /**
     * Allocates the lowest free pool slot and builds the link, under a host-wide lock so that
     * cages started at the same moment never get the same addresses. The firewalls open the ports
     * of {@code services} only.
     */
    public static CageNetwork create(String cageId, EgressSettings settings, GatewayPorts ports,
                                     GatewayPorts.Services services, Path lockFile, ProcessRunner runner) {
        return create(cageId, settings, ports, services, 0, lockFile, runner);
    }

    /**
     * As {@link #create(String, EgressSettings, GatewayPorts, GatewayPorts.Services, Path, ProcessRunner)},
     * built in the network namespace of process {@code namespaceHolder} (one of the cage's own user
     * namespace, which it then belongs to) rather than in a new one of the host's; 0 for a new one.
     */
    @SuppressWarnings("try") // the lock is held for the whole block
    public static CageNetwork create(String cageId, EgressSettings settings, GatewayPorts ports,
                                     GatewayPorts.Services services, long namespaceHolder, Path lockFile,
                                     ProcessRunner runner) {
        try (FileLock lock = FileLock.acquire(lockFile, LOCK_TIMEOUT, "the cage network pool")) {
            int slot = freeSlot(runner, CageLink.capacity(settings.networkPool(), settings.networkPool6()));
            CageLink link = CageLink.allocate(cageId, slot, settings.networkPool(), settings.networkPool6());
            CageNetwork network = new CageNetwork(link,
                    new Teardown("network teardown of cage " + cageId, Teardown.GC_REMOVES_THE_REST));
            try {
                network.build(ports, services, namespaceHolder, settings.externalGateway(), runner);
            } catch (RuntimeException e) {
                throw Teardown.closeAfter(network, e);
            }
            return network;
        }
    }

    public CageLink link() {
        return link;
    }

    /**
     * The gateway addresses of a running filtered cage, IPv4 then IPv6, read from the default
     * routes in its namespace: what a cage started by another process (a session) was given.
     */
    public static List<String> gatewayAddresses(String cageId, ProcessRunner runner) {
        List<String> gateways = new ArrayList<>();
        for (String family : List.of("-4", "-6")) {
            CommandResult result = runner.run(List.of("ip", "-j", family, "-n", CageLink.netnsName(cageId),
                    "route", "show", "default"), COMMAND_TIMEOUT);
            try {
                JsonNode routes = Json.mapper().readTree(result.stdout());
                if (routes.size() != 1 || !routes.get(0).hasNonNull("gateway")) {
                    throw new CageException("the cage " + cageId + " has no single " + family.substring(1)
                            + " default route through a gateway: " + result.stdout().strip());
                }
                gateways.add(routes.get(0).get("gateway").asText());
            } catch (IOException e) {
                throw new CageException("cannot read the routes of the cage " + cageId + ": " + e.getMessage());
            }
        }
        return gateways;
    }

    /** The namespace as the OCI spec names it. */
    public String namespacePath() {
        return "/run/netns/" + link.netnsName();
    }

    /** Runs a command inside the cage's network namespace (the firewall, the drop logger). */
    public List<String> inNamespace(List<String> command) {
        List<String> wrapped = new ArrayList<>(List.of("ip", "netns", "exec", link.netnsName()));
        wrapped.addAll(command);
        return wrapped;
    }

    /** @param externalGateway the address of the cage's gateway elsewhere, or null when it runs on the link's host end */
    private void build(GatewayPorts ports, GatewayPorts.Services services, long namespaceHolder, String externalGateway,
                       ProcessRunner runner) {
        String ns = link.netnsName();
        String host = link.hostInterface();
        // Undone last first: the host's table, then the namespace, which destroys the cage's end of
        // the pair and with it the host's; the host's end once more, for a namespace that did not come.
        teardown.push("delete the host's end of the link", () -> runner.remove(List.of("ip", "link", "delete", host),
                COMMAND_TIMEOUT));
        teardown.push("delete the namespace", () -> runner.remove(List.of("ip", "netns", "delete", ns), COMMAND_TIMEOUT));
        teardown.push("delete the host's firewall table", () -> runner.remove(List.of("nft", "delete", "table", "inet",
                Firewall.hostTable(link)), COMMAND_TIMEOUT));
        if (namespaceHolder == 0) {
            ip(runner, "netns", "add", ns);
        } else {
            ip(runner, "netns", "attach", ns, Long.toString(namespaceHolder));
        }
        ip(runner, "link", "add", host, "type", "veth", "peer", "name", link.cageInterface());
        ip(runner, "link", "set", link.cageInterface(), "netns", ns);
        ip(runner, "-n", ns, "link", "set", link.cageInterface(), "name", CageLink.CAGE_SIDE_NAME);
        ip(runner, "-n", ns, "link", "set", "lo", "up");
        // The firewalls go up before either end of the link does: no moment without them.
        if (externalGateway == null) {
            nft(runner, List.of("nft", "-f", "-"), Firewall.hostRuleset(link, ports, services));
            nft(runner, inNamespace(List.of("nft", "-f", "-")), Firewall.cageRuleset(link, ports, services));
        } else {
            nft(runner, List.of("nft", "-f", "-"), Firewall.hostRulesetToGateway(link, externalGateway, ports, services));
            nft(runner, inNamespace(List.of("nft", "-f", "-")), Firewall.cageRulesetToGateway(externalGateway, ports,
                    services));
        }
        ip(runner, "addr", "add", link.gateway4() + "/" + CageLink.PREFIX4, "dev", host);
        // nodad: the addresses are ours alone, and duplicate detection would delay them by seconds.
        ip(runner, "addr", "add", link.gateway6() + "/" + CageLink.PREFIX6, "dev", host, "nodad");
        ip(runner, "link", "set", host, "up");
        String cage = CageLink.CAGE_SIDE_NAME;
        ip(runner, "-n", ns, "addr", "add", link.cageAddress4().getHostAddress() + "/" + CageLink.PREFIX4, "dev", cage);
        ip(runner, "-n", ns, "addr", "add", link.cageAddress6().getHostAddress() + "/" + CageLink.PREFIX6, "dev", cage,
                "nodad");
        ip(runner, "-n", ns, "link", "set", cage, "up");
        // A default route, so that every attempt reaches the firewall and is logged there.
        ip(runner, "-n", ns, "route", "add", "default", "via", link.gateway4());
        ip(runner, "-n", ns, "-6", "route", "add", "default", "via", link.gateway6());
    }

    private static void ip(ProcessRunner runner, String... args) {
        List<String> command = new ArrayList<>(List.of("ip"));
        command.addAll(List.of(args));
        runner.run(command, COMMAND_TIMEOUT);
    }

    private static void nft(ProcessRunner runner, List<String> command, String ruleset) {
        CommandResult result = runner.runWithInput(command, COMMAND_TIMEOUT, ruleset.getBytes(StandardCharsets.UTF_8));
        if (!result.succeeded()) {
            throw runner.failure(result);
        }
    }

    /** Takes down everything, as far as it can, and reports every step that failed. */
    @Override
    public void close() {
        teardown.close();
    }

    private static int freeSlot(ProcessRunner runner, int capacity) {
        Set<Integer> used = new HashSet<>();
        for (String line : runner.run(List.of("ip", "-o", "link", "show"), COMMAND_TIMEOUT).stdout().lines().toList()) {
            Matcher matcher = HOST_SIDE.matcher(line);
            if (matcher.find()) {
                used.add(Integer.parseInt(matcher.group(1)));
            }
        }
        for (int slot = 0; slot < capacity; slot++) {
            if (!used.contains(slot)) {
                return slot;
            }
        }
        throw new CageException("every address in the network pools is taken (" + capacity + " cages)",
                "stop some sessions, or give network_pool and network_pool6 larger prefixes");
    }
}
