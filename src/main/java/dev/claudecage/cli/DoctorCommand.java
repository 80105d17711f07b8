package dev.claudecage.cli;

import dev.claudecage.doctor.Diagnosis;
import dev.claudecage.doctor.DoctorTable;
import dev.claudecage.doctor.HostSnapshot;
import dev.claudecage.host.Host;
import dev.claudecage.json.Json;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "doctor",
        description = {"Reports what this host supports for this user: runtimes, cgroups and their delegation, "
                + "subordinate id ranges, AppArmor, user namespaces, nft, newuidmap and newgidmap, and what each "
                + "missing piece costs.",
                "Exit code: 0 when cages can run for this user, 1 when they cannot."})
final class DoctorCommand extends BaseCommand {

    @Option(names = "--json", description = "Print the findings as JSON.")
    boolean json;

    @Override
    public Integer call() {
        Diagnosis diagnosis = Diagnosis.of(HostSnapshot.gather(Host.effectiveUid(), Host.userName(),
                context.runner()));
        spec.commandLine().getOut().print(json ? Json.write(diagnosis) : DoctorTable.render(diagnosis));
        spec.commandLine().getOut().flush();
        return diagnosis.canRun() ? 0 : 1;
    }
}
