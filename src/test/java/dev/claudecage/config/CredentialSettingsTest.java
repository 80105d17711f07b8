package dev.claudecage.config;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** git_credentials, git_ca_certificates and the ssh_agent keys: what they accept, and what they refuse and why. */
class CredentialSettingsTest {

    @TempDir
    Path dir;

    private ConfigFixture fixture;

    @BeforeEach
    void setUp() {
        fixture = new ConfigFixture(dir);
    }

    private CredentialSettings load(String yaml) {
        return fixture.user(yaml).load().config().egress().credentials();
    }

    @Test
    void byDefaultNoTokensAndNoAgent() {
        CredentialSettings credentials = fixture.load().config().egress().credentials();
        assertEquals(List.of(), credentials.git());
        assertNull(credentials.gitCaCertificates());
        assertFalse(credentials.sshAgent());
        assertEquals(List.of(), credentials.sshAgentHosts());
    }

    @Test
    void aCommandIsSplitIntoWordsAndAFileMustExist() throws Exception {
        Path token = Files.writeString(dir.resolve("token"), "t0ken\n");
        CredentialSettings credentials = load("git_credentials:\n  - 'GitHub.com=command: gh  auth token'\n"
                + "  - me@git.example.com=file:" + token + "\n");
        assertEquals(new GitCredential("github.com", GitCredential.DEFAULT_USER, List.of("gh", "auth", "token"), null),
                credentials.git().get(0));
        assertEquals(new GitCredential("git.example.com", "me", List.of(), token.toRealPath()), credentials.git().get(1));
        assertEquals("me@git.example.com=file:" + token.toRealPath(), credentials.git().get(1).format());
        assertEquals("command gh", credentials.git().get(0).sourceDescription());
    }

    @Test
    void badGitCredentialsSayWhatIsWrong() {
        assertTrue(fixture.user("git_credentials: ['github.com']\n").loadError()
                .contains("git_credentials: 'github.com' is not HOST=SOURCE"));
        assertTrue(fixture.user("git_credentials: ['*.github.com=command:gh auth token']\n").loadError()
                .contains("which is not a plain host name"));
        assertTrue(fixture.user("git_credentials: ['github.com=gh auth token']\n").loadError()
                .contains("neither command:... nor file:..."));
        assertTrue(fixture.user("git_credentials: ['github.com=command:  ']\n").loadError().contains("an empty command"));
        assertTrue(fixture.user("git_credentials: ['github.com=file:token']\n").loadError()
                .contains("a relative token file path"));
        assertTrue(fixture.user("git_credentials: ['github.com=file:/nonexistent/token']\n").loadError()
                .contains("does not exist"));
        assertTrue(fixture.user("git_credentials: ['github.com=command:a', 'GITHUB.com=command:b']\n").loadError()
                .contains("names github.com a second time"));
        assertTrue(fixture.user("git_credentials: ['a b@github.com=command:a']\n").loadError().contains("has user 'a b'"));
    }

    @Test
    void caCertificatesMustBeAnAbsoluteExistingFile() throws Exception {
        Path pem = Files.writeString(dir.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\n");
        assertEquals(pem.toRealPath(), load("git_ca_certificates: " + pem + "\n").gitCaCertificates());
        assertTrue(fixture.user("git_ca_certificates: ca.pem\n").loadError().contains("is not an absolute path"));
        assertTrue(fixture.user("git_ca_certificates: " + dir + "\n").loadError().contains("is not a regular file"));
    }

    @Test
    void sshAgentHostsArePlainNamesAndKnownHostsAbsolutePaths() {
        CredentialSettings credentials = load("ssh_agent: true\nssh_agent_hosts: [GitHub.com]\n"
                + "ssh_known_hosts: ['~/.ssh/known_hosts', /etc/ssh/ssh_known_hosts]\n");
        assertTrue(credentials.sshAgent());
        assertEquals(List.of("github.com"), credentials.sshAgentHosts());
        assertEquals(Path.of(System.getProperty("user.home"), ".ssh/known_hosts"), credentials.sshKnownHosts().get(0));
        assertTrue(fixture.user("ssh_agent_hosts: ['github.com:22']\n").loadError().contains("is not a plain host name"));
        assertTrue(fixture.user("ssh_known_hosts: [known_hosts]\n").loadError().contains("is not an absolute path"));
    }
}
