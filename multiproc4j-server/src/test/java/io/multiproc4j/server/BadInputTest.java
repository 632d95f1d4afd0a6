package io.multiproc4j.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class BadInputTest {
    @AfterEach
    void nothingLeftBehind() throws IOException {
        assertThat(ProcessHandle.current().children().filter(ProcessHandle::isAlive).toList())
                .as("worker JVMs left running").isEmpty();
        assertThat(ourDirectories()).as("supervisor directories left").isEmpty();
    }

    private static List<Path> ourDirectories() throws IOException {
        List<Path> found = new ArrayList<>();
        String prefix = "multiproc4j-server-" + ProcessHandle.current().pid() + "-";
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(Path.of(System.getProperty("java.io.tmpdir")), prefix + "*")) {
            dirs.forEach(found::add);
        }
        return found;
    }

    @Test
    void missingClass_isNamedAtStart() {
        assertThatThrownBy(() -> Supervisor.builder().http("com.example.NoSuchHandler").model(WorkerModel.prefork(1)).log(l -> { }).start())
                .isInstanceOf(ServerStartException.class)
                .hasMessageContaining("com.example.NoSuchHandler not found");
    }

    @Test
    void classThatIsNotAHandler_isNamedAtStart() {
        assertThatThrownBy(() -> Supervisor.builder().http(TestApps.NotAnApp.class.getName()).model(WorkerModel.prefork(1)).log(l -> { }).start())
                .isInstanceOf(ServerStartException.class)
                .hasMessageContaining("does not implement com.sun.net.httpserver.HttpHandler");
    }

    @Test
    void constructorThatThrows_isReportedWithItsCause() {
        assertThatThrownBy(() -> Supervisor.builder().http(TestApps.Exploding.class).model(WorkerModel.prefork(2)).log(l -> { }).start())
                .isInstanceOf(ServerStartException.class)
                .hasMessageContaining("the constructor of " + TestApps.Exploding.class.getName() + " threw")
                .hasMessageContaining("no database configured");
    }

    @ParameterizedTest
    @EnumSource(PortSharing.class)
    void portInUse_isNamedAtStart(PortSharing sharing) throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            assertThatThrownBy(() -> Supervisor.builder().http(TestApps.Hello.class).sharing(sharing)
                    .port(taken.getLocalPort()).model(WorkerModel.prefork(1)).log(l -> { }).start())
                    .isInstanceOf(ServerStartException.class)
                    .hasMessageContaining("port " + taken.getLocalPort() + " on 127.0.0.1 is in use");
        }
    }

    @Test
    void bindAddressThatIsNotLocal_isRefused() {
        assertThatThrownBy(() -> Supervisor.builder().http(TestApps.Hello.class).bindAddress("192.0.2.1").log(l -> { }).start())
                .isInstanceOf(ServerStartException.class)
                .hasMessageContaining("192.0.2.1")
                .hasMessageContaining("not an address of this machine");
    }

    @Test
    void minGreaterThanMax_isRefusedWhereItIsGiven() {
        assertThatThrownBy(() -> WorkerModel.hybrid(3, 2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("min (3) is greater than max (2)");
    }

    @Test
    void acceptorWithAnAppOfItsOwn_isRefused() {
        assertThatThrownBy(() -> Supervisor.builder().app(TestApps.RawApp.class).sharing(PortSharing.ACCEPTOR).log(l -> { }).start())
                .isInstanceOf(ServerStartException.class)
                .hasMessageContaining("ACCEPTOR")
                .hasMessageContaining("http(handler)");
    }

    @Test
    void noApplication_isRefused() {
        assertThatThrownBy(() -> Supervisor.builder().start())
                .isInstanceOf(ServerStartException.class)
                .hasMessageContaining("app(");
    }

    @Test
    void portIsFreeAgainAfterClose() throws IOException {
        int port;
        try (Supervisor server = Supervisor.builder().http(TestApps.Hello.class).sharing(PortSharing.SHARED_SOCKET)
                .model(WorkerModel.prefork(1)).log(l -> { }).start()) {
            port = server.port();
        }
        try (ServerSocket again = new ServerSocket()) {
            again.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            assertThat(again.getLocalPort()).isEqualTo(port);
        }
    }
}
