package dev.claudecage.cli;

import picocli.CommandLine;

import java.util.List;

/** A command that only groups subcommands (image, policy, gateway, kube): run alone, it names them. */
abstract class CommandGroup extends BaseCommand {

    @Override
    public Integer call() {
        List<String> names = spec.subcommands().values().stream().map(CommandLine::getCommandName).distinct().toList();
        String choices = names.size() == 1 ? names.get(0)
                : String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.get(names.size() - 1);
        throw new CommandLine.ParameterException(spec.commandLine(), "say what to do: " + choices);
    }
}
