package dev.claudecage.net.cage;

import com.fasterxml.jackson.databind.JsonNode;
import dev.claudecage.CageException;
import dev.claudecage.DaemonThreads;
import dev.claudecage.Teardown;
import dev.claudecage.host.FileLock;
import dev.claudecage.json.Json;
import dev.claudecage.config.EgressSettings;
import dev.claudecage.process.CommandResult;
import dev.claudecage.process.ProcessRunner;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Puts a filtered cage's network in place and takes it down: a named network namespace, the
 * veth pair with its addresses and routes, and both firewall tables, applied atomically with
 * {@code nft -f}. The plan (addresses, rules) is pure data from {@link CageLink} and
 * {@link Firewall}; this class only carries it out, through the one process runner.
 */
public final class CageNetwork implements AutoCloseable {

    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration LOCK_TIMEOUT = Duration.ofSeconds(60);
    /** The interfaces of this process's network namespace, the host's: two lines of heads, then one line each. */
    private static final Path INTERFACES = Path.of("/proc/self/net/dev");
    /** How ip -batch names the line it stopped at. */
    private static final Pattern FAILED_LINE = Pattern.compile("Command failed -:(\\d{1,4})");
    private static final Pattern HOST_SIDE = Pattern.compile("^\\s*" + CageLink.NAME_PREFIX + "h(\\d+):");

    private final CageLink link;
    private final Teardown teardown;
    /** The cage's end (its table, addresses, routes), made on a thread of its own; null until begun. */
    private Beside cageEnd;

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
    public static CageNetwork create(String cageId, EgressSettings settings, GatewayPorts ports,
                                     GatewayPorts.Services services, long namespaceHolder, Path lockFile,
                                     ProcessRunner runner) {
        return create(cageId, settings, ports, services, namespaceHolder, lockFile, INTERFACES, runner);
    }

    /** @param interfaces where the host's interfaces are listed, as /proc/self/net/dev lists them */
    static CageNetwork create(String cageId, EgressSettings settings, GatewayPorts ports, GatewayPorts.Services services,
                              long namespaceHolder, Path lockFile, Path interfaces, ProcessRunner runner) {
        CageNetwork network = begin(cageId, settings, ports, services, namespaceHolder, lockFile, interfaces, runner);
        try {
            network.awaitCageEnd();
        } catch (RuntimeException e) {
            throw Teardown.closeAfter(network, e);
        }
        return network;
    }

    /**
     * As {@link #create(String, EgressSettings, GatewayPorts, GatewayPorts.Services, long, Path, ProcessRunner)},
     * but returns once the namespace and the host's end are in place (its addresses, which the gateway's services
     * bind, behind the host's table), while the cage's end is still being made: the services start meanwhile.
     * {@link #awaitCageEnd} before the cage runs.
     */
    public static CageNetwork begin(String cageId, EgressSettings settings, GatewayPorts ports,
                                    GatewayPorts.Services services, long namespaceHolder, Path lockFile,
                                    ProcessRunner runner) {
        return begin(cageId, settings, ports, services, namespaceHolder, lockFile, INTERFACES, runner);
    }

