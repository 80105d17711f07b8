package dev.claudecage.cli;

import dev.claudecage.CageException;
import dev.claudecage.doctor.Diagnosis;
import dev.claudecage.doctor.GatewayPortCheck;
import dev.claudecage.doctor.DoctorTable;
import dev.claudecage.doctor.HostSnapshot;
import dev.claudecage.doctor.RunscStatus;
import dev.claudecage.process.CommandResult;
import dev.claudecage.process.Executables;
import dev.claudecage.runtime.RunscPlatforms;
import dev.claudecage.runtime.RuntimeKind;
import dev.claudecage.host.Host;
import dev.claudecage.json.Json;
import dev.claudecage.net.EgressPolicy;
import dev.claudecage.net.cage.GatewayPorts;
import dev.claudecage.net.cage.HostListeners;
import dev.claudecage.net.cage.TcpRelays;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

@Command(name = "doctor",
        description = {"Reports what this host supports for this user: runtimes, cgroups and their delegation, "
                + "subordinate id ranges, AppArmor, user namespaces, nft, newuidmap and newgidmap, gVisor's platforms "
                + "(each tried within 5 s), and what each missing piece costs; and the ports of a filtered cage's "
                + "gateway address that programs here hold, with the TCP relays of the effective configuration.",
                "Exit code: 0 when cages can run for this user, 1 when they cannot."})
final class DoctorCommand extends BaseCommand {

    @Option(names = "--json", description = "Print the findings as JSON.")
    boolean json;

    @Override
    public Integer call() {
        Diagnosis diagnosis = Diagnosis.of(HostSnapshot.gather(Host.effectiveUid(), Host.userName(),
                context.runner())).with(runsc().finding(Host.effectiveUid() != 0)).with(gatewayPorts());
        spec.commandLine().getOut().print(json ? Json.write(diagnosis) : DoctorTable.render(diagnosis));
        spec.commandLine().getOut().flush();
        return diagnosis.canRun() ? 0 : 1;
    }

    /** runsc's version and, as root, each platform tried within its bound (a hanging kvm never holds doctor up). */
    private RunscStatus runsc() {
        Optional<Path> binary = Executables.find(RuntimeKind.RUNSC.binaryName());
        if (binary.isEmpty()) {
            return new RunscStatus(null, List.of(), null);
        }
        CommandResult version = context.runner().runAllowingFailure(List.of(binary.get().toString(), "--version"),
                Duration.ofSeconds(10));
        String firstLine = version.stdout().lines().findFirst().orElse("runsc").strip();
        if (Host.effectiveUid() != 0) {
            return new RunscStatus(firstLine, List.of(), null);
        }
        Path runtimeState = context.statePaths().runtimeState();
        List<RunscPlatforms.Probe> probes = RunscPlatforms.probe(binary.get(), runtimeState, context.runner());
        return new RunscStatus(firstLine, probes, RunscPlatforms.choose(RunscPlatforms.AUTO, runtimeState));
    }

    /** The gateway's ports on this host, and the TCP relays of the effective configuration with them. */
    private Diagnosis.Finding gatewayPorts() {
        boolean rootless = Host.effectiveUid() != 0;
        Set<Integer> held = rootless ? Set.of() : HostListeners.portsOnAllAddresses();
        try {
            EgressPolicy policy = EgressPolicy.from(context.configLoader().load(Map.of()).config(), false);
            return GatewayPortCheck.of(rootless, held, TcpRelays.plan(policy, GatewayPorts.STANDARD, held), null);
        } catch (CageException e) {
            return GatewayPortCheck.of(rootless, held, List.of(), e.getMessage());
        }
    }
}
