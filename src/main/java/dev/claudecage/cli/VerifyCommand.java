package dev.claudecage.cli;

import dev.claudecage.UserInputException;
import dev.claudecage.config.EffectiveConfig;
import dev.claudecage.json.Json;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.session.SessionName;
import dev.claudecage.session.SessionVerifications;
import dev.claudecage.verify.ReportTable;
import dev.claudecage.verify.Verifier;
import dev.claudecage.verify.VerifyReport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Instant;

@Command(name = "verify",
        description = {
                "Proves the walls hold: runs probes inside a cage built exactly as 'run' builds one, as its user, "
                        + "then each probe again with its wall taken down (the positive control), which must show the hole.",
                "Exit code: 0 when every wall held and every control showed its hole, 1 otherwise."},
        sortOptions = false)
final class VerifyCommand extends BaseCommand {

    @Mixin
    CageOptions options;

    @Option(names = "--json", description = "Print the report as JSON (stable, for comparing versions).")
    boolean json;

    @Option(names = "--no-controls", description = "Skip the positive controls (faster, proves less).")
    boolean noControls;

    @Option(names = "--session", paramLabel = "NAME",
            description = "Probe the running session NAME instead of a fresh cage, without changing it: probes that "
                    + "need a mount it lacks, or would starve its processes, are reported as not run. "
                    + "The controls run in fresh cages built from the session's configuration.")
    String session;

    @Override
    public Integer call() {
        ProcessRunner runner = context.runner();
        Verifier verifier = new Verifier(context.statePaths(), runner);
        VerifyReport report;
        if (session != null) {
            if (!options.asFlags().isEmpty()) {
                throw new UserInputException("verify --session probes the session as it was started; "
                        + "cage options cannot be given with it: " + String.join(", ", options.asFlags().keySet()));
            }
            SessionName name = SessionName.of(session);
            report = verifier.verifySession(context.sessions(), name, !noControls);
            SessionVerifications.add(context.sessions().store().paths(context.sessions().store().require(name)),
                    report.trailLine(Instant.now()));
        } else {
            EffectiveConfig config = context.configLoader().load(options.asFlags());
            report = verifier.verify(context.plan(config.config()), !noControls);
        }
        spec.commandLine().getOut().print(json ? Json.write(report) : ReportTable.render(report));
        spec.commandLine().getOut().flush();
        return report.passed() ? 0 : 1;
    }
}
