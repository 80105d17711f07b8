package dev.claudecage.cli;

import dev.claudecage.config.ConfigLoader;
import dev.claudecage.config.EffectiveConfig;
import dev.claudecage.json.Json;
import dev.claudecage.process.ProcessRunner;
import dev.claudecage.runtime.StatePaths;
import dev.claudecage.verify.ReportTable;
import dev.claudecage.verify.Verifier;
import dev.claudecage.verify.VerifyReport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

@Command(name = "verify",
        description = {
                "Proves the walls hold: runs probes inside a cage built exactly as 'run' builds one, as its user, "
                        + "then each probe again with its wall taken down (the positive control), which must show the hole.",
                "Exit code: 0 when every wall held and every control showed its hole, 1 otherwise."},
        sortOptions = false)
final class VerifyCommand implements Callable<Integer> {

    @Mixin
    CageOptions options;

    @Option(names = "--json", description = "Print the report as JSON (stable, for comparing versions).")
    boolean json;

    @Option(names = "--no-controls", description = "Skip the positive controls (faster, proves less).")
    boolean noControls;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        EffectiveConfig config = ConfigLoader.forThisHost().load(options.asFlags());
        VerifyReport report = new Verifier(StatePaths.current(), ProcessRunner.fromEnvironment())
                .verify(config.config(), !noControls);
        spec.commandLine().getOut().print(json ? Json.write(report) : ReportTable.render(report));
        spec.commandLine().getOut().flush();
        return report.passed() ? 0 : 1;
    }
}
