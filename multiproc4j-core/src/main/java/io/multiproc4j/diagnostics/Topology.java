package io.multiproc4j.diagnostics;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * The CPUs this process may use, and what they are made of: logical CPUs, physical cores, whether
 * simultaneous multithreading (hyper-threading) is on, sockets, NUMA nodes, the CPU set (affinity)
 * and the cgroup CPU quota, with the pool sizes we suggest for CPU-bound and for I/O-bound work.
 *
 * <p>On Linux it reads {@code /sys/devices/system/cpu/cpu*}{@code /topology}, {@code /proc/cpuinfo}
 * as a fallback, {@code /sys/devices/system/node}, {@code /proc/self/status} ({@code
 * Cpus_allowed_list}) and the cgroup v2 {@code cpu.max} (or v1 {@code cpu.cfs_quota_us}). Elsewhere,
 * or where a file is missing, it falls back to what the JVM knows ({@link
 * Runtime#availableProcessors()}) and says so in {@link #source()}.
 * {@snippet :
 * Topology t = Topology.detect();
 * try (Pool pool = Pool.processes(t.suggestedCpuBoundWorkers())) { ... }
 * }
 *
 * @param logicalCpus          logical CPUs online on the machine
 * @param physicalCores        physical cores online on the machine
 * @param sockets              CPU packages
 * @param numaNodes            NUMA nodes (1 where the machine has no NUMA)
 * @param cpuSet               the CPUs this process may run on, as the kernel lists them ("0-3,8")
 * @param cpuSetSize           how many CPUs are in {@code cpuSet}
 * @param cgroupQuotaCpus      the cgroup CPU quota in CPUs (1.5 = one and a half CPUs), or -1 if none
 * @param availableProcessors  what {@link Runtime#availableProcessors()} reports: the JVM's view of
 *                             the CPU set and quota together
 * @param source               where the figures came from, in words
 */
public record Topology(int logicalCpus, int physicalCores, int sockets, int numaNodes, String cpuSet,
                       int cpuSetSize, double cgroupQuotaCpus, int availableProcessors, String source) {

    /** @return the topology of this machine as this process sees it; never fails, falls back instead */
    public static Topology detect() {
        int available = Runtime.getRuntime().availableProcessors();
        Path cpuRoot = Path.of("/sys/devices/system/cpu");
        List<Integer> online = parseCpuList(read(cpuRoot.resolve("online")));
        List<String> sources = new ArrayList<>();
        int logical;
        int physical;
        int sockets;
        if (!online.isEmpty()) {
            logical = online.size();
            Set<String> cores = new HashSet<>();
            Set<String> packages = new HashSet<>();
            for (int cpu : online) {
                Path topo = cpuRoot.resolve("cpu" + cpu).resolve("topology");
                String pkg = read(topo.resolve("physical_package_id"));
                String core = read(topo.resolve("core_id"));
                if (pkg == null || core == null) {
                    cores.clear();
                    break;
                }
                packages.add(pkg);
                cores.add(pkg + ":" + core);
            }
            if (!cores.isEmpty()) {
                physical = cores.size();
                sockets = packages.size();
                sources.add("/sys/devices/system/cpu");
            } else {
                int[] fromCpuinfo = fromCpuinfo();
                physical = fromCpuinfo[0] > 0 ? fromCpuinfo[0] : logical;
                sockets = fromCpuinfo[1] > 0 ? fromCpuinfo[1] : 1;
                sources.add(fromCpuinfo[0] > 0 ? "/proc/cpuinfo" : "logical CPUs only (no core ids found)");
            }
        } else {
            logical = available;
            physical = available;
            sockets = 1;
            sources.add("the JVM only (no /sys/devices/system/cpu)");
        }
        int numa = 1;
        try (var nodes = Files.list(Path.of("/sys/devices/system/node"))) {
            numa = (int) Math.max(1, nodes.filter(p -> p.getFileName().toString().matches("node\\d+")).count());
        } catch (IOException | RuntimeException e) {
            // no NUMA information: one node
        }
        String cpuSet = null;
        String status = read(Path.of("/proc/self/status"));
        if (status != null) {
            for (String line : status.split("\n")) {
                if (line.startsWith("Cpus_allowed_list:")) {
                    cpuSet = line.substring("Cpus_allowed_list:".length()).trim();
                }
            }
        }
        int cpuSetSize = cpuSet == null ? available : parseCpuList(cpuSet).size();
        if (cpuSet == null) {
            cpuSet = "unknown";
        }
        return new Topology(logical, physical, sockets, numa, cpuSet, cpuSetSize, cgroupQuota(), available,
                String.join(", ", sources));
    }

    /** @return logical CPUs per physical core: 2 or more when SMT (hyper-threading) is on */
    public int threadsPerCore() {
        return Math.max(1, logicalCpus / Math.max(1, physicalCores));
    }

    /** @return whether simultaneous multithreading (hyper-threading) is on */
    public boolean smt() {
        return logicalCpus > physicalCores;
    }

    /**
     * CPU-bound work gains little from a core's second hardware thread (the two share execution
     * units), and nothing from more workers than CPUs it may use.
     * @return the pool size we suggest for CPU-bound work: the usable CPUs, capped at the physical
     *     cores when SMT is on
     */
    public int suggestedCpuBoundWorkers() {
        int usable = availableProcessors;
        if (smt()) {
            usable = Math.min(usable, Math.max(1, physicalCores * usable / Math.max(1, logicalCpus)));
        }
        return Math.max(1, usable);
    }

    /**
     * @return the pool size we suggest for blocking I/O work on platform threads: 4 × the usable CPUs
     *     (or virtual threads, which need no size)
     */
    public int suggestedIoBoundWorkers() {
        return Math.max(1, availableProcessors) * 4;
    }

    /** @return a few lines in plain words, as {@code multiproc topology} prints them */
    public String describe() {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "logical CPUs        %d%n", logicalCpus));
        b.append(String.format(Locale.ROOT, "physical cores      %d%n", physicalCores));
        b.append(String.format(Locale.ROOT, "SMT (hyper-thread.) %s%n",
                smt() ? "on, " + threadsPerCore() + " threads per core" : "off (one thread per core)"));
        b.append(String.format(Locale.ROOT, "sockets             %d%n", sockets));
        b.append(String.format(Locale.ROOT, "NUMA nodes          %d%n", numaNodes));
        b.append(String.format(Locale.ROOT, "CPU set (affinity)  %s (%d CPUs)%n", cpuSet, cpuSetSize));
        b.append(String.format(Locale.ROOT, "cgroup CPU quota    %s%n",
                cgroupQuotaCpus < 0 ? "none" : String.format(Locale.ROOT, "%.2f CPUs", cgroupQuotaCpus)));
        b.append(String.format(Locale.ROOT, "JVM may use         %d processors%n", availableProcessors));
        b.append(String.format(Locale.ROOT, "suggested pools     CPU-bound: %d workers; blocking I/O: %d threads"
                + " (or Pool.virtualThreads())%n", suggestedCpuBoundWorkers(), suggestedIoBoundWorkers()));
        b.append(String.format(Locale.ROOT, "source              %s%n", source));
        return b.toString();
    }

    /**
     * @param list a kernel CPU list such as {@code "0-3,8,10-11"}
     * @return the CPU numbers in it, ascending; empty for null or unparsable text
     */
    static List<Integer> parseCpuList(String list) {
        TreeSet<Integer> cpus = new TreeSet<>();
        if (list == null || list.isBlank()) {
            return List.of();
        }
        try {
            for (String part : list.trim().split(",")) {
                String[] range = part.trim().split("-");
                int from = Integer.parseInt(range[0].trim());
                int to = range.length > 1 ? Integer.parseInt(range[1].trim()) : from;
                for (int c = from; c <= to; c++) {
                    cpus.add(c);
                }
            }
        } catch (NumberFormatException e) {
            return List.of();
        }
        return List.copyOf(cpus);
    }

    /** @return {physical cores, sockets} from /proc/cpuinfo, zeros when it does not say */
    private static int[] fromCpuinfo() {
        String info = read(Path.of("/proc/cpuinfo"));
        if (info == null) {
            return new int[] {0, 0};
        }
        Set<String> cores = new HashSet<>();
        Set<String> packages = new HashSet<>();
        String pkg = null;
        for (String line : info.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = line.substring(0, colon).trim();
            String value = line.substring(colon + 1).trim();
            if (key.equals("physical id")) {
                pkg = value;
                packages.add(value);
            } else if (key.equals("core id")) {
                cores.add(pkg + ":" + value);
            }
        }
        return new int[] {cores.size(), packages.size()};
    }

    /** @return the cgroup CPU quota in CPUs, or -1 when there is none */
    private static double cgroupQuota() {
        String v2 = read(Path.of("/sys/fs/cgroup/cpu.max"));
        try {
            if (v2 != null) {
                String[] parts = v2.trim().split("\\s+");
                if (parts.length == 2 && !parts[0].equals("max")) {
                    return Double.parseDouble(parts[0]) / Double.parseDouble(parts[1]);
                }
                return -1;
            }
            String quota = read(Path.of("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"));
            String period = read(Path.of("/sys/fs/cgroup/cpu/cpu.cfs_period_us"));
            if (quota != null && period != null && Long.parseLong(quota.trim()) > 0) {
                return Double.parseDouble(quota.trim()) / Double.parseDouble(period.trim());
            }
        } catch (NumberFormatException e) {
            // unreadable quota: report none
        }
        return -1;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file).trim();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
