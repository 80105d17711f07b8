package dev.claudecage.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "version", description = "Prints claude-cage's version.")
final class VersionCommand extends BaseCommand {

    @Override
    public Integer call() {
        spec.commandLine().getOut().println(version());
        return 0;
    }

    static String version() {
        String version = Main.class.getPackage().getImplementationVersion();
        return "claude-cage " + (version == null ? "(development build)" : version);
    }

    static final class Provider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {version()};
        }
    }
}