    @SuppressWarnings("try") // the lock is held for the whole block
    static CageNetwork begin(String cageId, EgressSettings settings, GatewayPorts ports,
                                     GatewayPorts.Services services, long namespaceHolder, Path lockFile,
                                     Path interfaces, ProcessRunner runner) {
        // The slot is taken once the host's end exists, which is before the lock is let go.
        try (FileLock lock = FileLock.acquire(lockFile, LOCK_TIMEOUT, "the cage network pool")) {
            int slot = freeSlot(interfaces, CageLink.capacity(settings.networkPool(), settings.networkPool6()));
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

    /** Waits until the cage's end is made behind its table; throws, naming the step, when it could not be. */
    public void awaitCageEnd() {
        RuntimeException failed = cageEnd.join();
        if (failed != null) {
            throw failed;
        }
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
        // Undone as one step: the host's end of the link first, which takes the cage's end with it (the namespace
        // may outlive its name, held by the cage's namespace holder), then the namespace's name, in one ip process;
        // beside it, on a thread of its own, the host's table. Neither needs the other.
        teardown.push("take down the link, the namespace and the host's firewall table", () -> together(
                () -> teardown.attempt("delete the host's firewall table", () -> runner.remove(List.of("nft", "delete",
                        "table", "inet", Firewall.hostTable(link)), COMMAND_TIMEOUT)),
                () -> removeInOrder(runner, List.of(
                        new Removal("delete the host's end of the link", "link delete " + host),
                        new Removal("delete the namespace", "netns delete " + ns)))));
        String hostRuleset = externalGateway == null ? Firewall.hostRuleset(link, ports, services)
                : Firewall.hostRulesetToGateway(link, externalGateway, ports, services);
        String cageRuleset = externalGateway == null ? Firewall.cageRuleset(link, ports, services)
                : Firewall.cageRulesetToGateway(externalGateway, ports, services);
        // Three ip processes where there were fourteen, each a batch that stops at its first failure, and two nft
        // processes: a pair side by side, then the host's end here while the cage's table and end are made on a
        // thread of their own, which the caller awaits before the cage runs. The cage's end is made inside the
        // namespace under its final name. The host's table names the link's ends without needing them, so it goes
        // in while they are made; the cage's table holds a hook on the cage's end, so it comes after. Each end comes
        // up only once its side's table is in, and the link carries nothing until both ends are up: no moment
        // without the walls.
        together(() -> nft(runner, List.of("nft", "-f", "-"), hostRuleset), () -> ipBatch(runner, List.of(), List.of(
                namespaceHolder == 0 ? "netns add " + ns : "netns attach " + ns + " " + namespaceHolder,
                "link add " + host + " type veth peer name " + CageLink.CAGE_SIDE_NAME + " netns " + ns)));
        String cage = CageLink.CAGE_SIDE_NAME;
        // The teardown waits for this thread too, so it never races it. nodad: the addresses are ours alone, and
        // duplicate detection would delay them by seconds.
        cageEnd = Beside.start(() -> {
            nft(runner, inNamespace(List.of("nft", "-f", "-")), cageRuleset);
            ipBatch(runner, List.of("-n", ns), List.of(
                    "link set lo up",
                    "addr add " + link.cageAddress4().getHostAddress() + "/" + CageLink.PREFIX4 + " dev " + cage,
                    "addr add " + link.cageAddress6().getHostAddress() + "/" + CageLink.PREFIX6 + " dev " + cage
                            + " nodad",
                    "link set " + cage + " up",
                    // A default route, so that every attempt reaches the firewall and is logged there.
                    "route add default via " + link.gateway4(),
                    "route add ::/0 via " + link.gateway6()));
        });
        try {
            ipBatch(runner, List.of(), List.of(
                    "addr add " + link.gateway4() + "/" + CageLink.PREFIX4 + " dev " + host,
                    "addr add " + link.gateway6() + "/" + CageLink.PREFIX6 + " dev " + host + " nodad",
                    "link set " + host + " up"));
        } catch (RuntimeException e) {
            RuntimeException other = cageEnd.join();
            if (other != null) {
                e.addSuppressed(other);
            }
            throw e;
        }
    }

    /**
     * Runs {@code beside} on a thread of its own while {@code here} runs on this one, and waits for both: the
     * network's processes that need nothing of each other cost the time of the longer. The first failure is
     * thrown, the other's added to it, once both have ended, so that a teardown after it never races either.
     */
    private static void together(Runnable beside, Runnable here) {
        Beside thread = Beside.start(beside);
        RuntimeException failure = null;
        try {
            here.run();
        } catch (RuntimeException e) {
            failure = e;
        }
        RuntimeException other = thread.join();
        if (failure == null) {
            failure = other;
        } else if (other != null) {
            failure.addSuppressed(other);
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Work on a thread of its own, and what it threw. */
    private record Beside(Thread thread, AtomicReference<RuntimeException> failed) {

        static Beside start(Runnable work) {
            AtomicReference<RuntimeException> failed = new AtomicReference<>();
            return new Beside(DaemonThreads.start("cage-network", () -> {
                try {
                    work.run();
                } catch (RuntimeException e) {
                    failed.set(e);
                }
            }), failed);
        }

        /** Waits for the work to end (its processes are bounded by their own timeouts); what it threw, or null. */
        RuntimeException join() {
            DaemonThreads.joinUninterruptibly(thread);
            return failed.get();
        }
    }

    /**
     * Runs {@code commands} in one ip process ({@code ip OPTIONS -batch -}), one a line, in order; ip stops at the
     * first that fails, and the failure names it. Every word is the cage's plan (names, addresses), never the cage's.
     */
    private static void ipBatch(ProcessRunner runner, List<String> options, List<String> commands) {
        List<String> command = new ArrayList<>(List.of("ip"));
        command.addAll(options);
        command.addAll(List.of("-batch", "-"));
        CommandResult result = runner.runWithInput(command, COMMAND_TIMEOUT,
                (String.join("\n", commands) + "\n").getBytes(StandardCharsets.UTF_8));
        if (!result.succeeded()) {
            CageException failure = runner.failure(result);
            Matcher failed = FAILED_LINE.matcher(result.stderr());
            int line = failed.find() ? Integer.parseInt(failed.group(1)) : 0;
            if (line < 1 || line > commands.size()) {
                throw failure;
            }
            throw new CageException(failure.getMessage() + " (at 'ip " + String.join(" ", options)
                    + (options.isEmpty() ? "" : " ") + commands.get(line - 1) + "')", failure.hint(), failure);
        }
    }

    /** One line of a removal batch, and the teardown step it is reported as. */
    private record Removal(String name, String line) {
    }

    /**
     * Runs {@code removals} in one {@code ip -force -batch -}, in order: -force goes on past a line that fails, and
     * ip names each such line after its error. Each line's failure is its own step's, and one whose object was gone
     * already is none, as for {@link ProcessRunner#remove}.
     */
    private void removeInOrder(ProcessRunner runner, List<Removal> removals) {
        List<String> command = List.of("ip", "-force", "-batch", "-");
        String steps = String.join(", then ", removals.stream().map(Removal::name).toList());
        AtomicReference<CommandResult> ran = new AtomicReference<>();
        if (!teardown.attempt(steps, () -> ran.set(runner.runWithInput(command, COMMAND_TIMEOUT,
                removals.stream().map(removal -> removal.line() + "\n").collect(Collectors.joining())
                        .getBytes(StandardCharsets.UTF_8))))) {
            return;
        }
        CommandResult result = ran.get();
        if (result.succeeded()) {
            return;
        }
        // ip prints each failed line's errors, then "Command failed -:N".
        String[] errors = new String[removals.size()];
        StringBuilder said = new StringBuilder();
        for (String line : result.stderr().split("\n")) {
            Matcher failed = FAILED_LINE.matcher(line);
            int index = failed.find() ? Integer.parseInt(failed.group(1)) - 1 : -1;
            if (index < 0) {
                said.append(line).append('\n');
            } else if (index < errors.length) {
                errors[index] = said.toString();
                said.setLength(0);
            }
        }
        boolean named = false;
        for (int i = 0; i < errors.length; i++) {
            if (errors[i] == null) {
                continue;
            }
            named = true;
            CommandResult line = new CommandResult(command, result.exitCode(), "", errors[i]);
            Removal removal = removals.get(i);
            if (!line.succeededOrGone()) {
                CageException failure = runner.failure(line);
                teardown.attempt(removal.name(), () -> {
                    throw new CageException(failure.getMessage() + " (at 'ip " + removal.line() + "')",
                            failure.hint(), failure);
                });
            }
        }
        if (!named) {
            teardown.attempt(steps, () -> {
                throw runner.failure(result);
            });
        }
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
        if (cageEnd != null) {
            // Its failure, if any, is awaitCageEnd's to report; the teardown must not race its processes.
            cageEnd.join();
        }
        teardown.close();
    }

    /** The lowest slot whose host end is not among {@code interfaces}: read from the kernel, not from a process. */
    private static int freeSlot(Path interfaces, int capacity) {
        List<String> lines;
        try {
            lines = Files.readAllLines(interfaces, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            throw new CageException("cannot list the host's network interfaces in " + interfaces + ": " + e.getMessage());
        }
        Set<Integer> used = new HashSet<>();
        for (String line : lines) {
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
