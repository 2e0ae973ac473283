package dev.shears.cli.experiment;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The files that hand a sweep's workers to a scheduler: a Slurm array batch script (N workers,
 * each {@code --shard auto}, threads from the allocation), the report job's script, and a
 * Kubernetes Indexed Job manifest (completions = parallelism = N, the folder on a
 * PersistentVolumeClaim). Text only: {@link SubmitCommand} writes and submits them. Pinned by
 * SubmitTest (the content) and SlurmSweepIT (a real Slurm runs them).
 */
final class SchedulerFiles {
    private SchedulerFiles() {}

    /** What both Slurm scripts need. {@code launcher} starts shears on a compute node (words of a command). */
    record Slurm(String jobName, String workdir, String outDir, List<String> launcher, String partition, String time, int cpusPerTask, String mem,
                 String account, List<String> sbatchArgs) {}

    /** The array job: N workers on the shared folder. */
    static String sweepScript(Slurm s, int workers, List<String> workerArgs) {
        StringBuilder b = new StringBuilder("#!/bin/bash\n");
        b.append("# Written by shears experiment submit: ").append(workers).append(" workers of one sweep, each claiming items in ").append(s.outDir()).append(".\n");
        b.append("# Submitting again resumes (finished items are skipped). Follow: shears experiment status --out ").append(s.outDir()).append('\n');
        b.append("#SBATCH --job-name=").append(s.jobName()).append('\n');
        b.append("#SBATCH --array=0-").append(workers - 1).append('\n');
        b.append("#SBATCH --output=").append(s.outDir()).append("/slurm/worker-%A_%a.out\n");
        common(b, s, s.cpusPerTask());
        b.append("set -euo pipefail\n");
        b.append("threads=${SLURM_CPUS_PER_TASK:-").append(s.cpusPerTask()).append("}\n");
        b.append("echo \"shears worker ${SLURM_ARRAY_TASK_ID} of ${SLURM_ARRAY_TASK_COUNT} on $(hostname), ${threads} threads, job ${SLURM_ARRAY_JOB_ID}\"\n");
        List<String> cmd = new ArrayList<>(s.launcher());
        cmd.addAll(workerArgs);
        b.append("exec ").append(shellWords(cmd)).append(" --threads \"$threads\"\n");
        return b.toString();
    }

    /** The report job: merges what the workers finished, after the array ends (the dependency is given to sbatch). */
    static String reportScript(Slurm s) {
        StringBuilder b = new StringBuilder("#!/bin/bash\n");
        b.append("# Written by shears experiment submit: merges the workers' results once the array has ended (--dependency=afterany).\n");
        b.append("#SBATCH --job-name=").append(s.jobName()).append("-report\n");
        b.append("#SBATCH --output=").append(s.outDir()).append("/slurm/report-%j.out\n");
        common(b, s, 1);
        b.append("set -euo pipefail\n");
        List<String> cmd = new ArrayList<>(s.launcher());
        cmd.addAll(List.of("experiment", "report", "--out", s.outDir()));
        b.append(shellWords(cmd)).append('\n');
        b.append("exec ").append(shellWords(s.launcher())).append(" experiment status --out ").append(shellWord(s.outDir())).append('\n');
        return b.toString();
    }

    private static void common(StringBuilder b, Slurm s, int cpus) {
        b.append("#SBATCH --chdir=").append(s.workdir()).append('\n');
        b.append("#SBATCH --cpus-per-task=").append(cpus).append('\n');
        b.append("#SBATCH --ntasks=1\n");
        if (s.partition() != null) b.append("#SBATCH --partition=").append(s.partition()).append('\n');
        if (s.time() != null) b.append("#SBATCH --time=").append(s.time()).append('\n');
        if (s.mem() != null) b.append("#SBATCH --mem=").append(s.mem()).append('\n');
        if (s.account() != null) b.append("#SBATCH --account=").append(s.account()).append('\n');
        for (String a : s.sbatchArgs()) b.append("#SBATCH ").append(a).append('\n');
    }

    /** What the Kubernetes manifest needs. */
    record Kube(String name, String image, String pvc, String mountPath, List<String> command, int cpus, String memory, String namespace) {}

