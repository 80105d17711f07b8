package dev.claudecage.cli;

import dev.claudecage.json.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;

/** Docker's {@code inspect}: {@code status --json} under the name docker users type. */
@Command(name = "inspect", description = "Shows a session as JSON: the same as status --json.")
final class InspectCommand extends BaseCommand {

    @Parameters(index = "0", paramLabel = "NAME", description = "The session.")
    String name;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.print(Json.write(StatusCommand.report(context, name)));
        out.flush();
        return 0;
    }
}
