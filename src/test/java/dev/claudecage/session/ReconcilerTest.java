package dev.claudecage.session;

import dev.claudecage.process.ProcessRunner;
import dev.claudecage.runtime.StatePaths;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReconcilerTest {

    private static final String ID = "s-alpha-0123456789ab";
    private static final ProcessIdentity SUPERVISOR = new ProcessIdentity(4242, 99);

    /** The host as a test wants it. */
    static final class FakeHost extends HostProbe {
        boolean supervisorAlive;
        String bootId = "boot-1";
        List<RuntimeContainer> containers = new ArrayList<>();
        List<Long> cgroupProcesses = new ArrayList<>();

        FakeHost() {
            super(new StatePaths(Path.of("/nonexistent/runtime"), Path.of("/nonexistent/runs")), new ProcessRunner(false));
        }

        @Override
        public List<RuntimeContainer> containers() {
            return containers;
        }

        @Override
        public Optional<RuntimeContainer> container(String id) {
            return containers.stream().filter(container -> container.id().equals(id)).findFirst();
        }

        @Override
        public List<Long> cgroupProcesses(String containerId) {
            return cgroupProcesses;
        }

        @Override
        public String bootId() {
            return bootId;
        }

        @Override
        public boolean isSupervisor(ProcessIdentity identity, SessionName name) {
            return supervisorAlive && SUPERVISOR.equals(identity);
        }
    }

    private static SessionRecord running() {
        return SessionStoreTest.record("alpha").starting(ID, new ProcessIdentity(1, 1), "boot-1", Instant.now(), 0, 0)
                .supervisedBy(SUPERVISOR).withStatus(SessionStatus.RUNNING);
    }

    @Test
    void aLiveSupervisorsRecordIsTheTruth() {
        FakeHost host = new FakeHost();
        host.supervisorAlive = true;
        host.containers.add(new RuntimeContainer("runc", ID, 77, "running"));
        SessionView view = new Reconciler(host).view(running());
        assertEquals(SessionStatus.RUNNING, view.status());
        assertTrue(view.live());
        assertFalse(view.stale());
        assertNull(view.problem());
        assertEquals(77, view.container().pid());
    }

    @Test
    void aDeadSupervisorMeansCrashedAndAnyCageLeftIsOrphaned() {
        FakeHost host = new FakeHost();
        host.containers.add(new RuntimeContainer("runc", ID, 77, "running"));
        SessionView view = new Reconciler(host).view(running());
        assertEquals(SessionStatus.CRASHED, view.status());
        assertEquals("crashed", view.stateWord());
        assertTrue(view.stale());
        assertTrue(view.orphaned());
        assertTrue(view.problem().contains("supervisor (pid 4242) died"), view.problem());
        assertTrue(view.problem().contains("claude-cage destroy alpha"), view.problem());
    }

    @Test
    void processesLeftInTheCgroupCountAsOrphanedEvenWithoutRuntimeState() {
        FakeHost host = new FakeHost();
        host.cgroupProcesses.add(555L);
        SessionView view = new Reconciler(host).view(running());
        assertEquals(SessionStatus.CRASHED, view.status());
        assertTrue(view.orphaned());
    }

    @Test
    void aRestartedHostMeansStopped() {
        FakeHost host = new FakeHost();
        host.bootId = "boot-2";
        SessionView view = new Reconciler(host).view(running());
        assertEquals(SessionStatus.STOPPED, view.status());
        assertEquals("the host restarted while it ran", view.problem());
    }

    @Test
    void aSessionBeingLaunchedIsLiveWhileItsLauncherIs() {
        FakeHost host = new FakeHost();
        SessionRecord starting = SessionStoreTest.record("alpha").starting(ID, ProcessIdentity.current(), "boot-1",
                Instant.now(), 0, 0);
        Reconciler reconciler = new Reconciler(host);
        assertEquals(SessionStatus.STARTING, reconciler.view(starting).status());
        assertTrue(reconciler.isLive(starting));
        SessionRecord abandoned = SessionStoreTest.record("alpha").starting(ID, new ProcessIdentity(1, 12345), "boot-1",
                Instant.now(), 0, 0);
        assertEquals(SessionStatus.CRASHED, reconciler.view(abandoned).status());
        assertFalse(reconciler.isLive(abandoned));
    }

    @Test
    void anEndedSessionKeepsItsExitCode() {
        FakeHost host = new FakeHost();
        SessionRecord exited = running().ended(SessionStatus.EXITED, 3, null, Instant.now());
        SessionView view = new Reconciler(host).view(exited);
        assertEquals("exited(3)", view.stateWord());
        assertFalse(view.stale());
        SessionRecord corrected = Reconciler.corrected(new Reconciler(host).view(running()), Instant.now());
        assertEquals(SessionStatus.CRASHED, corrected.status());
        assertTrue(corrected.problem().contains("died"));
    }
}