    /** An Indexed Job: N pods, each one worker with JOB_COMPLETION_INDEX as its shard, the sweep folder on a PVC. */
    static String k8sJob(Kube k, int workers, List<String> workerArgs) {
        StringBuilder b = new StringBuilder();
        b.append("# Written by shears experiment submit --scheduler k8s: ").append(workers).append(" workers of one sweep on the volume claim ").append(k.pvc()).append(".\n");
        b.append("# Apply with: kubectl apply -f THIS_FILE; follow with kubectl get pods -l job-name=").append(k.name()).append("\n");
        b.append("apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: ").append(k.name()).append('\n');
        if (k.namespace() != null) b.append("  namespace: ").append(k.namespace()).append('\n');
        b.append("  labels:\n    app: shears-sweep\n");
        b.append("spec:\n");
        b.append("  completionMode: Indexed\n");
        b.append("  completions: ").append(workers).append('\n');
        b.append("  parallelism: ").append(workers).append('\n');
        b.append("  backoffLimit: ").append(2 * workers).append('\n');
        b.append("  template:\n    metadata:\n      labels:\n        app: shears-sweep\n    spec:\n");
        b.append("      restartPolicy: OnFailure\n");
        b.append("      containers:\n      - name: worker\n");
        b.append("        image: ").append(yaml(k.image())).append('\n');
        b.append("        workingDir: ").append(yaml(k.mountPath())).append('\n');
        b.append("        command:\n");
        for (String c : k.command()) b.append("        - ").append(yaml(c)).append('\n');
        b.append("        args:\n");
        for (String a : workerArgs) b.append("        - ").append(yaml(a)).append('\n');
        b.append("        - ").append(yaml("--shard-count")).append('\n').append("        - ").append(yaml(Integer.toString(workers))).append('\n');
        b.append("        - ").append(yaml("--threads")).append('\n').append("        - ").append(yaml(Integer.toString(k.cpus()))).append('\n');
        b.append("        env:\n        - name: SHEARS_SHARD_COUNT\n          value: ").append(yaml(Integer.toString(workers))).append('\n');
        b.append("        resources:\n");
        for (String kind : List.of("requests", "limits")) {
            b.append("          ").append(kind).append(":\n            cpu: ").append(yaml(Integer.toString(k.cpus()))).append('\n');
            if (k.memory() != null) b.append("            memory: ").append(yaml(k.memory())).append('\n');
        }
        b.append("        volumeMounts:\n        - name: sweep\n          mountPath: ").append(yaml(k.mountPath())).append('\n');
        b.append("      volumes:\n      - name: sweep\n        persistentVolumeClaim:\n          claimName: ").append(yaml(k.pvc())).append('\n');
        return b.toString();
    }

    /** Slurm's memory sizes (4G, 500M) as Kubernetes quantities (4Gi, 500Mi); others as given. */
    static String kubeMemory(String mem) {
        if (mem == null) return null;
        String m = mem.trim();
        if (m.matches("\\d+[KMGT]")) return m + "i";
        if (m.matches("\\d+")) return m + "Mi"; // Slurm's unit is megabytes
        return m;
    }

    /** A DNS-1123 name (lower case, digits, '-', at most 63 characters) for a Job. */
    static String kubeName(String s) {
        String n = s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]+", "-").replaceAll("-+", "-").replaceAll("^-|-$", "");
        if (n.length() > 63) n = n.substring(0, 63).replaceAll("-$", "");
        return n.isEmpty() ? "shears-sweep" : n;
    }

    /** The command that started this JVM, as words: java, its options, the class path and the main class. */
    static List<String> thisJava() {
        List<String> w = new ArrayList<>();
        w.add(ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java"));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("-agentlib:jdwp") || a.startsWith("-javaagent:") || a.startsWith("-Dsun.java.command")) continue; // debuggers and coverage agents stay here
            w.add(a);
        }
        w.add("-cp");
        w.add(System.getProperty("java.class.path"));
        w.add("dev.shears.cli.Main");
        return w;
    }

    static String shellWords(List<String> words) {
        return String.join(" ", words.stream().map(SchedulerFiles::shellWord).toList());
    }

    /** One word for bash: bare when safe, else in single quotes. */
    static String shellWord(String w) {
        if (!w.isEmpty() && w.matches("[A-Za-z0-9_./:=@%+,-]+")) return w;
        return "'" + w.replace("'", "'\\''") + "'";
    }

    /** A YAML scalar, always double-quoted (no surprises with 0.5, yes, 1e3, @). */
    static String yaml(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
