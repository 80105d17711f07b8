package dev.claudecage.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/**
 * What every command has: its picocli spec (its output and error streams, its command line) and
 * the {@link Context} that Main gives every command. picocli fills both in from this class too.
 */
abstract class BaseCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    Context context;
}
