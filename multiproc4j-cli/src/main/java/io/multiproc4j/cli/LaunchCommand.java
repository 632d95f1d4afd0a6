package io.multiproc4j.cli;

import io.multiproc4j.cluster.Launcher;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code multiproc launch}: starts a worker on every host of a hosts file over SSH, runs the
 * program with the members handed to it ({@code ClusterConfig.fromEnvironment()}), and stops every
 * worker when it ends. Exit code: the program's, or 1 when the workers could not be started.
 */
@Command(name = "launch", mixinStandardHelpOptions = true,
        description = "Starts cluster workers on the hosts over SSH (the system ssh, batch mode), runs 'java JVM-ARGS' "
                + "with the members in -Dmultiproc4j.cluster.members and the key in a private file, then stops the workers.")
final class LaunchCommand implements Callable<Integer> {
    @Option(names = "--hosts", required = true, description = "One 'host [workers] [user@]' line per host.")
    Path hosts;

    @Option(names = "-n", defaultValue = "0", description = "At most this many workers in all (default: every line's).")
    int total;

    @Option(names = "--ssh-port", defaultValue = "22", description = "The hosts' SSH port (default: ${DEFAULT-VALUE}).")
    int sshPort;

    @Option(names = "--identity", description = "The private key for ssh -i.")
    Path identity;

    @Option(names = "--ssh-option", description = "An ssh -o option (repeatable), e.g. StrictHostKeyChecking=accept-new.")
    List<String> sshOptions = new ArrayList<>();

    @Option(names = "--port", defaultValue = "5701", description = "Member port of the first host; the i-th line gets PORT + i.")
    int port;

    @Option(names = "--remote-java", description = "The java to run on the hosts (default: this JVM's path).")
    String remoteJava;

    @Option(names = "--remote-class-path", description = "The class path on the hosts (default: this JVM's).")
    String remoteClassPath;

    @Parameters(paramLabel = "JVM-ARGS", arity = "1..*", description = "After --: JVM options and the program, e.g. -- -cp app.jar com.example.Main")
    List<String> jvmArgs = new ArrayList<>();

    @Override
    public Integer call() {
        Launcher launcher;
        try {
            launcher = Launcher.forHosts(Launcher.readHosts(hosts, total)).sshPort(sshPort).basePort(port);
            if (identity != null) {
                launcher.identity(identity);
            }
            sshOptions.forEach(launcher::sshOption);
            if (remoteJava != null) {
                launcher.remoteJava(remoteJava);
            }
            if (remoteClassPath != null) {
                launcher.remoteClassPath(remoteClassPath);
            }
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        return launcher.run(jvmArgs, System.err);
    }
}
