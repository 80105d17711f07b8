package dev.claudecage.workspace;

import dev.claudecage.host.UntrustedDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What init finds in a project folder, which the agent may have written: names only, and .git/config's remotes. */
class ProjectDetectorTest {

    @TempDir
    Path dir;

    private List<ProjectDetector.Finding> detect() throws IOException {
        try (UntrustedDirectory project = UntrustedDirectory.open(dir)) {
            return ProjectDetector.detect(project);
        }
    }

    private void git(String config) throws IOException {
        Files.createDirectories(dir.resolve(".git"));
        Files.writeString(dir.resolve(".git/config"), config);
    }

    @Test
    void eachEcosystemsFilesAskForItsPreset() throws IOException {
        for (String name : List.of("package.json", "requirements.txt", "go.mod", "Cargo.toml", "pom.xml", "build.gradle.kts")) {
            Files.writeString(dir.resolve(name), "");
        }
        assertEquals(List.of(
                new ProjectDetector.Finding("package.json", List.of("preset:npm")),
                new ProjectDetector.Finding("requirements.txt", List.of("preset:pypi")),
                new ProjectDetector.Finding("go.mod", List.of("preset:go")),
                new ProjectDetector.Finding("Cargo.toml", List.of("preset:cargo")),
                new ProjectDetector.Finding("pom.xml", List.of("preset:maven")),
                new ProjectDetector.Finding("build.gradle.kts", List.of("preset:maven", "preset:gradle"))), detect());
    }

    @Test
    void anEmptyFolderAsksForNothing() throws IOException {
        assertEquals(List.of(), detect());
    }

    @Test
    void gitRemotesOnGithubAskForItsPresetAndOtherHostsForThemselves() throws IOException {
        git("""
                [core]
                \trepositoryformatversion = 0
                \turl = https://not-a-remote.example/x
                [remote "origin"]
                \turl = git@github.com:someone/app.git
                \tfetch = +refs/heads/*:refs/remotes/origin/*
                [remote "mirror"]
                \turl = https://gitlab.example.org/someone/app.git
                \tpushurl = ssh://git@git.example.net:2222/app.git
                [remote "local"]
                \turl = /srv/git/app.git
                [branch "main"]
                \tremote = origin
                """);
        assertEquals(List.of(
                new ProjectDetector.Finding(".git remote github.com", List.of("preset:github")),
                new ProjectDetector.Finding(".git remote gitlab.example.org", List.of("gitlab.example.org")),
                new ProjectDetector.Finding(".git remote git.example.net", List.of("git.example.net:2222"))), detect());
    }

    @Test
    void urlFormsAndWhatIsNotTaken() {
        assertEquals(Optional.of(new ProjectDetector.Remote("github.com", false, 443)),
                ProjectDetector.remote("https://user:token@GitHub.com/o/r.git"));
        assertEquals(Optional.of(new ProjectDetector.Remote("github.com", true, 22)),
                ProjectDetector.remote("ssh://git@github.com/o/r.git"));
        assertEquals(Optional.of(new ProjectDetector.Remote("codeberg.org", true, 22)),
                ProjectDetector.remote("\"git@codeberg.org:o/r.git\""));
        // Plain http, files, local paths, IP addresses and names that are not plain host names are left out.
        for (String url : List.of("http://github.com/o/r", "file:///srv/r.git", "/srv/r.git", "../r.git",
                "https://10.0.0.1/r.git", "git@[::1]:r.git", "https://local/r.git", "https://evil\u001b]0;x\u0007.com/r",
                "https://a..b.com/r", "https://-x.example.com/r")) {
            assertEquals(Optional.empty(), ProjectDetector.remote(url), url);
        }
    }

    /** The workspace is the agent's: a .git that is a link, or a config that is one, leads nowhere. */
    @Test
    void linksInTheWorkspaceAreNotFollowed() throws IOException {
        Path elsewhere = Files.createDirectories(dir.resolveSibling(dir.getFileName() + "-elsewhere"));
        try {
            Files.createDirectories(elsewhere.resolve(".git"));
            Files.writeString(elsewhere.resolve(".git/config"), "[remote \"o\"]\n\turl = https://exfil.example.com/x\n");
            Files.createSymbolicLink(dir.resolve(".git"), elsewhere.resolve(".git"));
            assertEquals(List.of(), detect());
            Files.delete(dir.resolve(".git"));
            Files.createDirectories(dir.resolve(".git"));
            Files.createSymbolicLink(dir.resolve(".git/config"), elsewhere.resolve(".git/config"));
            assertEquals(List.of(), detect());
            // Control: the same file in place is read.
            Files.delete(dir.resolve(".git/config"));
            Files.copy(elsewhere.resolve(".git/config"), dir.resolve(".git/config"));
            assertEquals(List.of(new ProjectDetector.Finding(".git remote exfil.example.com", List.of("exfil.example.com"))),
                    detect());
        } finally {
            dev.claudecage.host.Directories.deleteRecursively(elsewhere);
        }
    }

    @Test
    void aGitConfigTooLargeToBeAConfigIsRefused() throws IOException {
        git("#".repeat(ProjectDetector.GIT_CONFIG_LIMIT + 1));
        org.junit.jupiter.api.Assertions.assertThrows(IOException.class, this::detect);
    }
}
