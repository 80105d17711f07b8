package dev.claudecage.cli;

import dev.claudecage.CageException;
import dev.claudecage.config.ConfigKey;
import dev.claudecage.config.ConfigLoader;
import dev.claudecage.config.EffectiveConfig;
import dev.claudecage.config.ProjectSections;
import dev.claudecage.host.UntrustedDirectory;
import dev.claudecage.host.UntrustedText;
import dev.claudecage.workspace.ProjectDetector;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

@Command(name = "init",
        description = {"Sets up this folder for claude-cage: finds the ecosystems it uses (package.json, pyproject.toml, "
                + "requirements.txt, go.mod, Cargo.toml, pom.xml, build.gradle, the git remote's host), proposes the "
                + "allowed_hosts presets they need and the folder's mount at /workspace, and on confirmation writes "
                + "them into your own configuration file as this folder's section. run and start in this folder, or "
                + "below it, then use it; claude-cage config shows it.",
                "Nothing is written inside the folder: a file there would be the agent's to rewrite."},
        sortOptions = false)
final class InitCommand extends BaseCommand {

    @Option(names = {"-y", "--yes"}, description = "Write without asking.")
    boolean yes;

    @Option(names = "--dry-run", description = "Print what would be written, and write nothing.")
    boolean dryRun;

    private final InputStream answers;

    InitCommand() {
        this(System.in);
    }

    /** For tests: where the answer to the question comes from. */
    InitCommand(InputStream answers) {
        this.answers = answers;
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        ConfigLoader configuration = context.configLoader();
        Path folder = configuration.workingDirectory();
        EffectiveConfig current = configuration.load(Map.of());
        List<ProjectDetector.Finding> findings;
        try (UntrustedDirectory project = UntrustedDirectory.open(folder)) {
            findings = ProjectDetector.detect(project);
        } catch (IOException e) {
            throw new CageException("cannot look at the files in " + folder + ": " + e.getMessage());
        }
        out.println("In " + UntrustedText.escape(folder.toString()) + ":");
        if (findings.isEmpty()) {
            out.println("  no package manager's files and no git remote found; the hosts stay as they are");
        }
        int width = findings.stream().mapToInt(finding -> finding.evidence().length()).max().orElse(0);
        List<String> entries = new ArrayList<>();
        for (ProjectDetector.Finding finding : findings) {
            out.printf("  %-" + width + "s  -> %s%n", finding.evidence(), String.join(", ", finding.entries()));
            entries.addAll(finding.entries());
        }
        Map<ConfigKey, Object> settings = ProjectSections.proposal(current, folder, entries);
        Path file = configuration.userFile();
        out.println();
        out.println((current.project().filter(folder::equals).isPresent() ? "Replace this folder's section of "
                : "Add this section to ") + UntrustedText.escape(file.toString()) + ":");
        out.println();
        out.print(UntrustedText.escape(ProjectSections.withSection("", file.toString(), folder, settings)));
        out.println();
        out.println("run and start in this folder, or below it, will use it (claude-cage config shows it);");
        out.println("docs/network.md lists the presets' hosts.");
        if (dryRun) {
            out.flush();
            return 0;
        }
        if (!yes && !confirmed(out, "Write it? [y/N] ")) {
            out.println("Nothing written.");
            out.flush();
            return 1;
        }
        Path written;
        try {
            written = configuration.saveProjectSection(settings);
        } catch (IOException e) {
            throw new CageException("cannot write " + file + ": " + e.getMessage(), "check that you may write it");
        }
        out.println("Written to " + UntrustedText.escape(written.toString()) + ".");
        out.flush();
        return 0;
    }

    private boolean confirmed(PrintWriter out, String question) throws IOException {
        out.print(question);
        out.flush();
        String answer = new BufferedReader(new InputStreamReader(answers, StandardCharsets.UTF_8)).readLine();
        if (answer == null) {
            throw new CageException("no answer on standard input", "answer y, or run claude-cage init --yes");
        }
        String word = answer.strip().toLowerCase(Locale.ROOT);
        return word.equals("y") || word.equals("yes");
    }
}
