package dev.claudecage.cli;

import dev.claudecage.json.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.io.PrintWriter;

/** Docker's {@code inspect}: {@code status --json} under the name docker users type. */
@Command(name = "inspect", description = "Shows a session as JSON: the same as status --json.")
final class InspectCommand extends BaseCommand {

    @Mixin
    SessionArgument session;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.print(Json.write(StatusCommand.report(context, session.name())));
        out.flush();
        return 0;
    }
}
