package dev.claudecage.cli;

import dev.claudecage.json.Json;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** Docker's {@code inspect}: {@code status --json} under the name docker users type. */
@Command(name = "inspect", description = "Shows a session as JSON: the same as status --json.")
final class InspectCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "NAME", description = "The session.")
    String name;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.print(Json.write(StatusCommand.report(name)));
        out.flush();
        return 0;
    }
}
