package dev.claudecage.session;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProcessIdentityTest {

    @Test
    void statFieldsSurviveSpacesAndParenthesesInTheCommandName() {
        List<String> fields = ProcessIdentity.parseStat("42 (evil) (name x) S 1 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 "
                + "123456 1000 10");
        assertEquals("S", fields.get(0));
        assertEquals("123456", fields.get(19));
    }

    @Test
    void thisProcessIsAliveAndAnotherStartTimeIsNot() {
        ProcessIdentity self = ProcessIdentity.current();
        assertTrue(self.isAlive());
        assertFalse(new ProcessIdentity(self.pid(), self.startTicks() + 1).isAlive(), "a recycled pid must not count");
        assertTrue(self.commandLine().get(0).contains("java"), self.commandLine().toString());
    }

    @Test
    void aSupervisorIsRecognisedByItsMainClassAndName() {
        SessionName name = SessionName.of("brisk-otter");
        assertTrue(HostProbe.isSupervisorCommand(List.of("java", "-Xmx64m", "-cp", "x.jar",
                SupervisorMain.class.getName(), "brisk-otter"), name));
        assertFalse(HostProbe.isSupervisorCommand(List.of("java", "-cp", "x.jar",
                SupervisorMain.class.getName(), "other"), name));
        assertFalse(HostProbe.isSupervisorCommand(List.of("sleep", "brisk-otter"), name));
    }
}
